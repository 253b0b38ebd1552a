#!/usr/bin/env bash
# Run every CPU benchmark one after another (the machine otherwise idle) and keep the output:
#   bash scripts/bench/run_all.sh > docs/bench_output.txt 2>&1
set -u
cd "$(dirname "$0")/../.."
echo "machine: $(lscpu | grep 'Model name' | sed 's/ \+/ /g'), $(nproc) cores; $(date -u +%F); torch $(python -c 'import torch; print(torch.__version__)')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for cmd in \
  "scripts/bench/photo.py --runs 5 --threads 2" \
  "scripts/bench/colorize.py --runs 5 --threads 2" \
  "scripts/bench/inpaint.py --threads 2 --repeats 5" \
  "scripts/bench/sr.py --threads 2 --runs 3 --rrdb-size 64" \
  "scripts/bench/ssim.py --runs 3 --threads 2" \
  "scripts/bench/augment_degrade.py --runs 3 --threads 2" \
  "scripts/bench/train_throughput.py --size 256 --steps 8 --batches 1 4" ; do
  echo; echo "================ python $cmd"
  timeout 900 python $cmd
done
