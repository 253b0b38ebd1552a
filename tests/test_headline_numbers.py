"""The headline numbers still hold: the README's "Shipped models" table agrees with the model
cards, and the cheap protocols recompute the cards' numbers through ``evaluate_model``.

Nothing is hard-coded here: models are re-shipped (by ``restore relay`` or by hand), so the
expected numbers are read from the cards in ``restore/weights/``. A card's number on a set is its
relay summary (``card["relay"]["value"]`` on the relay's headline set, the first of
``configs/relay.yaml``, and ``card["relay"]["guards"]`` on the others) when the relay shipped it,
else its ``metrics`` (``results`` of ``restore eval --json``, a set's result under its label, or
the relay's detail file). The relay's value counts only where its scorer measures the task's own
headline (SR PSNR, colorization's gain over grey; damage is judged by ``restore photo`` there).

- ``test_readme_agrees_with_the_cards``: no data; every number of the README table equals the
  card's, rounded as the README writes it.
- ``test_headline_number_holds``: data-gated (``../shared/data``, present in CI; skipped without
  it) and in the default run: SR x4 and x2, colorization and damage detection on Set5, within
  ``TOLERANCE`` of the card. About 35 s on 2 cores with a training run beside it (colorize 13 s,
  SR x4 and x2 8 s each, damage 4 s); Set14 and the slow protocols (inpainting's biharmonic
  baseline, generation's 10k samples) are left to ``restore eval``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from restore.evaluate import evaluate_model, set_label
from restore.models import WEIGHTS_DIR

REPO = Path(__file__).resolve().parents[1]
RELAY = yaml.safe_load((REPO / "configs" / "relay.yaml").read_text())["models"]

#: The number each task's protocol is judged by, in a result of ``evaluate_model``.
HEADLINE: dict[str, Callable[[Mapping[str, Any]], float]] = {
    "super_resolution": lambda r: r["mean"]["model"]["psnr"],  # dB, Y channel, shave = scale
    "colorization": lambda r: r["bars"]["psnr_gain_db"],  # dB over the grey image
    "damage": lambda r: r["iou"],  # detected-mask IoU
}
#: How far a recomputed number may drift from the card's (CPU float32 vs where it was measured).
TOLERANCE = {"super_resolution": 0.05, "colorization": 0.05, "damage": 0.005}

#: (model, set under ../shared/data): the protocols cheap enough for every CI run.
CHECKS = [
    ("sr-x4", "val/Set5/x4"),
    ("sr-x2", "val/Set5/x2"),
    ("colorize", "val/Set5/x4/HR"),
    ("damage", "val/Set5/x4/HR"),
]


def card(name: str) -> dict[str, Any]:
    return json.loads((WEIGHTS_DIR / f"{name}.json").read_text())


#: The relay scorers (restore/relay.py SCORERS) whose headline is the task's HEADLINE number.
RELAY_SCORER = {"super_resolution": "sr", "colorization": "colorize"}


def _set_result(metrics: Mapping[str, Any], label: str) -> Mapping[str, Any] | None:
    """A set's result in a card's metrics: ``results[label]``, ``[label]`` or ``["Set5"]``, or
    in the relay's detail file (``metrics["detail"]``, under ``docs/metrics/``)."""
    places = [metrics.get("results") or {}, metrics]
    if isinstance(metrics.get("detail"), str) and (REPO / metrics["detail"]).is_file():
        places.append(json.loads((REPO / metrics["detail"]).read_text()))
    for key in (label, label.split("_")[0]):
        for where in places:
            if isinstance(where.get(key), Mapping):
                return where[key]
    return None


def card_number(name: str, label: str, pick: Callable[[Mapping[str, Any]], float] | None = None):
    """The card's number for ``label``: the relay's summary where the relay scores this task's
    headline, else from its metrics (``pick`` from the set's result, default :data:`HEADLINE`)."""
    c = card(name)
    relay, target = c.get("relay") or {}, RELAY.get(name) or {}
    same = target.get("scorer") is not None and target["scorer"] == RELAY_SCORER.get(c["task"])
    if pick is None and same and relay.get("value") is not None:
        if label == set_label(target["data"][0]):
            return float(relay["value"])
        if label in (relay.get("guards") or {}):
            return float(relay["guards"][label])
    res = _set_result(c.get("metrics") or {}, label)
    if res is None:
        pytest.fail(
            f"card {name} records no {label} number for its protocol (relay: {relay}; metrics: "
            f"{list(c.get('metrics') or {})}): measure it with restore eval and record it"
        )
    return float((pick or HEADLINE[c["task"]])(res))


def bicubic(name: str, label: str) -> float:
    return card_number(name, label, lambda r: r["mean"]["bicubic"]["psnr"])


