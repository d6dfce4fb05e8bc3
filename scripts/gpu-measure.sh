#!/usr/bin/env bash
# `bash scripts/gpu-measure.sh OUTDIR`: every GPU measurement in one call, on a Linux machine with an
# NVIDIA GPU (made for a lent H200 with a 15-minute budget; works on any Vulkan-capable GPU). Writes:
#   OUTDIR/info.json        the WebGPU adapter: vendor, features, limits (`vqgpu info`)
#   OUTDIR/bench.jsonl      `npm run bench -- all --json` (ours, naive and TF.js on the same adapter)
#   OUTDIR/train.json       short training runs: tokenizer images/s and PSNR, prior tokens/s
#   OUTDIR/tests.txt        the kernel tests (vitest, Node project) on this adapter
#   OUTDIR/log.txt          everything the steps printed; OUTDIR/nvidia-smi.txt the GPU's record
# Prerequisites, in order of preference:
#   - Vulkan loader: present, else .gl/*.deb unpacked (see docs/gpu.md), else `apt-get install libvulkan1`;
#   - Node.js ≥ 20 on PATH, else .gpu/node.xz (from `node scripts/gpu-pack.mjs`);
#   - node_modules: present, else .gpu/modules.tar.xz, else `npm ci` (needs the network).
# Each stage has a time limit (seconds; environment): BENCH_S=270 TOK_S=50 SEED_S=30 PRIOR_S=45 TEST_S=90.
# A failing stage is logged and the next one runs: whatever was measured comes back.
# STAGES (default "bench train tests") picks stages; BENCHES (default all) the benches, BENCH_FLAGS
# extra bench flags (e.g. --quick); TESTS the kernel test names (default: every kernel's). The stage
# "reference" trains the reference models (examples/reference-models.sh, its GPU profile) and writes
# their weights as OUTDIR/models.tar.part-* (15 MB pieces: `cat models.tar.part-* | tar -x`).
set -uo pipefail
OUT=${1:?usage: bash scripts/gpu-measure.sh OUTDIR}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
cd "$(dirname "$0")/.."
LOG=$OUT/log.txt
RUNS=${RUNS_DIR:-/tmp/vqgpu-gpu-runs}
log() { echo "[gpu-measure $(date +%T)] $*" | tee -a "$LOG" >&2; }
step() { local lim=$1; shift; log "\$ $* (limit ${lim}s)"; timeout --signal=TERM --kill-after=10 "$lim" "$@" 2>>"$LOG"; local rc=$?; [ $rc -ne 0 ] && log "exit $rc"; return $rc; }
mins() { awk -v s="$1" 'BEGIN { print s / 60 }'; }
unxz_to() { # unxz_to SRC DEST: xz if present, else Python's lzma
  if command -v xz >/dev/null; then xz -dc "$1" >"$2"; else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$1" "$2"; fi
}

# ---- 1. Vulkan loader and the NVIDIA driver's ICD ------------------------------------------------
if ! ldconfig -p | grep -q 'libvulkan.so.1'; then
  if compgen -G '.gl/*.deb' >/dev/null; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig; log 'Vulkan loader unpacked from .gl/'
  elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq libvulkan1 >>"$LOG" 2>&1; log 'Vulkan loader installed (apt)'
  else
    log 'no Vulkan loader (libvulkan.so.1) and no way to install it'; exit 1
  fi
fi
if ! grep -qsl nvidia /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json; do
    [ -f "$icd" ] && { export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd; log "ICD: $icd"; break; }
  done
fi

# ---- 2. Node.js and node_modules ----------------------------------------------------------------
if ! command -v node >/dev/null; then
  [ -f .gpu/node.xz ] || { log 'no node on PATH and no .gpu/node.xz (run `node scripts/gpu-pack.mjs` first)'; exit 1; }
  mkdir -p /tmp/vqgpu-node && unxz_to .gpu/node.xz /tmp/vqgpu-node/node && chmod +x /tmp/vqgpu-node/node
  export PATH=/tmp/vqgpu-node:$PATH; log "node $(node --version) from .gpu/node.xz"
fi
if [ ! -f node_modules/webgpu/package.json ]; then
  if [ -f .gpu/modules.tar.xz ]; then
    mkdir -p node_modules && unxz_to .gpu/modules.tar.xz /tmp/vqgpu-modules.tar && tar -xf /tmp/vqgpu-modules.tar -C node_modules
    rm -f /tmp/vqgpu-modules.tar; log "node_modules from .gpu/modules.tar.xz ($(cat .gpu/PACKED 2>/dev/null))"
  else
    npm ci >>"$LOG" 2>&1 || { log 'npm ci failed'; exit 1; }
  fi
fi
node build.mjs node >>"$LOG" 2>&1 || { log 'build failed'; exit 1; }
V="node dist/node/cli.mjs"

# ---- 3. The record: GPU and adapter -------------------------------------------------------------
command -v nvidia-smi >/dev/null && nvidia-smi -q >"$OUT/nvidia-smi.txt" 2>&1
step 60 $V info >"$OUT/info.json" || { log 'no WebGPU adapter: see log.txt'; exit 1; }
log "adapter: $(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log([r.vendor,r.architecture,r.description].join(" / "))' "$OUT/info.json")"

STAGES=" ${STAGES:-bench train tests} "
has() { [[ $STAGES == *" $1 "* ]]; }

# ---- 4. Bench: every kernel against its peers on this adapter -----------------------------------
if has bench; then
step "${BENCH_S:-270}" node dist/node/bench.mjs ${BENCHES:-all} --json ${BENCH_FLAGS:-} >"$OUT/bench.jsonl"
log "bench: $(wc -l <"$OUT/bench.jsonl") cases"
fi

