#!/usr/bin/env bash
# Trains the reference models shipped under models/: for each grid (emoji-32: 32×32 → 8×8 tokens;
# emoji-64: 64×64 → 16×16, the seed's grid) the emoji-category classifier that `eval-samples`
# measures in, the tokenizer, and four class-conditional priors (AR, the seed's diffusion, its D3PM
# variant with a weight average, mask).
# Usage: bash examples/reference-models.sh [RUNS_DIR]
#   RUNS_DIR  where the run folders go (default runs/reference); a stage interrupted resumes when
#             the script runs again; a finished one (marked RUN/complete) is skipped
# Environment (defaults: what the shipped models were trained with, per grid as "32-px / 64-px";
# models/README.md names the machine and the time of each):
#   GRIDS="32"        which models ("32 64": both)
#   TOK_MIN=20 / 55   tokenizer minutes (its learning-rate decay ends where the run stops)
#   DEC_MIN=60 / 0    minutes of the decoder's second stage (`train-tokenizer --encoder-from`: a
#                     deeper decoder trained alone on the tokenizer's frozen encoder and codebook,
#                     so the tokens, the token cache and the priors stay as they are; 0: none)
#   CLS_MIN=3         classifier minutes
#   AR_STEPS=5000 / 2200  DIFFUSION_STEPS=450 / 300  D3PM_STEPS=3000 / 300  MASK_STEPS=2400 / 300
#                     training steps of each prior (the cosine ends there); steps, not minutes,
#                     so that the models do not depend on the machine's speed or load (a 64-px
#                     step sees 4× the tokens of a 32-px one)
#   PRIOR_STEPS       one number of steps for all four instead
#   MIRRORED="ar diffusion-d3pm mask"  the priors that train on the cache with mirrored training
#                     images (tokens.bin, `encode --flip`; guided KID ×10³ of the AR prior 5.2 → 2.7,
#                     D3PM's 19.9 → 5.8 with 3,000 steps, the mask prior's 6.3 → 5.1 with 2,400);
#                     the seed's diffusion on tokens-plain.bin, as the shipped one was
#   PRIOR_MIN=90      a time cap per prior, in minutes, above what the steps take on an idle 2-core
#                     CPU (AR 5,000 steps ≈ 58 min); where it cuts a run, the schedule has not ended
#   PRIOR_BATCH=32    PRIOR_SIZE="--layers 3 --dim 128 --heads 4" (for a CPU's minutes: more
#                     steps of a smaller model beat fewer of a larger one)
#   PARALLEL=1        run independent stages at once: worth it on a GPU, where one process cannot
#                     keep the device busy; on a CPU it only splits the cores
# On a GPU (gpu-measure.sh's reference stage): GRIDS="32 64" TOK_MIN=3 CLS_MIN=1 PRIOR_STEPS=3000
# PRIOR_BATCH=64 PRIOR_MIN=3 PRIOR_SIZE="--layers 4 --dim 160 --heads 5" PARALLEL=1.
# Then `vqgpu export-run --run RUN --out models/emoji-NN/NAME --f16` keeps the weights and config
# (the shipped tokenizer is the decoder stage's run, emoji-32/decoder, when it ran). emoji-64 is not
# shipped: its tokenizer reaches 29.3 dB, but its priors at these steps fall short of the 32-px
# ones (docs/sampling.md, "The 64-px set on a CPU"); a 64-px prior step costs ~4× a 32-px one.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/node/cli.mjs ] || node build.mjs node >/dev/null
V="node dist/node/cli.mjs"
ROOT=${1:-runs/reference}
resume() { [ -f "$1/latest.json" ] && echo --resume || true; }
# stage RUN CMD...: runs CMD (resuming RUN where it has a checkpoint) unless RUN is marked complete.
stage() { local run=$1; shift; [ -f "$run/complete" ] && { echo "$run: complete, skipped" >&2; return 0; }
  "$@" --out "$run" $(resume "$run") && touch "$run/complete"; }
# bg CMD...: in the background when PARALLEL=1, else now; `wait_all` joins (and fails if one failed).
PIDS=()
bg() { if [ "${PARALLEL:-0}" = 1 ]; then "$@" & PIDS+=($!); else "$@"; fi; }
wait_all() { local rc=0; for p in "${PIDS[@]}"; do wait "$p" || rc=1; done; PIDS=(); return $rc; }

