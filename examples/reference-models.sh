#!/usr/bin/env bash
# Trains the reference models shipped under models/emoji-32/: the PSNR tokenizer (32×32 → 8×8, 256
# codes), three class-conditional priors (AR, the seed's diffusion, mask) on its tokens, and the
# emoji-category classifier that `eval-samples` measures in.
# Usage: bash examples/reference-models.sh [RUNS_DIR] [SCALE]
#   RUNS_DIR  where the run folders go (default runs/reference); each stage resumes when run again
#   SCALE     multiplies the tokenizer's and classifier's time budgets (default 1: the budgets below
#             are for a GPU; the shipped models were trained with SCALE=1 on an NVIDIA H200, see
#             docs/gpu.md; a 2-core CPU adapter needs SCALE=12 for the same steps); the priors
#             train a fixed number of steps
# Then `bash examples/ship-models.sh RUNS_DIR` copies the weights (no optimizer state) to models/.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/node/cli.mjs ] || node build.mjs node >/dev/null
V="node dist/node/cli.mjs"
R=${1:-runs/reference}/emoji-32
S=${2:-1}
mins() { awk -v m="$1" -v s="$S" 'BEGIN { print m * s }'; }
resume() { [ -f "$1/latest.json" ] && echo --resume || true; }
mkdir -p "$R"

# The classifier whose features eval-samples scores in (never the tokenizer or a prior: a model must
# not judge itself).
$V train-classifier --data emoji --size 32 --minutes "$(mins 0.5)" --out "$R/classifier" $(resume "$R/classifier")

# Tokenizer: the PSNR recipe (README), its linear decay ending where the run stops.
$V train-tokenizer --data emoji --size 32 --grid 8 --codebook 256 --patch 2 --width 32 --res-blocks 2 \
  --enc-res-blocks 1 --batch 8 --lr 2.5e-3 --rec l2 --perceptual 0 --adversarial 0 --code-dim 8 --l2norm \
  --beta 0.5 --schedule-steps auto --schedule linear --lr-final 0 \
  --minutes "$(mins 1.5)" --out "$R/tokenizer" $(resume "$R/tokenizer")
$V eval-tokenizer --run "$R/tokenizer" --json
$V encode --run "$R/tokenizer" --out "$R/tokens.bin"

# Priors: class-conditional (the label dropped for 10% of the items, for guidance), 4 × 192.
# A fixed number of steps (about a minute each on the H200), so that any machine trains the same model.
P="--class-cond --layers 4 --dim 192 --heads 6 --batch 64 --lr 1e-3 --dropout 0.1 --steps ${PRIOR_STEPS:-1200} --eval-every 500"
for k in ar diffusion mask; do
  $V train-prior --kind "$k" --tokens "$R/tokens.bin" $P --out "$R/$k" $(resume "$R/$k")
  $V eval-prior --prior "$R/$k" --tokens "$R/tokens.bin" --json
done