# ---- 5. Short training runs ---------------------------------------------------------------------
rm -rf "$RUNS" && mkdir -p "$RUNS"
if has train; then
last() { grep -o "$2 [0-9.e+-]*" "$1" | tail -1 | cut -d' ' -f2; }
psnr() { $V eval-tokenizer --run "$1" --json 2>>"$LOG" | tail -1; }
# The README's PSNR recipe (32×32 → 8×8, 256 codes, batch 8) for TOK_S seconds.
step $((${TOK_S:-50} + 60)) $V train-tokenizer --data emoji --size 32 --grid 8 --codebook 256 --patch 2 --width 32 \
  --res-blocks 2 --enc-res-blocks 1 --batch 8 --lr 2.5e-3 --rec l2 --perceptual 0 --adversarial 0 --code-dim 8 --l2norm \
  --beta 0.5 --minutes "$(mins "${TOK_S:-50}")" --schedule-steps auto --schedule linear --lr-final 0 \
  --log-every 100 --out "$RUNS/tok" >"$RUNS/tok.log"
TOK_EVAL=$(psnr "$RUNS/tok")
# The seed's setting: 128×128 images → 16×16 tokens, batch 16, no --patch.
step $((${SEED_S:-30} + 60)) $V train-tokenizer --data emoji --size 128 --grid 16 --codebook 256 --batch 16 \
  --minutes "$(mins "${SEED_S:-30}")" --log-every 10 --out "$RUNS/seed" >"$RUNS/seed.log"
# The AR prior on the PSNR tokenizer's tokens.
step 60 $V encode --run "$RUNS/tok" --out "$RUNS/tokens.bin" >>"$LOG"
step $((${PRIOR_S:-45} + 60)) $V train-prior --kind ar --tokens "$RUNS/tokens.bin" --layers 4 --dim 256 --heads 8 --batch 64 \
  --minutes "$(mins "${PRIOR_S:-45}")" --log-every 50 --out "$RUNS/ar" >"$RUNS/ar.log"
cat "$RUNS"/*.log >>"$LOG"
cp "$RUNS/tok/recon-final.png" "$OUT/tokenizer-recon.png" 2>/dev/null
cat >"$OUT/train.json" <<EOF
{"tokenizer_psnr_recipe": {"seconds": ${TOK_S:-50}, "steps": "$(last "$RUNS/tok.log" step)", "images_per_s": "$(last "$RUNS/tok.log" 'img/s')", "eval": ${TOK_EVAL:-null}},
 "tokenizer_seed_setting_128px": {"seconds": ${SEED_S:-30}, "steps": "$(last "$RUNS/seed.log" step)", "images_per_s": "$(last "$RUNS/seed.log" 'img/s')"},
 "ar_prior_4x256_b64": {"seconds": ${PRIOR_S:-45}, "steps": "$(last "$RUNS/ar.log" step)", "tokens_per_s": "$(last "$RUNS/ar.log" 'tok/s')", "bits_per_token": "$(last "$RUNS/ar.log" 'bits/tok')"}}
EOF
fi

# ---- 6. Reference models ------------------------------------------------------------------------
if has reference; then
  step "${REF_S:-480}" env GRIDS="32 64" TOK_MIN=3 CLS_MIN=1 PRIOR_STEPS=3000 PRIOR_BATCH=64 PRIOR_MIN=3 PRIOR_SIZE="--layers 4 --dim 160 --heads 5" PARALLEL=1 bash examples/reference-models.sh "$RUNS/reference" >"$RUNS/reference.log" 2>&1
  pkill -f 'dist/node/cli.mjs (train|eval|encode)' && sleep 2 # stragglers of a stage cut by the limit
  cat "$RUNS/reference.log" >>"$LOG"
  grep -E '^\{' "$RUNS/reference.log" >"$OUT/reference.jsonl"
  mkdir -p "$RUNS/ship"
  for d in "$RUNS"/reference/*/*/; do
    [ -f "$d/latest.json" ] && $V export-run --run "$d" --out "$RUNS/ship/$(basename "$(dirname "$d")")/$(basename "$d")" >>"$LOG" 2>&1
  done
  for t in "$RUNS"/reference/*/tokens.bin; do cp "$t" "$RUNS/ship/$(basename "$(dirname "$t")")/"; done
  for f in "$RUNS"/reference/*/*/recon-final.png; do cp "$f" "$OUT/$(basename "$(dirname "$(dirname "$f")")")-recon.png"; done
  tar -cf - -C "$RUNS/ship" . | split -b 15M - "$OUT/models.tar.part-"
  log "reference models: $(du -sh "$RUNS/ship" | cut -f1)"
  # Sample quality of each prior (n = 1000, the defaults), all at once: one JSON file per prior.
  for R in "$RUNS"/reference/*/; do for k in ar diffusion mask; do
    [ -f "$R/$k/latest.json" ] && timeout "${EVAL_S:-150}" $V eval-samples --tokenizer "$R/tokenizer" --prior "$R/$k" \
      --tokens "$R/tokens.bin" --n "${EVAL_N:-1000}" --json >"$OUT/eval-samples-$(basename "$R")-$k.jsonl" 2>>"$LOG" &
  done; done
  wait; log "eval-samples done"
fi

# ---- 7. Kernel tests on this adapter ------------------------------------------------------------
has tests && NO_COLOR=1 step "${TEST_S:-90}" node node_modules/vitest/vitest.mjs run --project node --reporter=dot \
  $(for t in ${TESTS:-matmul attention codebook conv2d norm softmax xent reduce elementwise optim quantizer fuzz-shapes}; do echo "kernels-test/$t.test.ts"; done) \
  >"$OUT/tests.txt" 2>&1
has tests && log "tests: $(grep -E 'Tests +[0-9]' "$OUT/tests.txt" | tail -1)"
log done