# The tokenizer recipe: L2 reconstruction, l2-normalised 8-dimensional codes, a linear decay to 0
# ending where the run stops (docs/tokenizer.md). Patch 2: convolutions run at half the side.
TOK="--codebook 256 --patch 2 --width 32 --res-blocks 2 --enc-res-blocks 1 --lr 2.5e-3 --rec l2 \
  --perceptual 0 --adversarial 0 --code-dim 8 --l2norm --beta 0.5 --schedule-steps auto \
  --schedule linear --lr-final 0 --figure-every 2000"
# Priors: class-conditional (the label dropped for 10% of the items, for guidance); at most 4 × 160
# (six of them fit the 30 MB that models/ may hold, in f16).
PRIOR="--class-cond ${PRIOR_SIZE:---layers 3 --dim 128 --heads 4} --lr 2e-3 --warmup 30 --dropout 0.1 --eval-every 250"

stage1() { # SIDE GRID BATCH: classifier and tokenizer of one grid
  local R=$ROOT/emoji-$1
  mkdir -p "$R"
  bg stage "$R/classifier" $V train-classifier --data emoji --size "$1" --minutes "${CLS_MIN:-3}"
  bg stage "$R/tokenizer" $V train-tokenizer --data emoji --size "$1" --grid "$2" --batch "$3" $TOK --minutes "${TOK_MIN:-$(pick "$1" 20 55)}"
}
stage2() { # SIDE: encode, then the decoder's second stage and the four priors of one grid
  local R=$ROOT/emoji-$1
  $V eval-tokenizer --run "$R/tokenizer" --json
  # tokens.bin (shipped): every training image also mirrored (`encode --flip`), twice the grids; the
  # priors named in MIRRORED train on it, the others on tokens-plain.bin (no mirrors), as shipped.
  [ -f "$R/tokens.bin" ] || $V encode --run "$R/tokenizer" --flip --out "$R/tokens.bin"
  [ -f "$R/tokens-plain.bin" ] || $V encode --run "$R/tokenizer" --out "$R/tokens-plain.bin"
  # Same tokens: the priors may train on the cache while the decoder trains (PARALLEL=1).
  local dec=${DEC_MIN:-$(pick "$1" 60 0)}
  [ "$dec" = 0 ] || bg stage "$R/decoder" $V train-tokenizer --encoder-from "$R/tokenizer" --res-blocks 4 --lr 1e-3 \
    --figure-every 4000 --minutes "$dec"
  for k in ar diffusion diffusion-d3pm mask; do
    local steps kind=$k extra=""
    case $k in ar) steps=${AR_STEPS:-$(pick "$1" 5000 2200)};; diffusion) steps=${DIFFUSION_STEPS:-$(pick "$1" 450 300)};;
      diffusion-d3pm) steps=${D3PM_STEPS:-$(pick "$1" 3000 300)}; kind=diffusion; extra="--noise d3pm --ema 0.999";;
      mask) steps=${MASK_STEPS:-$(pick "$1" 2400 300)};; esac
    local cache=$R/tokens-plain.bin; [[ " ${MIRRORED:-ar diffusion-d3pm mask} " == *" $k "* ]] && cache=$R/tokens.bin
    bg stage "$R/$k" $V train-prior --kind "$kind" $extra --tokens "$cache" $PRIOR --batch "${PRIOR_BATCH:-32}" \
      --steps "${PRIOR_STEPS:-$steps}" --minutes "${PRIOR_MIN:-90}"
  done
}
has() { [[ " ${GRIDS:-32} " == *" $1 "* ]]; }
# pick SIDE DEFAULT32 DEFAULT64: a per-grid default (an environment value, where set, overrides both).
pick() { if [ "$1" = 32 ]; then echo "$2"; else echo "$3"; fi; }

has 32 && stage1 32 8 8
has 64 && stage1 64 16 8
wait_all
has 32 && stage2 32
has 64 && stage2 64
wait_all
for g in 32 64; do
  has $g || continue
  [ -d "$ROOT/emoji-$g/decoder" ] && $V eval-tokenizer --run "$ROOT/emoji-$g/decoder" --json
  for k in ar diffusion diffusion-d3pm mask; do bg $V eval-prior --prior "$ROOT/emoji-$g/$k" --tokens "$ROOT/emoji-$g/tokens.bin" --json; done
done
wait_all
