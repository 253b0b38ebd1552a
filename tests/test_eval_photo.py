"""scripts/eval_photo.py: the classical baseline with the true mask, and the metric bookkeeping."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

from restore.photo import cv2_inpaint
from restore.tasks.damage import mask_scores

REPO = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("eval_photo", REPO / "scripts" / "eval_photo.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


ev = _script()


def _flat_with_hole(level: int = 128) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    clean = torch.full((1, 3, 40, 48), float(level)) / 255  # as an 8-bit photo reads
    mask = torch.zeros(1, 1, 40, 48)
    mask[..., 10:18, 5:30] = 1  # a block hole and a one-pixel scratch
    mask[..., 30, :] = 1
    damaged = torch.where(mask > 0, torch.tensor([1.0, 0.9, 0.2]).view(1, 3, 1, 1), clean)
    return clean, damaged, mask


def test_classical_with_the_true_mask_restores_a_flat_image():
    clean, damaged, mask = _flat_with_hole()
    assert ev.psnr_db(clean, clean) == ev.PSNR_CAP  # identical: capped, not inf
    assert ev.psnr_db(damaged, clean) < 17
    # Telea given the true mask: nearly exact (OpenCV's Telea lets the hole's old values leak
    # into a few of its pixels, by <= 2 levels here: 70 dB)
    filled = cv2_inpaint(damaged, mask)
    assert torch.equal(filled[mask.expand_as(filled) == 0], clean[mask.expand_as(clean) == 0])
    assert (filled - clean).abs().max() <= 2.01 / 255
    assert ev.psnr_db(filled, clean) > 60
    # + NL-means: OpenCV denoises colour photos in 8-bit Lab, whose round trip moves 128 to 127
    fixed = ev.classical(damaged, mask)
    assert fixed.shape == clean.shape
    assert (fixed - clean).abs().max() <= 1.01 / 255
    assert ev.psnr_db(fixed, clean) > 45
    # with no mask the hole stays (NL-means only smooths it)
    assert ev.psnr_db(ev.classical(damaged, torch.zeros_like(mask)), clean) < 20


def test_gains_and_summary_arithmetic():
    rows = [
        ev.add_gains({"psnr_input": 20.0, "psnr_restore": 25.0, "psnr_classical_true": 24.0}),
        ev.add_gains({"psnr_input": 30.0, "psnr_restore": 29.0, "psnr_classical_true": 31.0}),
    ]
    assert rows[0]["gain_input"] == 5.0 and rows[0]["gain_classical_true"] == 1.0
    assert rows[1]["gain_input"] == -1.0 and rows[1]["gain_classical_true"] == -2.0
    assert "gain_classical_detected" not in rows[0]  # no such method in the row
    for r, (tp, fp, fn) in zip(rows, [(6, 2, 2), (0, 0, 10)]):
        r.update(tp=tp, fp=fp, fn=fn, raw_tp=tp, raw_fp=0, raw_fn=fn)
    rows[0]["grey_dev_restore"] = 0.25  # only some rows have it
    m = ev.summarize(rows)
    assert m["n"] == 2
    assert m["psnr_restore"] == 27.0 and m["min_psnr_restore"] == 25.0
    assert m["gain_input"] == 2.0 == m["psnr_restore"] - m["psnr_input"]
    assert m["gain_classical_true"] == -0.5
    assert m["worst_gain_input"] == -1.0 and m["worse"] == 1
    assert m["grey_dev_restore"] == 0.25
    # pooled over pixels: tp 6, fp 2, fn 12 (not the mean of the per-image ratios)
    assert m["pooled_iou"] == pytest.approx(6 / 20)
    assert m["pooled_precision"] == pytest.approx(6 / 8)
    assert m["pooled_recall"] == pytest.approx(6 / 18)
    assert m["pooled_raw_iou"] == pytest.approx(6 / 18)
    assert ev.summarize([]) == {"n": 0}


def test_mask_counts_agree_with_mask_scores():
    g = torch.Generator().manual_seed(0)
    pred = (torch.rand(2, 1, 16, 16, generator=g) > 0.6).float()
    true = (torch.rand(2, 1, 16, 16, generator=g) > 0.7).float()
    c = ev.mask_counts(pred, true)
    assert sum(c.values()) == int(((pred > 0) | (true > 0)).sum())
    ref = mask_scores(pred, true)
    for k, v in ev.mask_ratios(**c).items():
        assert v == pytest.approx(ref[k])
    assert ev.mask_ratios(0, 0, 0) == {"iou": 0.0, "precision": 0.0, "recall": 0.0}


def test_grey_deviation_in_levels():
    grey = torch.rand(1, 1, 8, 8).expand(-1, 3, -1, -1)
    assert ev.grey_deviation(grey) == pytest.approx(0.0, abs=1e-4)
    assert ev.is_grey(grey)
    red = torch.zeros(1, 3, 4, 4)
    red[:, 0] = 1.0  # luma 0.299: |1 - 0.299| + 2 * 0.299 over 3 channels
    assert ev.grey_deviation(red) == pytest.approx(255 * (0.701 + 2 * 0.299) / 3, rel=1e-4)
    assert not ev.is_grey(red)


def test_mild_degradation_is_mild_seeded_and_keeps_grey():
    g = torch.Generator().manual_seed(1)
    grey = ev.quantize(torch.rand(1, 1, 32, 32, generator=g).expand(-1, 3, -1, -1))
    grey = torch.nn.functional.avg_pool2d(grey, 3, 1, 1)  # smooth-ish, like a photo
    grey = ev.quantize(grey)
    a = ev.mild_degrade(grey, 5, grey=True)
    assert ev.is_grey(a) and torch.equal(a, ev.mild_degrade(grey, 5, grey=True))
    assert torch.equal(a, ev.quantize(a))
    assert 22 < ev.psnr_db(a, grey) < 45
    colour = ev.quantize(torch.rand(1, 3, 32, 32, generator=g))
    assert not ev.is_grey(ev.mild_degrade(colour, 5, grey=False))


def test_groups_per_set_all_and_base():
    rows = [
        {"damage": "holdout", "set": "Set5", "base": "bw"},
        {"damage": "holdout", "set": "Set14", "base": "sepia"},
        {"damage": "own", "set": "Set5", "base": "colour"},
    ]
    got = [(k, p, len(rs)) for k, p, rs in ev.groups(rows, "damage", ["Set5", "Set14"])]
    assert got == [
        ("holdout", "Set5", 1),
        ("holdout", "Set14", 1),
        ("holdout", "all", 2),
        ("holdout", "all, bw", 1),
        ("holdout", "all, sepia", 1),
        ("own", "Set5", 1),
        ("own", "Set14", 0),
        ("own", "all", 1),
    ]


@pytest.mark.parametrize("script", ["eval_photo", "eval_real_labels", "make_real_old_sheet"])
def test_the_photo_scripts_share_one_definition_of_the_detection_flags(script, monkeypatch):
    """The three scripts whose numbers are compared take the same detection flags and turn them
    into the same PhotoRestorer keywords (scripts/photo_options.py)."""
    import argparse

    import photo_options as po

    mod = ev
    if script != "eval_photo":
        spec = importlib.util.spec_from_file_location(script, REPO / "scripts" / f"{script}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)  # type: ignore[union-attr]
    seen = {}

    class Stop(Exception):
        pass

    def fake_restorer(**kw):
        seen.update(kw)
        raise Stop

    monkeypatch.setattr(mod, "PhotoRestorer", fake_restorer)
    flags = ["--detect-flips", "2", "--detect-grey", "0", "--threshold", "0.3", "--no-lines"]
    threads = str(torch.get_num_threads())  # the scripts set it: leave the session's as it is
    monkeypatch.setattr(
        sys, "argv", [script, *flags, "--model", "detect=RUN", "--threads", threads]
    )
    with pytest.raises(Stop):
        mod.main()
    ap = argparse.ArgumentParser()
    po.add_detection_options(ap)
    want = po.detection_options(ap.parse_args(flags))
    assert want == {"detect_flips": 2, "detect_grey": 0.0, "threshold": 0.3, "detect_lines": False}
    assert {k: seen[k] for k in want} == want and seen["models"] == {"detect": "RUN"}
