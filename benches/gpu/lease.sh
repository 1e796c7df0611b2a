#!/bin/bash
# The GPU checks of issue #4, as one command for a short lease of a CUDA machine
# (see docs/performance.md, "GPU"). Run from the repository root:
#
#     bash benches/gpu/lease.sh SORA_BINARY [WHEEL_DIR]
#
# SORA_BINARY is a `sora` CLI built against the machine's own torch (its
# LibTorch is found through LD_LIBRARY_PATH, set here from `python3 -c "import
# torch"`); WHEEL_DIR holds wheels of what the machine's Python lacks (diffusers,
# ftfy, ...), installed into /tmp/site. Logs and JSON go to $OUT (default
# target/gpu-out). Stages, each with its own time limit so one failure leaves
# the others' results:
#   1. the machine: GPU, driver, torch; the binary's libraries;
#   2. tiny model, float32 on CUDA: sora's frames must agree with diffusers'
#      within the parity rule (2/255) — the CUDA path is correct;
#   3. Wan2.1-1.3B's configs at 832x480, 81 frames, bfloat16: the side-by-side
#      table, model FLOP utilisation against the measured bf16 matmul peak, GPU
#      memory peaks and sora's estimate of its own;
#   (BIG=0 skips stage 3.)
#   4. weight offload (OFFLOAD=0 skips it): the tiny model's frames with
#      `--offload model` and `sequential` against diffusers' offloaded pipeline
#      (float32, the parity rule), then Wan2.1-1.3B in bf16 with each mode,
#      one rep each (time and GPU peak against diffusers' offload).
set -u
BIN=$(readlink -f "${1:?usage: lease.sh SORA_BINARY [WHEEL_DIR]}")
WHL=${2:-}
OUT=${OUT:-target/gpu-out}
mkdir -p "$OUT"
source benches/gpu/env.sh "$WHL" || exit 1

echo "== 1. machine"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
python3 -c "import torch, diffusers, transformers; print('torch', torch.__version__, 'diffusers', diffusers.__version__, 'transformers', transformers.__version__)"
ldd "$BIN" | grep -E "not found|torch|c10" ; nproc
"$BIN" --version

echo "== 2. tiny, float32, CUDA: parity with diffusers"
timeout "${TINY_S:-150}" python3 benches/compare/run.py --size tiny --reps 1 --check-only --sora "$BIN" --device cuda \
  2>&1 | tee "$OUT/tiny-cuda.log" | grep -vE "Writing model|it/s\]"

if [ "${BIG:-1}" != 0 ]; then
  echo "== 3. Wan2.1-1.3B configs, 832x480x81, bfloat16, CUDA"
  timeout "${BIG_S:-330}" python3 benches/compare/run.py --size wan2.1-1.3b --device cuda --dtype bfloat16 \
    --reps "${REPS:-2}" ${STEPS:+--steps $STEPS} --sora "$BIN" --markdown --json-out "$OUT/wan13-bf16.json" \
    2>&1 | tee "$OUT/wan13-bf16.log" | grep -vE "Writing model|it/s\]"
  cp target/compare/wan2.1-1.3b/runs/sora-0.stderr "$OUT/wan13-sora-0.stderr" 2>/dev/null
fi

if [ "${OFFLOAD:-1}" != 0 ]; then
  echo "== 4. weight offload: parity (tiny, float32), then Wan2.1-1.3B configs in bfloat16"
  for mode in model sequential; do
    timeout "${TINY_S:-150}" python3 benches/compare/run.py --size tiny --reps 1 --check-only --sora "$BIN" \
      --device cuda --offload $mode 2>&1 | tee "$OUT/tiny-offload-$mode.log" | grep -vE "Writing model|it/s\]"
  done
  for mode in model sequential; do
    timeout "${OFFLOAD_S:-240}" python3 benches/compare/run.py --size wan2.1-1.3b --device cuda --dtype bfloat16 \
      --offload $mode --reps 1 ${STEPS:+--steps $STEPS} --sora "$BIN" --markdown \
      --json-out "$OUT/wan13-bf16-offload-$mode.json" 2>&1 | tee "$OUT/wan13-offload-$mode.log" \
      | grep -vE "Writing model|it/s\]"
  done
fi
echo "== done"
