#!/usr/bin/env bash
# Wheels the lent GPU machine lacks (its image has torch, torchvision, torchmetrics, safetensors,
# opencv, scikit-image, onnx*, but not kornia), for its Python 3.12, into the git-ignored .whl/;
# gpu_session.sh installs them there. Name ".whl" in the device call's carry.
set -eu
cd "$(dirname "$0")/../.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >>.git/info/exclude
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .whl "kornia==$(python3 -c 'import kornia; print(kornia.__version__)')" \
  "kornia_rs==$(python3 -c 'import importlib.metadata as m; print(m.version("kornia_rs"))')"
ls -l .whl
