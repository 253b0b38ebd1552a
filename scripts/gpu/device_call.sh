#!/usr/bin/env bash
# The single command to give the device tool when a GPU is lent (issue 21): train every shipped
# model at once on the H100/H200, check, and bring back <= 7 tar files + log.txt.
#
# Here, first:  bash scripts/bench/gpu_wheels.sh        (the kornia wheel the device image lacks)
#               python scripts/gpu/pack_data.py          (.data/gpu: data + wheel, <= 30 MiB)
# The call:     run(command="bash scripts/gpu/device_call.sh", carry=[".data/gpu"], timeout_s=600)
#               then give_back: start + call + transfers take ~13 of the 15 device minutes
# Back here:    python scripts/gpu/unpack_results.py <files_at>   (-> runs/gpu/<name>/)
#
# BUDGET (540 s) bounds training + checks + bundle; TOTAL (585 s) is when no bench row starts.
set -u
cd "$(dirname "$0")/../.."
export PYTHONUNBUFFERED=1
# Nine legs share one GPU. Without MPS the driver time-slices their contexts: in the first H200
# call (2026-11-29) the enhance leg ran at 2.5 it/s under that load against 33 it/s for its batch
# synthesis alone (scripts/bench/gpu_synthesis.py). MPS lets their kernels share the GPU. If the
# daemon will not start, or CUDA fails under it, it is stopped and the call goes on without it.
if [ "${MPS:-1}" = 1 ] && command -v nvidia-cuda-mps-control >/dev/null 2>&1; then
  export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps_pipe CUDA_MPS_LOG_DIRECTORY=/tmp/mps_log
  mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
  if nvidia-cuda-mps-control -d && timeout 60 python3 -c \
      "import torch; assert torch.ones(4, device='cuda').sum().item() == 4"; then
    echo "MPS: on"
  else
    echo quit | nvidia-cuda-mps-control >/dev/null 2>&1
    unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
    echo "MPS: off (would not start)"
  fi
fi
exec python3 scripts/gpu/train_all.py --out "${OUT:-/tmp/gpu_call}" --budget "${BUDGET:-540}" \
  --total "${TOTAL:-585}" --overwrite "$@"
