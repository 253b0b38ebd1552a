"""Are a generator's unconfident digits blends of two digits? (why the unconditional gen-mnist stalled)

    python scripts/bench/gen_mnist_blends.py [--model gen-mnist] [--n 10000]

The unconditional model it was written for is in git history (before commit 51d0f2f):

    git show 51d0f2f~1:restore/weights/gen-mnist.safetensors > /tmp/old.safetensors
    git show 51d0f2f~1:restore/weights/gen-mnist.json > /tmp/old.json
    python scripts/bench/gen_mnist_blends.py --model /tmp/old.safetensors

Samples ``--n`` digits (seed 0), classifies them with ``mnist-classifier`` and reports the share
below the 0.9 confidence of the generation protocol, and of those the share whose two most likely
classes hold >= 0.9 of the probability (a blend of two digits), with the median top-1 / top-2
probabilities. Also the confident share with latent truncation 0.8 and 0.6.
"""

from __future__ import annotations

import argparse

import torch

from restore.eval.generation import class_coverage
from restore.generate import Sampler
from restore.tasks.generation import load_classifier


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", default="gen-mnist", help="generation model name or run folder")
    ap.add_argument("--n", type=int, default=10000)
    args = ap.parse_args()
    s = Sampler.from_pretrained(args.model, device="cpu")
    clf = load_classifier("mnist-classifier").eval()
    with torch.inference_mode():
        p = clf(s.sample_tensor(args.n, seed=0)).softmax(1)
    top = p.topk(2, 1).values
    unc = top[:, 0] < 0.9
    blends = (top[unc].sum(1) >= 0.9).float().mean() if unc.any() else torch.tensor(0.0)
    med = top[unc].median(0).values.tolist() if unc.any() else [float("nan")] * 2
    print(f"{args.model}: {args.n} samples, unconfident {float(unc.float().mean()):.4f}")
    print(f"  of those, two-digit blends (top-2 sum >= 0.9): {float(blends):.4f}")
    print(f"  median top-1 / top-2 probability: {med[0]:.3f} / {med[1]:.3f}")
    for psi in (0.8, 0.6):
        with torch.inference_mode():
            q = clf(s.sample_tensor(args.n, seed=0, truncation=psi)).softmax(1)
        print(f"  truncation {psi}: confident {class_coverage(q)[0]:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
