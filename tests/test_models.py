"""Shipped models and their cards (restore/models.py, restore/weights/*.json).

Every shipped card is in the one card format (restore.core.card), validates, matches its weights,
holds summary numbers only (per-image rows in docs/metrics/) and no machine path.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import restore
from restore import models
from restore.core.card import machine_paths, runtime, validate_card
from restore.core.checkpoint import sha256_file
from restore.errors import CheckpointError, ModelNotFoundError
from restore.tasks import TASKS

REPO = Path(__file__).resolve().parents[1]
CARDS = sorted(models.WEIGHTS_DIR.glob("*.json"))


def test_every_card_in_the_weights_folder_is_a_shipped_model():
    assert {p.stem for p in CARDS} <= set(models.SHIPPED)
    assert set(models.available()) == {p.stem for p in CARDS}


@pytest.mark.parametrize("path", CARDS, ids=[p.stem for p in CARDS])
def test_every_shipped_card_validates_as_written(path):
    raw = json.loads(path.read_text())
    card = validate_card(raw, str(path))  # the file itself is in the current format
    assert models.read_card(path) == raw
    name = path.stem
    spec = TASKS[card["task"]]
    assert card["name"] == name and card["description"] == models.SHIPPED[name]
    assert name in (spec.evaluation_models if card["kind"] == "evaluation" else spec.models)
    assert runtime(card)["sha256"] == sha256_file(path.with_suffix(".safetensors"))


@pytest.mark.parametrize("path", CARDS, ids=[p.stem for p in CARDS])
def test_no_shipped_card_holds_a_machine_path_or_per_image_rows(path):
    card = json.loads(path.read_text())
    assert machine_paths(card) == []
    assert '"rows"' not in json.dumps(card.get("metrics", {}))
    detail = card.get("metrics", {}).get("detail")
    if detail:  # the full results the card points to: present, and portable too
        assert (REPO / detail).is_file(), detail
        assert machine_paths(json.loads((REPO / detail).read_text())) == []


def test_the_evaluation_model_is_refused_by_load_and_loaded_by_its_task():
    import torch

    from restore.tasks.generation import load_classifier

    if "mnist-classifier" not in models.available():
        pytest.skip("mnist-classifier is not shipped in this installation")
    with pytest.raises(ModelNotFoundError, match="evaluation model .* not an image model"):
        restore.load("mnist-classifier")
    clf = load_classifier("mnist-classifier")
    assert clf(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_a_run_folder_with_an_old_format_card_still_loads(tiny_model_dir, tmp_path):
    run = tmp_path / "old_run"
    shutil.copytree(tiny_model_dir, run)
    card = json.loads((run / "model.json").read_text())
    flat = {k: v for k, v in card.items() if k not in ("runtime", "kind")}
    flat.update({k: v for k, v in card["runtime"].items() if k != "format"})
    (run / "model.json").write_text(json.dumps(flat))
    r = restore.load(run, device="cpu")
    assert r.card["runtime"]["generator"] == flat["generator"] and r.card["kind"] == "model"
    assert r.inference == flat["inference"]


def test_a_shipped_card_without_its_sha256_is_refused(tmp_path, monkeypatch):
    for suffix in (".safetensors", ".json"):
        shutil.copyfile(models.WEIGHTS_DIR / f"sr-x4{suffix}", tmp_path / f"sr-x4{suffix}")
    monkeypatch.setattr(models, "WEIGHTS_DIR", tmp_path)
    card = json.loads((tmp_path / "sr-x4.json").read_text())
    del card["runtime"]["sha256"]
    (tmp_path / "sr-x4.json").write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match="no runtime.sha256"):
        models.load_predictor("sr-x4")
    card["task"] = "sharpening"
    (tmp_path / "sr-x4.json").write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match="field task 'sharpening' is not a known task"):
        models.load_predictor("sr-x4")
