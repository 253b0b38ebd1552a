from __future__ import annotations

import pytest

from restore.config import Config, OptimConfig, apply_overrides, from_dict, load_config, to_dict
from restore.errors import ConfigError

BASE = {"name": "t", "task": "enhance", "data": {"train": "x"}}


def test_defaults_and_nested_sections():
    cfg = from_dict(Config, BASE)
    assert cfg.optim == OptimConfig()
    assert cfg.data.train == "x"
    assert cfg.optim.betas == (0.5, 0.999)
    with pytest.raises(AttributeError):
        cfg.name = "other"  # frozen


@pytest.mark.parametrize(
    "patch, match",
    [
        ({"optim": {"lr_gg": 1.0}}, r"unknown config key optim\.lr_gg"),
        ({"trian": {}}, r"unknown config key trian"),
        ({"optim": {"lr_g": "fast"}}, r"optim\.lr_g must be a number"),
        ({"train": {"steps": 1.5}}, r"train\.steps must be an integer"),
        ({"train": {"steps": True}}, r"train\.steps must be an integer"),
        ({"data": {"cache": "yes"}}, r"data\.cache must be true/false"),
        ({"loss": {"adversarial": "minimax"}}, r"loss\.adversarial must be one of"),
        ({"optim": {"betas": [0.5]}}, r"optim\.betas must have 2 items"),
        ({"train": {"steps": 0}}, r"train\.steps must be > 0"),
        ({"train": {"echo": 0}}, r"train\.echo must be > 0"),
        ({"train": {"ema_decay": 1.0}}, r"train\.ema_decay"),
    ],
)
def test_bad_values_name_the_key(patch, match):
    data = {**BASE, **patch}
    with pytest.raises(ConfigError, match=match):
        from_dict(Config, data)


def test_missing_required_key():
    with pytest.raises(ConfigError, match="missing required config key task"):
        from_dict(Config, {"name": "t"})


def test_int_accepted_for_float_and_round_trip():
    cfg = from_dict(Config, {**BASE, "optim": {"lr_g": 1}})
    assert cfg.optim.lr_g == 1.0 and isinstance(cfg.optim.lr_g, float)
    assert from_dict(Config, to_dict(cfg)) == cfg


def test_overrides(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("name: t\ntask: enhance\ndata: {train: x}\noptim: {lr_g: 0.001}\n")
    cfg = load_config(
        p, ["optim.lr_g=1e-4", "train.steps=7", "model.generator_args.depth=3", "name=u"]
    )
    assert cfg.optim.lr_g == pytest.approx(1e-4)
    assert cfg.train.steps == 7
    assert cfg.model.generator_args == {"depth": 3}
    assert cfg.name == "u"
    with pytest.raises(ConfigError, match=r"unknown config key train\.stepz"):
        load_config(p, ["train.stepz=3"])
    with pytest.raises(ConfigError, match="must look like"):
        apply_overrides({}, ["train.steps"])
    with pytest.raises(ConfigError, match="is not a section"):
        apply_overrides({"name": "x"}, ["name.sub=1"])


def test_load_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(bad)
    lst = tmp_path / "list.yaml"
    lst.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping at the top level"):
        load_config(lst)


def test_every_shipped_config_loads():
    from pathlib import Path

    from restore.tasks import create_task

    configs = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))
    # relay.yaml is the relay's targets table, not a recipe (tests/test_relay.py loads it)
    configs = [p for p in configs if p.name != "relay.yaml"]
    assert configs, "configs/ holds the recipes"
    for path in configs:
        cfg = load_config(path)
        if (
            not cfg.data.train or not cfg.data.train_b
        ):  # templates: folders given on the command line
            cfg = load_config(
                path,
                ["data.train=a", "data.train_b=b"] if not cfg.data.train else ["data.train_b=b"],
            )
        create_task(cfg)  # task_args checked strictly by the task
