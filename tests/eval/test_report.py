"""restore.eval.report: one result's full table, and several sets side by side."""

from __future__ import annotations

from restore.eval.report import format_table, method_means, summary_table

SR = {
    "task": "sr",
    "count": 5,
    "methods": ["model", "bicubic"],
    "mean": {
        "bicubic": {"psnr": 28.42, "ssim": 0.81, "grad_ratio": 0.69},
        "model": {"psnr": 31.25, "ssim": 0.88, "grad_ratio": 0.81},
    },
}
DAMAGE = {"iou": 0.64, "precision": 0.86, "recall": 0.71, "f1": 0.78, "images": [{}, {}]}


def test_summary_table_rows_per_set_model_beside_baseline():
    set14 = {**SR, "count": 14, "bars": {"gain_ok": True, "detail": {"a": 1}}}
    lines = summary_table({"Set5_x4": SR, "Set14_x4": set14}).splitlines()
    header = [c.strip() for c in lines[0].split("|")]
    assert header == [
        "set",
        "n",
        "psnr model",
        "psnr bicubic",
        "ssim model",
        "ssim bicubic",
        "grad_ratio model",
        "grad_ratio bicubic",
    ]
    assert [c.strip() for c in lines[2].split("|")][:4] == ["Set5_x4", "5", "31.25", "28.42"]
    assert lines[3].startswith("Set14_x4 | 14")
    assert lines[4] == "Set14_x4: gain_ok True"  # scalar bars only
    assert all(line == line.rstrip() for line in lines)


def test_flat_results_are_one_method():
    assert list(method_means(DAMAGE)) == ["model"]
    assert method_means({"mean": {"fid": 3.0}}) == {"model": {"fid": 3.0}}
    assert list(method_means(SR)) == ["model", "bicubic"]  # the model first, as "methods" says
    table = summary_table({"Set5": DAMAGE})
    assert "iou model" in table and "Set5 | 2 | 0.6400" in table
    assert format_table(DAMAGE).startswith("result: 2 images")