def inpaint_gap() -> float:
    c = card("inpaint")
    if (c.get("relay") or {}).get("value") is not None:
        return float(c["relay"]["value"])
    m = c["metrics"]
    return float((m.get("bars") or m["summary"])["gap_20_60_db"])


def face_gain(key: str) -> float:
    """The face model's gain on the held-out faces: the relay's value where the relay shipped it
    (its headline is the gain over bicubic), else the card's metrics summary."""
    c = card("face")
    relay = c.get("relay") or {}
    if key == "gain_over_bicubic_db" and relay.get("value") is not None:
        return float(relay["value"])
    return float(c["metrics"]["summary"][key])


def gen(key: str, scale: float = 1.0) -> Callable[[], float]:
    """gen-mnist's ``restore eval`` number on MNIST t10k: in ``metrics["results"]`` where the relay
    shipped it, at the top of ``metrics`` where it was shipped by hand."""

    def number() -> float:
        m = card("gen-mnist")["metrics"]
        return scale * float(((m.get("results") or {}).get("generation_mnist_t10k") or m)[key])

    return number


#: (README row's first cell contains, pattern with the number as its one group, card number).
README_CLAIMS: list[tuple[str, str, Callable[[], float]]] = [
    ("`damage`", r"mask IoU ([\d.]+) \(Set5\)", lambda: card_number("damage", "Set5_x4")),
    ("`damage`", r"/ ([\d.]+) \(Set14\)", lambda: card_number("damage", "Set14_x4")),
    ("`inpaint`", r"([+-]?[\d.]+) dB over the best classical", inpaint_gap),
    ("`sr-x4`", r"x4 Set5 ([\d.]+) dB", lambda: card_number("sr-x4", "Set5_x4")),
    ("`sr-x4`", r"x4 Set5 [\d.]+ dB \(bicubic ([\d.]+)\)", lambda: bicubic("sr-x4", "Set5_x4")),
    ("`sr-x4`", r"Set14 ([\d.]+) dB", lambda: card_number("sr-x4", "Set14_x4")),
    ("`sr-x4`", r"Set14 [\d.]+ dB \(([\d.]+)\)", lambda: bicubic("sr-x4", "Set14_x4")),
    ("`sr-x2`", r"x2 Set5 ([\d.]+) dB", lambda: card_number("sr-x2", "Set5_x2")),
    ("`sr-x2`", r"x2 Set5 [\d.]+ dB \(bicubic ([\d.]+)\)", lambda: bicubic("sr-x2", "Set5_x2")),
    (
        "`colorize`",
        r"Set5 ([+-][\d.]+) dB over grayscale",
        lambda: card_number("colorize", "Set5_x4"),
    ),
    ("`colorize`", r"Set14 ([+-][\d.]+) dB", lambda: card_number("colorize", "Set14_x4")),
    ("`gen-mnist`", r"(\d+)% confident digits", gen("confident_share", 100.0)),
    ("`face`", r"\+([\d.]+) dB over bicubic", lambda: face_gain("gain_over_bicubic_db")),
    ("`face`", r"\+([\d.]+) dB over enhance", lambda: face_gain("gain_over_enhance_sr_db")),
    ("`gen-mnist`", r"class entropy ([\d.]+) nats", gen("class_entropy_nats")),
]


def readme_rows() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Shipped models", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| `")]


@pytest.mark.parametrize(("row_key", "pattern", "number"), README_CLAIMS, ids=lambda v: str(v)[:30])
def test_readme_agrees_with_the_cards(row_key, pattern, number):
    rows = [r for r in readme_rows() if row_key in r.split("|")[1]]
    assert rows, f"no README 'Shipped models' row for {row_key}"
    found = re.search(pattern, rows[0])
    assert found, f"README row for {row_key} no longer says {pattern!r}: {rows[0]}"
    written = found.group(1)
    decimals = len(written.split(".")[1]) if "." in written else 0
    value = number()
    assert abs(float(written) - value) <= 0.5 * 10**-decimals + 1e-9, (
        f"README says {written} for {row_key} ({pattern}); the card says {value:.4f}: "
        "update the README's 'Shipped models' table"
    )


@pytest.mark.parametrize(("name", "data"), CHECKS, ids=[c[0] for c in CHECKS])
def test_headline_number_holds(shared_data, name, data):
    result = evaluate_model(name, str(shared_data / data), device="cpu")
    task = card(name)["task"]
    expected = card_number(name, set_label(data))
    measured = HEADLINE[task](result)
    assert measured == pytest.approx(expected, abs=TOLERANCE[task]), (
        f"{name} on {data}: {measured:.4f} now, the card says {expected:.4f}"
    )
