"""Untrusted weight files: tampered, truncated, mismatched or pickled files are refused clearly."""

from __future__ import annotations

import json
import shutil

import pytest

from restore import models
from restore.core.checkpoint import sha256_file
from restore.errors import CheckpointError, ModelNotFoundError


@pytest.fixture
def weights_copy(tmp_path, monkeypatch):
    """A private copy of the shipped sr-x4 files, with WEIGHTS_DIR pointed at it."""
    for suffix in (".safetensors", ".json"):
        shutil.copyfile(models.WEIGHTS_DIR / f"sr-x4{suffix}", tmp_path / f"sr-x4{suffix}")
    monkeypatch.setattr(models, "WEIGHTS_DIR", tmp_path)
    return tmp_path


def test_every_shipped_model_matches_the_sha256_in_its_card():
    names = models.available()
    assert "sr-x4" in names
    for name in names:
        card = models.read_card(models.WEIGHTS_DIR / f"{name}.json")
        want = card["runtime"]["sha256"]
        assert want == sha256_file(models.WEIGHTS_DIR / f"{name}.safetensors"), name
        assert (models.WEIGHTS_DIR / f"{name}.safetensors").stat().st_size <= 16 * 1024 * 1024


def test_tampered_shipped_weights_are_refused(weights_copy):
    models.load_predictor("sr-x4")  # the intact copy loads
    p = weights_copy / "sr-x4.safetensors"
    data = bytearray(p.read_bytes())
    data[-10] ^= 0xFF  # one flipped byte in the tensor data: still parses as safetensors
    p.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="SHA-256"):
        models.load_predictor("sr-x4")


def test_truncated_weights_are_refused(weights_copy):
    p = weights_copy / "sr-x4.safetensors"
    p.write_bytes(p.read_bytes()[:1000])
    with pytest.raises(CheckpointError):
        models.load_predictor(p)


def test_weights_that_do_not_fit_the_card_are_refused(weights_copy):
    card_path = weights_copy / "sr-x4.json"
    card = models.read_card(card_path)
    rt = card["runtime"]
    rt.pop("sha256")
    rt["generator_args"] = {
        **rt["generator_args"],
        "channels": rt["generator_args"]["channels"] * 2,
    }
    card_path.write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match="do not match the model"):
        models.load_predictor(weights_copy / "sr-x4.safetensors")


def test_pickle_and_unknown_names(tmp_path):
    pth = tmp_path / "model.pth"
    pth.write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(CheckpointError, match="pickle"):
        models.load_predictor(pth)
    with pytest.raises(ModelNotFoundError, match="sr-x4"):  # the message lists the known names
        models.load_predictor("sr-x3")
