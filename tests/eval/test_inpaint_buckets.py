"""restore.eval.inpaint_buckets.bucket_bars: the model against the best classical method."""

from __future__ import annotations

import pytest

from restore.eval.inpaint_buckets import CLASSICAL, bucket_bars

# per-bucket PSNR: the model beats the best classical method by 2 dB from 10% up, loses below
PSNR = {
    "0-10%": {"model": 30.0, "telea": 31.0, "navier_stokes": 30.5, "biharmonic": 30.0},
    "10-20%": {"model": 29.0, "telea": 27.0, "navier_stokes": 26.0, "biharmonic": 25.0},
    "20-30%": {"model": 27.0, "telea": 24.0, "navier_stokes": 25.0, "biharmonic": 23.0},
    "50-60%": {"model": 22.0, "telea": 19.0, "navier_stokes": 20.0, "biharmonic": 18.0},
}


def _result() -> dict:
    rows = [
        {"name": "a", "method": m, "bucket": b, "psnr": v}
        for b, per in PSNR.items()
        for m, v in per.items()
    ]
    buckets = {b: {m: {"psnr": v} for m, v in per.items()} for b, per in PSNR.items()}
    return {"rows": rows, "buckets": buckets, "methods": ["model", *CLASSICAL]}


def test_bucket_bars():
    bars = bucket_bars(_result())
    assert bars["best_classical_20_60"] == "navier_stokes"
    assert bars["gap_20_60_db"] == pytest.approx(2.0)  # (27 + 22) / 2 - (25 + 20) / 2
    assert bars["bar_1db_20_60"] is True
    assert bars["beats_every_bucket_from_10"] is True  # 0-10% does not count
    assert bars["gaps"]["0-10%"] == {"best_classical": "telea", "gap_db": pytest.approx(-1.0)}
    worse = _result()
    worse["buckets"]["10-20%"]["model"]["psnr"] = 26.5
    assert bucket_bars(worse)["beats_every_bucket_from_10"] is False
