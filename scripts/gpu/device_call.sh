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
exec python3 scripts/gpu/train_all.py --out "${OUT:-/tmp/gpu_call}" --budget "${BUDGET:-540}" \
  --total "${TOTAL:-585}" --overwrite "$@"
