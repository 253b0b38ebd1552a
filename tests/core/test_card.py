"""The model-card format (restore/core/card.py): upgrade, validation, machine paths, rows."""

from __future__ import annotations

import copy
import json

import pytest

from restore.core.card import (
    CARD_FORMAT,
    machine_paths,
    module_specs,
    read_card_file,
    split_rows,
    strip_machine_paths,
    upgrade_card,
    validate_card,
)
from restore.errors import CheckpointError

SHA = "0" * 64
FLAT = {  # a card as restore train wrote it before the format existed
    "name": "tiny",
    "task": "enhance",
    "generator": "unet",
    "generator_args": {"depth": 3},
    "task_args": {"residual": True},
    "inference": {"residual": True},
    "modules": ["G"],
    "training": {"steps": 8},
    "metrics": {"psnr": 20.0},
    "sha256": SHA,
}


def current() -> dict:
    return upgrade_card(FLAT)


def test_upgrade_moves_the_runtime_keys_and_keeps_the_rest():
    card = current()
    assert card["runtime"] == {
        "generator": "unet",
        "generator_args": {"depth": 3},
        "task_args": {"residual": True},
        "inference": {"residual": True},
        "modules": ["G"],
        "sha256": SHA,
        "format": CARD_FORMAT,
    }
    assert card["kind"] == "model" and card["training"] == {"steps": 8}
    assert not {"generator", "inference", "sha256"} & set(card)
    assert upgrade_card(card) == card  # a current card is left as it is
    assert validate_card(card) == card
    assert module_specs(card) == {"G": ("unet", {"depth": 3})}


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda c: c.pop("task"), "task is missing"),
        (lambda c: c.update(kind="toy"), "kind must be one of"),
        (lambda c: c.pop("runtime"), "runtime is missing"),
        (lambda c: c["runtime"].update(format=2), "runtime.format is 2; this restore reads"),
        (lambda c: c["runtime"].pop("format"), "runtime.format must be an integer"),
        (lambda c: c["runtime"].pop("generator"), "runtime.generator is missing"),
        (lambda c: c["runtime"].update(generator_args=[1]), "runtime.generator_args must be"),
        (lambda c: c["runtime"].update(modules=[]), "runtime.modules must be a non-empty list"),
        (lambda c: c["runtime"].pop("inference"), "runtime.inference is missing"),
        (lambda c: c["runtime"].update(task_args=3), "runtime.task_args must be a JSON object"),
        (lambda c: c["runtime"].update(sha256="abc"), "runtime.sha256 must be 64"),
        (lambda c: c["runtime"].update(colour=1), "runtime.colour is unknown"),
        (lambda c: c.update(inference={}), "inference belongs in the runtime section"),
        (lambda c: c["runtime"].update(networks={"G": {"args": {}}}), "runtime.networks.G must"),
    ],
)
def test_a_bad_card_names_the_field(edit, field):
    card = copy.deepcopy(current())
    edit(card)
    with pytest.raises(CheckpointError, match=f"x.json: model card field {field}"):
        validate_card(card, "x.json")


def test_networks_cards_need_no_generator():
    card = copy.deepcopy(current())
    for k in ("generator", "generator_args", "modules"):
        card["runtime"].pop(k)
    card["runtime"]["networks"] = {"C": {"name": "digit_classifier", "args": {"width": 8}}}
    assert validate_card(card)["runtime"]["networks"]
    assert module_specs(card) == {"C": ("digit_classifier", {"width": 8})}


def test_read_card_file_upgrades_and_names_the_file(tmp_path):
    p = tmp_path / "model.json"
    p.write_text(json.dumps(FLAT))
    assert read_card_file(p) == current()
    p.write_text("{not json")
    with pytest.raises(CheckpointError, match="cannot read model card .*model.json"):
        read_card_file(p)
    p.write_text(json.dumps({**FLAT, "generator_args": None}))
    with pytest.raises(
        CheckpointError, match="model.json: model card field runtime.generator_args"
    ):
        read_card_file(p)


@pytest.mark.parametrize(
    "text, portable",
    [
        ("/work/shared/data/val/Set5/x4/HR", "../shared/data/val/Set5/x4/HR"),
        (
            "restore eval --model runs/sr --data /work/shared/data/val/Set5/x2 --json /tmp/tmpab12/S.json",
            "restore eval --model runs/sr --data ../shared/data/val/Set5/x2 --json S.json",
        ),
        ("--set data.train=/tmp/pytest-of-root/p0/imgs", "--set data.train=imgs"),
        ("/home/me/restore/runs/relay/sr_x4", "runs/relay/sr_x4"),
        ("T91 (../shared/data/train, 590 images)", "T91 (../shared/data/train, 590 images)"),
        (
            "8000 train / 2000 held out, 1.1 step/s, L*/50-1",
            "8000 train / 2000 held out, 1.1 step/s, L*/50-1",
        ),
    ],
)
def test_machine_paths_become_portable(text, portable):
    assert strip_machine_paths({"a": [text]}) == {"a": [portable]}
    assert machine_paths({"a": [portable]}) == []
    assert machine_paths({"a": [text]}) == ([] if text == portable else [f"a[0]: {text}"])


def test_temporary_folders_count_as_machine_paths():
    assert machine_paths({"json": "tmpp61uh0wp/Set14.json"}) == ["json: tmpp61uh0wp/Set14.json"]
    assert machine_paths({"note": "the template matches"}) == []


def test_split_rows_keeps_the_summary():
    full = {"Set5": {"mean": {"psnr": 30.0}, "rows": [{"name": "a.png"}]}, "scale": 4}
    summary, had = split_rows(full)
    assert had and summary == {"Set5": {"mean": {"psnr": 30.0}}, "scale": 4}
    assert split_rows(summary) == (summary, False)
