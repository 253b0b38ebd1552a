"""The relay's scorers: a model (shipped name, weights file or run folder) and validation sets in,
its headline value, guard values and full results out (:class:`Score`).

Each is its task's own protocol (``restore eval``), so a relay verdict is the number a user can
rerun; ``configs/relay.yaml`` names the scorer of each model.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from restore.evaluate import evaluate_model, face_report, real_label_report, set_label
from restore.photo import PhotoRestorer

# ---------------------------------------------------------------------------------------------
# Scorers: model (name or run folder) + data sets -> headline value, guard values, full results
# ---------------------------------------------------------------------------------------------


@dataclass
class Score:
    """A model's headline value (first data set), its guard values (the others), the raw
    evaluation results to keep in ``docs/metrics/``, and by set label the results of the task's
    own ``restore eval`` protocol where the scorer ran it (``evals``: a shipped card's
    ``metrics["results"]``, so the card keeps the numbers ``restore eval`` gives for its weights),
    and ``card``: other entries of the card's ``metrics`` that describe these weights (the face
    model's ``protocol`` and ``summary``, as ``scripts/eval_faces.py`` writes them)."""

    value: float
    guards: dict[str, float] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    evals: dict[str, Any] = field(default_factory=dict)
    card: dict[str, Any] = field(default_factory=dict)


def score_sr(model: str, data: Sequence[str]) -> Score:
    """Mean PSNR (Y, shave = scale, MATLAB LR) of the model on each set (``restore eval``)."""
    results = {set_label(d): evaluate_model(model, d) for d in data}
    vals = [r["mean"]["model"]["psnr"] for r in results.values()]
    return Score(vals[0], dict(zip(list(results)[1:], vals[1:])), results, results)


#: The colorizer's guard: its colourfulness over the truth's on the headline set (issue 21's bar
#: is 0.6-1.3x; ``configs/relay.yaml`` floors it at 0.6). A greyer model scores a higher PSNR
#: over the grey input by staying nearer to grey: a leg of 2026-12-03 went from +0.28 to +0.66
#: dB while its ratio fell from 0.72 to 0.59, and the headline alone would have shipped it.
COLOUR_GUARD = "colourfulness ratio (headline set)"


def score_colorize(model: str, data: Sequence[str]) -> Score:
    """RGB PSNR gain over the grey input on each set (colorization protocol); guards: the gain on
    the other sets and :data:`COLOUR_GUARD`."""
    results = {set_label(d): evaluate_model(model, d) for d in data}
    vals = [r["bars"]["psnr_gain_db"] for r in results.values()]
    guards = dict(zip(list(results)[1:], vals[1:]))
    guards[COLOUR_GUARD] = next(iter(results.values()))["bars"]["colorfulness_ratio"]
    return Score(vals[0], guards, results, results)


#: Hand-labelled damage of real prints (restore/eval/real_labels.py), scored beside the detector.
REAL_LABELS = Path(__file__).resolve().parent.parent / "labels" / "real_old.json"
#: The detector's guard on them: recall within 2 px, mean over the labelled prints.
REAL_GUARD = "real prints: mask recall (mean)"
#: ... and its precision, pooled over their pixels: more recall bought with false alarms on the
#: picture does not count (the relay's trade, ``configs/relay.yaml``, can ship on the recall).
REAL_PRECISION = "real prints: mask precision (pooled)"
#: Best classical method's mean PSNR per hole-ratio bucket on Set5 + Set14 (crop 256, seed 0):
#: fixed by the protocol, so computed once (``python scripts/relay_baselines.py``) and read here.
INPAINT_CLASSICAL = (
    Path(__file__).resolve().parent.parent / "docs" / "metrics" / "inpaint-classical.json"
)


def score_inpaint(model: str, data: Sequence[str]) -> Score:
    """Mean over the 20-60% buckets of (model PSNR - best classical PSNR), bucketed protocol on all
    ``data`` sets together (one headline, no guards)."""
    from restore.api import Restorer
    from restore.eval.inpaint_buckets import evaluate_buckets

    classical = json.loads(INPAINT_CLASSICAL.read_text())
    r = Restorer.from_pretrained(model)
    res = evaluate_buckets(lambda x, m: r.run_tensor(x, mask=m), list(data), baselines=False)
    gaps = {}
    for b in ("20-30%", "30-40%", "40-50%", "50-60%"):
        best = max(classical["buckets"][b].values())
        gaps[b] = res["buckets"][b]["model"]["psnr"] - best
    res["gaps_to_best_classical"] = gaps
    return Score(sum(gaps.values()) / len(gaps), {}, {"buckets": res})


