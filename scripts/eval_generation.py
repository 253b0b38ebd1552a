"""Score an unconditional generator: coverage (mode collapse), FID and KID against the real data.

    python scripts/eval_generation.py --model gen-mnist --json docs/metrics/gen-mnist.json \
        --grid docs/img/gen_mnist.png
    python scripts/eval_generation.py --model gen-cifar10 --json docs/metrics/gen-cifar10.json \
        --grid docs/img/gen_cifar10.png

MNIST (``task_args.source: mnist``): ``--n`` samples (10,000, seed 0) are classified by the digit
classifier of ``scripts/mnist_classifier.py``. Reported: the share classified with confidence
>= 0.9, the entropy of the predicted class histogram (uniform = ln 10 = 2.303 nats), and FID / KID
in the classifier's 128-d penultimate feature space against the 10,000 real images. The floor is
real-vs-real: the real set split at random (seed 0) into two halves of 5,000, FID(A, B). The model
is scored at the same sample sizes, FID(A, 5,000 generated) (and 10k vs 10k for reference).

Folders (CIFAR-10): the same FID / KID protocol in a fixed random-init conv feature space
(``restore.core.dcgan.RandomConvFeatures(3, width=32, seed=0)``, 256-d: global mean + max of the
third conv stage). No Inception weights exist offline here; these numbers rank models against each
other and against the real-vs-real floor, not against published FIDs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from restore.core.atomic import atomic_write_json  # noqa: E402
from restore.core.dcgan import FeatureView, RandomConvFeatures  # noqa: E402
from restore.eval.fid import fid_from_features, kid_from_features  # noqa: E402
from restore.generate import Sampler  # noqa: E402
from restore.tasks.generation import SquareImages, class_coverage, load_classifier  # noqa: E402

SHARED = REPO.parent / "shared" / "data"


def chunked(fn, x: torch.Tensor, chunk: int = 500) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([fn(x[i : i + chunk]) for i in range(0, len(x), chunk)])


def distances(real_f: torch.Tensor, fake_f: torch.Tensor, seed: int) -> dict[str, float]:
    """FID / KID of the model at matched sizes and the real-vs-real floor."""
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(real_f), generator=g)
    half = len(real_f) // 2
    a, b = real_f[perm[:half]], real_f[perm[half : 2 * half]]
    fake_half = fake_f[:half]
    out = {
        "fid": float(fid_from_features(a, fake_half)),
        "fid_floor": float(fid_from_features(a, b)),
        "fid_full": float(fid_from_features(real_f, fake_f)),
        "kid": float(kid_from_features(a, fake_half, seed=seed)[0]),
        "kid_floor": float(kid_from_features(a, b, seed=seed)[0]),
        "n_real_half": half,
        "n_fake": len(fake_f),
    }
    out["fid_ratio_to_floor"] = out["fid"] / max(out["fid_floor"], 1e-12)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--model", required=True, help="gen-mnist, gen-cifar10 or a run folder / weights"
    )
    ap.add_argument("--data", default=None, help="real data (default: the card's data.train)")
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--truncation", type=float, default=1.0)
    ap.add_argument(
        "--json", type=Path, help="write the results here (for ship_model.py --metrics)"
    )
    ap.add_argument("--grid", type=Path, help="also write a 64-sample grid (seed 0) here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    sampler = Sampler.from_pretrained(args.model, device="cpu")
    cfg = sampler.card["training"]["config"]
    targs = cfg.get("task_args", {})
    data = args.data or str((REPO / cfg["data"]["train"]).resolve())
    fake = sampler.sample_tensor(args.n, seed=args.seed, truncation=args.truncation)
    res: dict[str, object] = {
        "model": sampler.card.get("name"),
        "samples": args.n,
        "seed": args.seed,
        "truncation": args.truncation,
        "real_data": data,
    }
    if targs.get("source") == "mnist":
        from restore.data.mnist import MnistDataset

        real = MnistDataset(data).images.float() / 255.0
        clf = load_classifier("mnist-classifier")
        probs = chunked(lambda t: clf(t).softmax(1), fake)
        conf, ent, freq = class_coverage(probs)
        rconf, rent, _ = class_coverage(chunked(lambda t: clf(t).softmax(1), real))
        feat = FeatureView(clf)
        res.update(
            {
                "feature_space": "mnist-classifier penultimate (128-d), scripts/mnist_classifier.py",
                "confident_share": conf,
                "class_entropy_nats": ent,
                "class_entropy_uniform": math.log(10),
                "class_histogram": [round(float(f), 4) for f in freq],
                "real_confident_share": rconf,
                "real_class_entropy_nats": rent,
                "classifier_held_out_accuracy": json.loads(
                    (REPO / "restore/weights/mnist-classifier.json").read_text()
                )["held_out_accuracy"],
            }
        )
        bars = {"confident_share>=0.80": conf >= 0.8, "class_entropy>=2.2": ent >= 2.2}
    else:
        ds = SquareImages(data, sampler.image_size, sampler.channels)
        real = torch.stack([ds[i] for i in range(len(ds))]).float() / 255.0
        feat = RandomConvFeatures(sampler.channels, width=32, seed=0)
        res["feature_space"] = (
            "random-init conv features RandomConvFeatures(3, width=32, seed=0), 256-d"
        )
        bars = {}
    d = distances(chunked(feat, real), chunked(feat, fake), args.seed)
    res.update(d)
    if targs.get("source") == "mnist":
        bars["classifier_fid<=3x_floor"] = d["fid_ratio_to_floor"] <= 3.0
    res["bars"] = bars
    res["eval_seconds"] = round(time.perf_counter() - t0, 1)
    if args.grid:
        from restore.data.io import write_image

        write_image(args.grid, sampler.grid(64, seed=0, nrow=8, truncation=args.truncation))
        res["grid"] = str(args.grid)
    print(json.dumps(res, indent=2))
    if args.json:
        atomic_write_json(args.json, res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
