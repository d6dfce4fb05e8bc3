#!/usr/bin/env bash
# Reproduces the README's "Results on the emoji set": the three tokenizer runs, the token cache, the three
# priors (equal step counts, so the comparison does not depend on the machine's load), every figure
# and the comparison table. About 70 minutes on an idle 2-core CPU adapter (lavapipe); a GPU is far
# faster. Usage: bash examples/emoji-results.sh [RUNS_DIR]   (default runs/results)
set -euo pipefail
cd "$(dirname "$0")/.."
node build.mjs >/dev/null
V="node dist/node/cli.mjs"
R=${1:-runs/results}
mkdir -p "$R"
# A rerun continues each run where it stopped (a finished one is skipped by its own step count).
resume() { [ -f "$1/latest.json" ] && echo --resume || true; }
TOK="--data emoji --preset vqgan --codebook 256 --width 16 --batch 16 --lr 1e-3 --checkpoint-every 250 --figure-every 250"
$V train-tokenizer $TOK --size 32 --grid 8 --steps 1000 --schedule-steps 1000 --out "$R/tok32" $(resume "$R/tok32")
$V eval-tokenizer --run "$R/tok32" --json
# The PSNR recipe (train-tokenizer's defaults): ten minutes toward the tokenizer aim's metric (no discriminator).
$V train-tokenizer --data emoji --minutes 10 --out "$R/tok32-psnr" $(resume "$R/tok32-psnr")
$V eval-tokenizer --run "$R/tok32-psnr" --json
$V eval-tokenizer --run "$R/tok32-psnr" --split train --json   # the generalisation gap
$V train-tokenizer $TOK --size 64 --grid 16 --steps 300 --schedule-steps 300 --out "$R/tok64" $(resume "$R/tok64")
$V eval-tokenizer --run "$R/tok64" --json

T=$R/tok32
K=$R/tokens32.bin
$V encode --run "$T" --out "$K"
P="--layers 3 --dim 128 --heads 4 --batch 32 --lr 2e-3 --warmup 50 --steps 250 --schedule-steps 250 --eval-every 100"
for k in ar diffusion mask; do $V train-prior --kind $k --tokens "$K" $P --out "$R/$k" $(resume "$R/$k"); done
for k in ar diffusion mask; do $V eval-prior --prior "$R/$k" --tokens "$K" --json; done

S="--tokenizer $T --n 9 --seed 1"
$V sample $S --prior "$R/ar" --out "$R/ar-samples.png"
$V sample $S --prior "$R/ar" --prefix-rows 4 --tokens "$K" --out "$R/ar-half.png"
$V sample $S --prior "$R/ar" --prefix-rows 2 --tokens "$K" --out "$R/ar-quarter.png"
$V sample $S --prior "$R/ar" --prefix-tokens 1 --tokens "$K" --out "$R/ar-first.png"
for ext in png gif; do
  $V sample $S --prior "$R/diffusion" --steps 24 --temperature 0.7 --out "$R/diffusion.$ext"
  $V sample $S --prior "$R/mask" --steps 12 --out "$R/mask.$ext"
done
$V train-classifier --data emoji --size 32 --minutes 5 --out "$R/classifier" $(resume "$R/classifier")   # the features compare scores in
$V compare --tokenizer "$T" --classifier "$R/classifier" --priors "$R/ar,$R/diffusion,$R/mask" --tokens "$K" --n 128 --steps 16 --out "$R/compare.png"