def score_photo(model: str, data: Sequence[str], stage: str) -> Score:
    """``restore photo`` (no hints) with ``model`` in ``stage``, the shipped models elsewhere:
    headline = PSNR gain over the input on the independent damage; guards = the gain on the older
    own damage and the PSNR of clean photos against themselves (do no harm): their mean, each
    capped at 50 dB, and the worst one, so that one photo newly harmed is not averaged away."""
    from restore.eval.photo_protocol import photo_scores

    pr = PhotoRestorer(device="cpu", models={stage: model})
    res = photo_scores(lambda x: pr.restore_tensor(x)[0], list(data))
    guards = {
        "own damage gain": res["own"]["gain"],
        "clean photo PSNR": res["clean"]["restored"],
        "clean photo PSNR (worst)": res["clean"]["min"],
    }
    return Score(res["holdout"]["gain"], guards, res)


def score_detect(model: str, data: Sequence[str]) -> Score:
    """:func:`score_photo` with ``model`` as the detector, and beside it the detector's own
    protocol (``restore eval``: mask IoU, precision, recall per set, per-image rows left out), so
    that the shipped card's detail file keeps the numbers the README quotes; and, where
    ``real_old`` lies beside the data sets, its mask on the hand-labelled real prints
    (:func:`restore.evaluate.real_label_report`, pooled scores also in the card), whose recall
    (the mean over prints of the mask ``restore photo`` inpaints) is a guard: a leg that finds
    less real damage does not ship, however it scores on synthetic damage (leg 21 scored
    +5.12 dB on the independent damage and masked far less of the real prints' scratches)."""
    score = score_photo(model, data, "detect")
    for d in data:
        own = dict(evaluate_model(model, d))
        own.pop("images", None)
        score.results[set_label(d)] = score.evals[set_label(d)] = own
    real = next(
        (p / "real_old" for p in Path(data[0]).resolve().parents if (p / "real_old").is_dir()), None
    )
    if real is not None and REAL_LABELS.is_file():
        pr = PhotoRestorer(device="cpu", models={"detect": model})
        report = real_label_report(pr, REAL_LABELS, real)
        score.results["real_labels"] = report
        score.card["real_labels"] = {
            "command": "python scripts/eval_real_labels.py",
            **report["pooled"],
        }
        score.guards[REAL_GUARD] = report["mean"]["used"]["recall"]
        score.guards[REAL_PRECISION] = report["pooled"]["used"]["precision"]
    return score


def score_generation(model: str, data: Sequence[str]) -> Score:
    """Share of samples the evaluation classifier labels with confidence (generation protocol,
    10,000 samples, seed 0, on the first set's real images); guard: the class entropy (nats), so
    that a leg cannot buy confidence with fewer kinds of digit. FID stays in the results."""
    results = {set_label(d): evaluate_model(model, d) for d in data[:1]}
    mean = next(iter(results.values()))["mean"]["model"]
    guards = {"class entropy": mean["class_entropy"]}
    return Score(mean["confident_share"], guards, results, results)


def score_face(model: str, data: Sequence[str]) -> Score:
    """PSNR gain (dB) of the face model over bicubic on the held-out faces of the first folder,
    degraded by the held-out face protocol (:func:`restore.evaluate.face_report`, the numbers
    ``scripts/eval_faces.py restore`` writes: per-face rows in the results, the protocol and
    summary for the card); no guards."""
    res = face_report(model, data[0])
    summary = res["summary"]
    card = {"protocol": res["protocol"], "summary": summary}
    return Score(summary["gain_over_bicubic_db"], {}, res, card=card)


SCORERS: dict[str, Callable[[str, Sequence[str]], Score]] = {
    "photo_detect": score_detect,
    "photo_inpaint": lambda m, d: score_photo(m, d, "inpaint"),
    "photo_enhance": lambda m, d: score_photo(m, d, "enhance"),
    "sr": score_sr,
    "colorize": score_colorize,
    "inpaint": score_inpaint,
    "generation": score_generation,
    "face": score_face,
}
