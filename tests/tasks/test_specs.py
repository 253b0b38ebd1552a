"""The task specs (restore/tasks/specs.py): one table that every per-task list reads.

The derived tables are compared with the hand-kept lists they replaced, so moving to the specs
changed no behaviour (same CLI choices, same default models, same exportable tasks).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from restore.errors import ConfigError
from restore.tasks import TASKS, TaskSpec, register_task, spec_of, task_class
from restore.tasks import specs as S
from restore.tasks.base import Task

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def restore_tasks():
    """Put TASKS back as it was after a test that registers a task."""
    before = dict(TASKS)
    yield
    TASKS.clear()
    TASKS.update(before)


def test_every_spec_names_its_class_networks_and_protocol():
    from restore.core.registry import NETWORKS

    for name, spec in TASKS.items():
        cls = task_class(name)
        assert issubclass(cls, Task) and cls.name == name == spec.name
        assert set(spec.networks) <= set(NETWORKS), name
        # a protocol is described exactly when the task implements Task.evaluate
        assert (spec.protocol is not None) == ("evaluate" in vars(cls)), name
        assert spec.input != "noise" or spec.onnx is None, f"{name} samples noise: no ONNX"


def test_register_refuses_a_duplicate_and_keeps_the_first():
    table = {"a": 1}
    with pytest.raises(ConfigError, match="duplicate network 'a'"):
        S.register(table, "a", 2, what="network")
    assert table == {"a": 1}
    assert S.register(table, "b", 3) == 3 and table == {"a": 1, "b": 3}


@pytest.mark.parametrize(
    "clash, match",
    [
        (dict(name="enhance"), "duplicate task 'enhance'"),
        (dict(models={"sr-x4": "again"}), "task 'toy': duplicate shipped model 'sr-x4'"),
        (dict(models={"m": "d"}, default_model="m", alias="sr"), "alias 'sr': already task 'su"),
        (dict(models={"m": "d"}, default_model="m", alias="photo"), "the photo pipeline's"),
        (dict(models={"m": "d"}, stages={"detect": "m"}), "photo stage 'detect'"),
        (dict(evaluation_models={"mnist-classifier": "d"}), "shipped model 'mnist-classifier'"),
    ],
)
def test_register_task_refuses_a_taken_name_and_changes_nothing(restore_tasks, clash, match):
    before = (dict(TASKS), S.shipped_models(), S.task_aliases(), S.stage_models())
    spec = TaskSpec(**{"name": "toy", "cls": "x:Y", "networks": ("unet",), **clash})
    with pytest.raises(ConfigError, match=match):
        register_task(spec)
    assert (dict(TASKS), S.shipped_models(), S.task_aliases(), S.stage_models()) == before


def test_a_registered_task_reaches_every_derived_table(restore_tasks):
    spec = TaskSpec(
        name="toy",
        cls="restore.tasks.enhance:EnhanceTask",
        networks=("unet",),
        models={"toy-model": "A toy."},
        default_model="toy-model",
        alias="toy",
        stages={"toy-stage": "toy-model"},
    )
    assert register_task(spec) is spec and spec_of("toy") is spec
    assert S.shipped_models()["toy-model"] == "A toy."
    assert (
        S.enhance_choices()["toy"] == "toy-model" and S.stage_models()["toy-stage"] == "toy-model"
    )
    assert task_class("toy").name == "enhance"


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(cls="no_colon"), "module:Class"),
        (dict(input="video"), "input must be one of"),
        (dict(output="sound"), "output must be one of"),
        (dict(default_model="nope"), "default_model 'nope' is not in models"),
        (dict(alias="a"), "alias 'a' needs a default_model"),
        (dict(stages={"detect": "nope"}), "stage 'detect' uses 'nope'"),
    ],
)
def test_a_malformed_spec_is_refused(bad, match):
    with pytest.raises(ConfigError, match=match):
        TaskSpec(**{"name": "toy", "cls": "x:Y", "networks": (), **bad})


def test_unknown_task_lists_the_known_ones():
    with pytest.raises(ConfigError, match="unknown task 'nope'; known tasks: .*super_resolution"):
        task_class("nope")


def test_the_derived_tables_equal_the_lists_they_replaced():
    """What was kept by hand in nine places before the specs, read from them now."""
    from restore.batch import TASK_MODELS
    from restore.cli import build_parser
    from restore.export import NETWORK_IO
    from restore.models import SHIPPED
    from restore.photo import DEFAULT_MODELS

    assert TASK_MODELS == {
        "sr": "sr-x4",
        "inpaint": "inpaint",
        "colorize": "colorize",
        "face": "face",
        "photo": "photo",
        "style": "style-painting",
    }
    parser = build_parser()
    for t in TASK_MODELS:  # restore enhance --task takes exactly these
        assert parser.parse_args(["enhance", "in", "out", "--task", t]).task == t
    assert parser.parse_args(["enhance", "in", "out"]).task is None  # batch: the photo task
    for t in ("super_resolution", "damage", "enhance"):
        with pytest.raises(SystemExit):
            parser.parse_args(["enhance", "in", "out", "--task", t])
    assert DEFAULT_MODELS == {
        "detect": "damage",
        "inpaint": "inpaint",
        "enhance": "enhance",
        "faces": "face",
        "colorize": "colorize",
        "upscale2": "sr-x2",
        "upscale4": "sr-x4",
    }
    assert list(SHIPPED) == [
        "enhance",
        "sr-x2",
        "sr-x4",
        "sr-x4-gan",
        "inpaint",
        "colorize",
        "damage",
        "damage-coarse",
        "face",
        "style-painting",
        "gen-mnist",
        "gen-cifar10",
        "mnist-classifier",  # an evaluation model, listed since it has a card in the same format
    ]
    assert set(NETWORK_IO) == set(TASKS) - {"generation"}


def test_no_script_writes_into_the_task_table():
    """Benchmarks register their tasks (register_task refuses a clash) instead of writing TASKS."""
    write = re.compile(r"\bTASKS\s*\[[^\]]+\]\s*=|\bTASKS\.(update|setdefault)\(")
    offenders = [
        str(p.relative_to(REPO))
        for p in [*(REPO / "scripts").rglob("*.py"), *(REPO / "restore").rglob("*.py")]
        if write.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
