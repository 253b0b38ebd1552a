#!/usr/bin/env bash
# The training-throughput checks of issue 12 on a lent GPU, in ONE device call (<= 10 minutes).
#
# Before the call, here:   mkdir -p runs/bench_data && cp -r ../shared/data/train/T91 runs/bench_data/
#                          bash scripts/bench/gpu_wheels.sh   (kornia is not in the device image)
# The device call:         bash scripts/bench/gpu_session.sh  (carry: ["runs/bench_data", ".whl"])
# CPU smoke test here:     DEVICE=cpu OUT=/tmp/gpu_smoke BUDGET=3000 LIMIT_SCALE=6 \
#                              nice -n 5 bash scripts/bench/gpu_session.sh
#
# Every stage writes $OUT/<stage>.txt and is bounded by `timeout`; a stage that would not fit in
# what is left of BUDGET seconds (default 540) is skipped, so the whole script ends in time.
# $OUT/summary.txt collects the table rows of every stage. Stages, most important first:
#   info        nvidia-smi, torch, CUDA
#   eager       reference vs restore (bf16 autocast + fused Adam; + channels_last; fp32) at batch
#               1, 16, 64, plus the real-images row at each batch
#   cudagraphs  torch.compile(mode="reduce-overhead") + channels_last at batch 1 and 16
#   profile     torch.profiler over restore's loop on CUDA at batch 16 (synthetic, then real
#               images: the degradation's host syncs) and at batch 1 (launch-bound)
#   inference   scripts/bench/inference.py --device cuda, tiled rows at 1, 4, 16 MP
#   compile     torch.compile (default mode) + channels_last at batch 16 (if time is left)
set -u
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/gpu_session}
DEVICE=${DEVICE:-cuda}
BUDGET=${BUDGET:-540}
LIMIT_SCALE=${LIMIT_SCALE:-1}  # stretch every stage's limit (a CPU smoke test on a loaded machine)
mkdir -p "$OUT"
: >"$OUT/summary.txt"
if [ -d .whl ] && ! python3 -c "import kornia" 2>/dev/null; then  # the device image lacks kornia
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
END=$((SECONDS + BUDGET))
B=scripts/bench
export PYTHONUNBUFFERED=1  # a stage cut by timeout keeps the rows it printed

DATA=${DATA:-runs/bench_data/T91}
[ -d "$DATA" ] || DATA=../shared/data/train/T91
if [ ! -d "$DATA" ]; then  # no images carried: write some to disk so the real-image row still reads files
  DATA=$(mktemp -d)/imgs
  python - "$DATA" <<'PY'
import sys
from pathlib import Path

import numpy as np
from PIL import Image

d = Path(sys.argv[1])
d.mkdir(parents=True)
rng = np.random.default_rng(0)
for i in range(64):
    img = np.kron(rng.random((20, 20, 3)), np.ones((16, 16, 1)))  # 320x320, smooth
    Image.fromarray((img * 255).astype(np.uint8)).save(d / f"{i:03d}.png")
PY
  echo "no T91 found: generated 64 PNGs in $DATA" | tee -a "$OUT/summary.txt"
fi

if [ "$DEVICE" = cpu ]; then  # smoke sizes: checks the script and the CPU-safe stages only
  BATCHES_EAGER="1"; VARIANTS="default"; BATCHES_CG="1"; STEPS="--steps 4 --block 1 --warmup 1"
  MP="1"; PBATCH=1; PSTEPS=2; DO_COMPILE=0
else
  BATCHES_EAGER="1 16 64"; VARIANTS="default default+channels_last fp32"; BATCHES_CG="1 16"
  STEPS="--steps 40 --block 10 --warmup 10"; MP="1 4 16"; PBATCH=16; PSTEPS=8; DO_COMPILE=1
fi

stage() {  # stage NAME LIMIT_S COMMAND...
  local name=$1 limit=$(($2 * LIMIT_SCALE))
  shift 2
  local left=$((END - SECONDS - 5))
  if [ "$left" -lt 20 ]; then
    echo "== $name: skipped, ${left}s left" | tee -a "$OUT/summary.txt"
    return
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo "== $name ($(date -u +%T), limit ${limit}s): $*" | tee -a "$OUT/summary.txt"
  local t0=$SECONDS
  timeout -k 10 "$limit" "$@" >"$OUT/$name.txt" 2>&1
  local rc=$?
  echo "   rc=$rc after $((SECONDS - t0))s" | tee -a "$OUT/summary.txt"
  grep -E '^  \[|^ *[0-9]+ \||^(device|steps|load|reference|best|sync|machine|\|)' "$OUT/$name.txt" \
    >>"$OUT/summary.txt"
  [ "$rc" -eq 0 ] || tail -n 15 "$OUT/$name.txt" >>"$OUT/summary.txt"
}

INFO='nvidia-smi || true
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,power.limit,driver_version --format=csv || true
python -c "import torch; print(\"torch\", torch.__version__, \"cuda\", torch.version.cuda, \"available\", torch.cuda.is_available())"
echo "cpus $(nproc); load $(cut -d" " -f1-3 /proc/loadavg)"'

stage info 30 bash -c "$INFO"
stage eager 150 python $B/train_throughput.py --device "$DEVICE" --batches $BATCHES_EAGER $STEPS \
  --variants $VARIANTS --real default --data "$DATA"
if [ "$DO_COMPILE" = 1 ]; then
  TORCH_LOGS=perf_hints stage cudagraphs 180 python $B/train_throughput.py --device "$DEVICE" \
    --batches $BATCHES_CG $STEPS --variants cudagraphs+channels_last --real none
fi
stage profile 45 python $B/profile_train.py --device "$DEVICE" --batch $PBATCH --steps $PSTEPS
stage profile_real 45 python $B/profile_train.py --device "$DEVICE" --batch $PBATCH --steps $PSTEPS \
  --real "$DATA"
[ "$DEVICE" = cpu ] || stage profile_b1 30 python $B/profile_train.py --device "$DEVICE" --batch 1 \
  --steps $((PSTEPS + 4))
stage inference 60 python $B/inference.py --device "$DEVICE" --only-tiled --runs 1 --mp $MP
if [ "$DO_COMPILE" = 1 ]; then
  stage compile 120 python $B/train_throughput.py --device "$DEVICE" --batches 16 $STEPS \
    --variants compile+channels_last --real none
fi
echo "== done in ${SECONDS}s; files in $OUT" | tee -a "$OUT/summary.txt"
