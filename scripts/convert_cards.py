"""Convert the shipped model cards (restore/weights/*.json) to the card format of restore.core.card.

    python scripts/convert_cards.py            # convert, print what changed
    python scripts/convert_cards.py --check    # change nothing; exit 1 if a card needs converting

Safe to run again (a converted card is left as it is), and meant to be: a relay leg that ran
older code may ship a card in the old layout. For each card:

1. runtime keys (generator, generator_args, networks, modules, task_args, inference, sha256) go
   into a versioned ``runtime`` section; ``kind`` is ``model`` (``evaluation`` for the models a
   task lists as ``evaluation_models``: ``mnist-classifier``, whose old card had its own layout
   and whose tensors gain the ``C.`` prefix of its runtime ``networks``, so its SHA-256 changes);
2. how an inference setting was chosen (``inference.*_calibration``, ``*_measured``) moves out of
   the runtime section into ``calibration``;
3. per-image rows (every ``rows`` list under ``metrics``) move to ``docs/metrics/<name>.json``
   and the card keeps the summary and ``metrics.detail``, the path of the full results; a
   ``docs/metrics/<name>.json`` equal to the card's metrics is pointed to as well;
4. absolute and temporary paths become relative (``../shared/data/...``) or names, in the card
   and in the detail file;
5. the card is validated (restore.models.read_card) and its SHA-256 checked against the weights.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from restore.core.atomic import atomic_write_json  # noqa: E402
from restore.core.card import (  # noqa: E402
    CARD_FORMAT,
    check_sha256,
    machine_paths,
    split_rows,
    strip_machine_paths,
    upgrade_card,
)
from restore.core.checkpoint import load_tensors, prefixed, save_tensors, sha256_file  # noqa: E402
from restore.models import SHIPPED, WEIGHTS_DIR, read_card  # noqa: E402
from restore.tasks import TASKS  # noqa: E402

METRICS_DIR = REPO / "docs" / "metrics"
#: Inference keys that record how a setting was chosen (provenance), and where they go.
CALIBRATION_SUFFIXES = ("_calibration", "_measured")


def evaluation_models() -> dict[str, str]:
    """Evaluation model name -> the task that lists it."""
    return {m: t for t, s in TASKS.items() for m in s.evaluation_models}


def classifier_card(raw: dict[str, Any], weights: Path, task: str, write: bool) -> dict[str, Any]:
    """The old ``mnist-classifier`` layout (flat provenance, bare tensors) -> the card format.

    Its tensors are re-saved under the ``C.`` prefix (``write``), so ``build_modules`` builds it.
    """
    tensors, _ = load_tensors(weights)
    if write and not all(k.startswith("C.") for k in tensors):
        save_tensors(weights, prefixed("C", tensors), {"format": "restore-weights-1"})
    prov = ("architecture", "command", "data", "epochs", "hardware", "held_out_split")
    return {
        "name": raw["name"],
        "task": task,
        "kind": "evaluation",
        "description": SHIPPED[raw["name"]],
        "runtime": {
            "format": CARD_FORMAT,
            "networks": {"C": {"name": "digit_classifier", "args": {"width": 32}}},
            "modules": ["C"],
            "task_args": {},
            "inference": {},
            "sha256": sha256_file(weights) if write else raw.get("sha256"),
        },
        "parameters": raw.get("parameters"),
        "file_bytes": weights.stat().st_size,
        "training": {
            **{k: raw[k] for k in prov if k in raw},
            "train_seconds": raw.get("train_seconds"),
        },
        "metrics": {"held_out_accuracy": raw.get("held_out_accuracy")},
    }


def convert(raw: dict[str, Any], name: str, write: bool) -> tuple[dict[str, Any], list[str]]:
    """The converted card and what was done (``write``: also the detail file / weights)."""
    done: list[str] = []
    weights = WEIGHTS_DIR / f"{name}.safetensors"
    evals = evaluation_models()
    if name in evals and "runtime" not in raw and "generator" not in raw:
        card = classifier_card(raw, weights, evals[name], write)
        done.append("old evaluation-tool layout -> kind evaluation, tensors prefixed C.")
    else:
        card = upgrade_card(raw)
        if "runtime" not in raw:
            done.append("runtime keys -> runtime section (format 1)")
    card.setdefault("description", SHIPPED.get(name, ""))
    inf = card["runtime"].get("inference") or {}
    for k in [k for k in inf if k.endswith(CALIBRATION_SUFFIXES)]:
        short = k.rsplit("_", 1)[0]
        card.setdefault("calibration", {})[short] = inf.pop(k)
        done.append(f"runtime.inference.{k} -> calibration.{short}")
    metrics = strip_machine_paths(card.get("metrics") or {})
    summary, had_rows = split_rows(metrics)
    detail = METRICS_DIR / f"{name}.json"
    rel = detail.relative_to(REPO).as_posix()
    if had_rows:
        if write:
            atomic_write_json(detail, metrics)
        summary["detail"] = rel
        done.append(f"per-image rows -> {rel}")
    elif "detail" not in summary and detail.is_file():
        if strip_machine_paths(json.loads(detail.read_text())) == metrics:
            summary["detail"] = rel
            done.append(f"metrics.detail -> {rel} (same numbers)")
    if summary:
        card["metrics"] = summary
    if detail.is_file() and write:  # the file a card points to holds no machine paths either
        old = json.loads(detail.read_text())
        if machine_paths(old):
            atomic_write_json(detail, strip_machine_paths(old))
            done.append(f"machine paths removed from {rel}")
    found = machine_paths(card)
    if found:
        card = strip_machine_paths(card)
        done.append(f"{len(found)} machine path(s) made relative")
    return card, done


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if needed")
    args = ap.parse_args()
    todo = 0
    for path in sorted(WEIGHTS_DIR.glob("*.json")):
        name = path.stem
        text = path.read_text()  # read now: a relay leg may have just rewritten it
        raw = json.loads(text)
        card, done = convert(raw, name, write=not args.check)
        if card == raw:
            print(f"{name}: up to date")
            continue
        todo += 1
        print(f"{name}: " + "; ".join(done or ["rewritten"]))
        if args.check:
            continue
        if path.read_text() != text:
            print(f"{name}: changed while converting; run again", file=sys.stderr)
            return 1
        atomic_write_json(path, card)
        card = read_card(path)  # validates the written card
        check_sha256(path.with_suffix(".safetensors"), card, required=True)
    if args.check and todo:
        print(f"{todo} card(s) to convert: python scripts/convert_cards.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
