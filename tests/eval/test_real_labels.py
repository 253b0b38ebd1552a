"""Hand-labelled real-print masks (restore/eval/real_labels.py): how a label is drawn from its
rules, strokes and boxes, and the tolerant scores, on hand-made images with hand-counted answers;
and the labels file against the prints in ../shared."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from restore.eval.real_labels import label_mask, mask_counts, mask_scores, scores

REPO = Path(__file__).resolve().parents[2]
REAL_OLD = REPO.parent / "shared" / "data" / "real_old"


def dark_print() -> np.ndarray:
    """60 x 80 dark grey print (level 50) with a white 10 x 12 flake and a 1-px crack."""
    img = np.full((60, 80, 3), 50, np.uint8)
    img[10:20, 10:22] = 240  # flake: 120 px
    img[30:50, 60] = 200  # crack: 20 px, lighter than the surroundings by 0.59
    return img


def test_the_local_step_finds_a_flake_and_a_crack_on_a_dark_print():
    label, ignore = label_mask(dark_print(), {"rules": [{"level": 1.0, "above_local": 0.3}]})
    want = np.zeros((60, 80), bool)
    want[10:20, 10:22] = True
    want[30:50, 60] = True
    assert np.array_equal(label, want) and not ignore.any()


def test_the_level_finds_paper_white_on_a_light_print_and_the_step_alone_does_not():
    img = np.full((60, 80, 3), 200, np.uint8)  # a light print: 0.78
    img[5:45, 5:45] = 235  # a 40 x 40 flake of paper (0.92), larger than the median window
    by_level, _ = label_mask(img, {"rules": [{"level": 0.84, "above_local": 0.3}]})
    assert by_level.sum() == 1600 and by_level[5:45, 5:45].all()
    by_step, _ = label_mask(img, {"rules": [{"level": 1.0, "above_local": 0.1}]})
    assert by_step.sum() < 1600  # the window's median inside the flake is the flake itself


def test_dark_polarity_holes_strokes_exclude_and_ignore():
    img = np.full((60, 80, 3), 180, np.uint8)
    img[20:30, 20:30] = 20  # a dark spot ...
    img[24:26, 24:26] = 180  # ... with a 4-px hole in it
    spec = {
        "rules": [{"polarity": "dark", "level": 1.0, "above_local": 0.3, "close": 1}],
        "strokes": [{"points": [[50, 5], [70, 5]], "width": 1}],
        "exclude": [[20, 20, 22, 30]],
        "ignore": [[0, 50, 80, 60]],
    }
    label, ignore = label_mask(img, spec)
    assert not label[24:26, 24:26].any()  # max_hole 0: the hole stays
    assert label[5, 50:71].all() and label[5].sum() == 21  # the stroke
    assert label[20:30, 22:30].sum() == 80 - 4 and not label[20:30, 20:22].any()  # excluded
    assert label.sum() == 10 * 8 - 4 + 21
    assert ignore.sum() == 80 * 10 and not (label & ignore).any()
    spec["rules"][0]["max_hole"] = 4
    filled, _ = label_mask(img, spec)
    assert filled[24:26, 24:26].all()  # an enclosed hole of 4 px is filled
    spec["rules"][0]["max_hole"] = 3
    assert not label_mask(img, spec)[0][24:26, 24:26].any()  # but not when the cap is 3


def test_scores_count_within_the_tolerance():
    label = np.zeros((20, 20), bool)
    label[5:15, 10] = True  # 10 px
    pred = np.zeros((20, 20), bool)
    pred[5:15, 12] = True  # 2 px to the right: found within 2, not within 1
    pred[0, 0] = True  # a false alarm
    c = mask_counts(pred, label, tol=2)
    assert c == {
        "label": 10,
        "found": 10,
        "pred": 11,
        "right": 10,
        "both": 0,
        "either": 21,
        "scored": 400,
    }
    s = scores(c)
    assert s["recall"] == 1.0 and s["precision"] == pytest.approx(10 / 11) and s["iou"] == 0.0
    assert mask_scores(pred, label, tol=1)["recall"] == 0.0
    ignore = np.zeros((20, 20), bool)
    ignore[0, 0] = True
    assert mask_scores(pred, label, ignore, tol=2)["precision"] == 1.0
    pooled = scores({k: c[k] + mask_counts(label, label)[k] for k in c})  # a perfect second print
    assert pooled["recall"] == 1.0 and pooled["precision"] == pytest.approx(20 / 21)
    assert scores({**c, "pred": 0, "right": 0})["precision"] == 0.0


@pytest.mark.parametrize(
    "spec, match",
    [
        ({"rules": [{"levle": 0.8}]}, "unknown rule settings"),
        ({"rules": [{"polarity": "up"}]}, "polarity"),
        ({"ignore": [[10, 5, 4, 8]]}, "box"),
        ({"strokes": [{"points": [[1, 1]], "width": 2}]}, "stroke"),
    ],
)
def test_bad_labels_are_refused(spec, match):
    with pytest.raises(ValueError, match=match):
        label_mask(dark_print(), spec)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="uint8"):
        label_mask(dark_print().astype(np.float32), {})
    with pytest.raises(ValueError, match="shapes differ"):
        mask_scores(np.zeros((4, 4), bool), np.zeros((4, 5), bool))
    with pytest.raises(ValueError, match="no damage"):
        mask_scores(np.zeros((4, 4), bool), np.zeros((4, 4), bool))


@pytest.mark.skipif(not REAL_OLD.is_dir(), reason="needs ../shared/data/real_old")
def test_the_labels_file_draws_a_plausible_mask_on_each_print():
    """Every labelled print exists and its label covers 0.5-15% of what is scored; the scores in
    docs/metrics/photo_real_labels.json are of these labels (same labelled share)."""
    spec = json.loads((REPO / "labels" / "real_old.json").read_text())["prints"]
    done = json.loads((REPO / "docs" / "metrics" / "photo_real_labels.json").read_text())
    shares = {r["print"]: r["used"]["label_share"] for r in done["prints"]}
    assert set(shares) == set(spec)
    for name, entry in spec.items():
        img = cv2.imread(str(REAL_OLD / name), cv2.IMREAD_COLOR)
        assert img is not None, name
        label, ignore = label_mask(img, entry)
        share = label.sum() / (~ignore).sum()
        assert 0.005 <= share <= 0.15, name
        assert share == pytest.approx(shares[name], abs=1e-4), name
