"""Blend a fine-tuned run with the weights it started from (WiSE-FT), into a new run folder.

    python scripts/interpolate_weights.py damage runs/flA/damage --alpha 0.5 --out runs/soupA50/damage

Each floating-point tensor of the result is ``(1 - alpha) * START + alpha * END`` (alpha 0: START,
1: END); other tensors are END's. Wortsman et al., "Robust fine-tuning of zero-shot models"
(WiSE-FT, CVPR 2022), found that blending a fine-tuned network with its starting point keeps much
of what the fine-tuning gained while giving back less of what it cost away from the fine-tuning
data. Here the case is a leg that traded the held-out damage for damage it drew more of (large
flakes): a blend is one more candidate, judged like any run (``scripts/eval_photo.py --model
detect=OUT``, ``restore relay --judge OUT``), at no cost at inference.

The two must be the same network (same tensor names and shapes), and END should have been
trained from START: its card's last leg names the weights it started from, and a mismatch is
refused (``--any-start`` blends anyway). The output card is END's, its metrics dropped (they
were END's) and its last leg marked with the blend; START and END are only read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from restore.core.atomic import atomic_write_json  # noqa: E402
from restore.core.card import runtime, upgrade_card  # noqa: E402
from restore.core.checkpoint import load_tensors, save_tensors, sha256_file  # noqa: E402
from restore.errors import CheckpointError, RestoreError  # noqa: E402
from restore.models import resolve  # noqa: E402


def blend(
    start: dict[str, torch.Tensor], end: dict[str, torch.Tensor], alpha: float
) -> dict[str, torch.Tensor]:
    """``(1 - alpha) * start + alpha * end`` per floating-point tensor (computed in float32, stored
    in END's dtype); END's tensor where it is not floating point.

    Raises:
        CheckpointError: the two do not hold the same tensor names and shapes.
    """
    if start.keys() != end.keys():
        only_s, only_e = sorted(start.keys() - end.keys()), sorted(end.keys() - start.keys())
        raise CheckpointError(
            f"not the same network: tensors only in START {only_s[:3]}, only in END {only_e[:3]}"
        )
    out = {}
    for k, e in end.items():
        s = start[k]
        if s.shape != e.shape:
            raise CheckpointError(
                f"not the same network: {k} is {tuple(s.shape)} in START, {tuple(e.shape)} in END"
            )
        if e.is_floating_point():
            out[k] = torch.lerp(s.float(), e.float(), alpha).to(e.dtype)
        else:
            out[k] = e.clone()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("start", help="the weights END was trained from (a shipped name, file or run)")
    ap.add_argument("end", help="the fine-tuned run folder or weights file")
    ap.add_argument("--alpha", type=float, required=True, help="END's share, in [0, 1]")
    ap.add_argument(
        "--out", required=True, help="a new run folder (model.safetensors + model.json)"
    )
    ap.add_argument(
        "--any-start", action="store_true", help="blend even if END did not start from START"
    )
    args = ap.parse_args(argv)
    try:
        if not 0.0 <= args.alpha <= 1.0:
            raise RestoreError(f"--alpha must be in [0, 1], got {args.alpha}")
        out = Path(args.out)
        if out.exists():
            raise RestoreError(f"{out} exists; name a new folder")
        s_path, _, _ = resolve(args.start)
        e_path, e_card, _ = resolve(args.end)
        if s_path.resolve() == e_path.resolve():
            raise RestoreError("START and END are the same weights")
        e_card = upgrade_card(e_card)
        legs = list(e_card.get("training", {}).get("legs") or [])
        began = str(legs[-1].get("from", "")) if legs else ""
        sha = sha256_file(s_path)
        if not args.any_start and sha[:12] not in began:
            raise RestoreError(
                f"{args.end} did not start from {args.start} (its last leg: from {began or '?'}; "
                f"{args.start} is sha256 {sha[:12]}); --any-start blends anyway"
            )
        s_t, _ = load_tensors(s_path)
        e_t, meta = load_tensors(e_path)
        tensors = blend(s_t, e_t, args.alpha)
    except RestoreError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out.mkdir(parents=True)
    st = out / "model.safetensors"
    save_tensors(st, tensors, meta)
    card = json.loads(json.dumps(e_card))
    card["metrics"] = {}
    card["runtime"] = {**runtime(card), "sha256": sha256_file(st)}
    if "file_bytes" in card:
        card["file_bytes"] = st.stat().st_size
    if legs:
        legs[-1] = {
            **legs[-1],
            "blend": {
                "alpha": args.alpha,
                "start": f"{args.start} (sha256 {sha[:12]})",
                "command": "python scripts/interpolate_weights.py "
                f"{args.start} {args.end} --alpha {args.alpha} --out {args.out}",
            },
        }
        card["training"] = {**card["training"], "legs": legs}
    atomic_write_json(out / "model.json", card)
    print(f"wrote {st} ({args.alpha:g} x {args.end} + {1 - args.alpha:g} x {args.start})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
