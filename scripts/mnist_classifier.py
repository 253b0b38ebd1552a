"""Train the small digit classifier that measures mode collapse of the MNIST generator.

An EVALUATION TOOL, not a restoration model: ``restore eval`` (:mod:`restore.eval.generation`)
and the generation task's validation use it to say which digit each generated image shows
(coverage, class entropy) and as the feature space of classifier-FID/KID.

    python scripts/mnist_classifier.py                    # -> restore/weights/mnist-classifier.*

Data: ``../shared/data/generation/mnist_t10k`` (the MNIST *test* split, the only MNIST here),
split at random (seed 0) into 8,000 training and 2,000 held-out images; the accuracy printed and
written to the card is on the held-out 2,000.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from restore.core.atomic import atomic_write_json  # noqa: E402
from restore.core.card import CARD_FORMAT  # noqa: E402
from restore.core.checkpoint import prefixed, save_tensors, sha256_file  # noqa: E402
from restore.core.dcgan import DigitClassifier, count_parameters  # noqa: E402
from restore.data.mnist import load_mnist, split_indices  # noqa: E402
from restore.models import SHIPPED  # noqa: E402


def accuracy(net: DigitClassifier, x: torch.Tensor, y: torch.Tensor) -> float:
    """Top-1 accuracy of ``net`` on uint8 images ``x`` (N, 1, 28, 28) with labels ``y``."""
    net.eval()
    with torch.no_grad():
        pred = torch.cat(
            [net(x[i : i + 1000].float() / 255).argmax(1) for i in range(0, len(x), 1000)]
        )
    return float((pred == y).float().mean())


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--data", default="../shared/data/generation/mnist_t10k", help="relative to the repo"
    )
    ap.add_argument(
        "--out", type=Path, default=REPO / "restore/weights/mnist-classifier.safetensors"
    )
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--held-out", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    images, labels = load_mnist(REPO / args.data)
    if labels is None:
        raise SystemExit(f"{args.data} has no labels file")
    tr, te = split_indices(len(images), args.held_out, args.seed)
    x = torch.from_numpy(images)[:, None]
    y = torch.from_numpy(labels)
    xtr, ytr, xte, yte = x[tr], y[tr], x[te], y[te]
    net = DigitClassifier()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(args.seed)
    steps_per_epoch = len(xtr) // 64
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, 2e-3, total_steps=args.epochs * steps_per_epoch
    )
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        net.train()
        perm = torch.randperm(len(xtr), generator=g)
        for s in range(steps_per_epoch):
            idx = perm[s * 64 : (s + 1) * 64]
            xb = xtr[idx].float() / 255
            # light augmentation: random shifts of up to 2 px
            dx, dy = torch.randint(-2, 3, (2,), generator=g).tolist()
            xb = torch.roll(xb, (dy, dx), (2, 3))
            loss = F.cross_entropy(net(xb), ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        print(
            f"epoch {epoch + 1}: loss {loss.item():.4f}, held-out acc {accuracy(net, xte, yte):.4f}"
        )
    acc = accuracy(net, xte, yte)
    secs = time.perf_counter() - t0
    save_tensors(args.out, prefixed("C", net.state_dict()), {"format": "restore-weights-1"})
    card = {
        "name": "mnist-classifier",
        "task": "generation",
        "kind": "evaluation",
        "description": SHIPPED["mnist-classifier"],
        "runtime": {
            "format": CARD_FORMAT,
            "networks": {"C": {"name": "digit_classifier", "args": {"width": 32}}},
            "modules": ["C"],
            "task_args": {},
            "inference": {},
            "sha256": sha256_file(args.out),
        },
        "parameters": count_parameters(net),
        "file_bytes": args.out.stat().st_size,
        "training": {
            "architecture": "restore.core.dcgan.DigitClassifier (3 conv stages, 128-d penultimate)",
            "command": "python scripts/mnist_classifier.py",
            "data": f"{args.data}: MNIST test split, {len(tr)} train / {len(te)} held out "
            f"(seed {args.seed})",
            "held_out_split": "scripts/mnist_classifier.py: "
            f"restore.data.mnist.split_indices({len(images)}, {args.held_out}, seed={args.seed})",
            "epochs": args.epochs,
            "hardware": "2-core shared CPU",
            "train_seconds": round(secs, 1),
        },
        "metrics": {"held_out_accuracy": round(acc, 4)},
    }
    atomic_write_json(args.out.with_suffix(".json"), card)
    print(json.dumps({"held_out_accuracy": acc, "train_seconds": round(secs, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
