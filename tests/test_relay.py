"""``restore relay``: the targets table, the plan, the ship rule, and a whole leg on a tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from restore import relay
from restore.cli import build_parser, parse_budget
from restore.core.card import machine_paths
from restore.core.checkpoint import load_tensors, save_tensors, sha256_file, to_float16
from restore.errors import ConfigError
from restore.models import WEIGHTS_DIR, read_card
from restore.relay_scoring import score_sr

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def target(name="enhance", **kw) -> relay.Target:
    row = dict(
        name=name,
        recipe=str(REPO / "configs" / "tiny.yaml"),
        steps=1000,
        scorer="sr",
        data=("a", "b"),
        metric="m",
        baseline=10.0,
        target=20.0,
        source="s",
    )
    row.update(kw)
    return relay.Target(**row)


def card(value=None, steps=100, seconds=50.0):
    c = {"training": {"legs": [{"leg": 1, "steps": steps, "seconds": seconds}]}}
    if value is not None:
        c["relay"] = {"value": value}
    return c


def test_remaining_share():
    t = target()
    assert t.remaining(10.0) == 1.0 and t.remaining(20.0) == 0.0 and t.remaining(17.5) == 0.25
    assert t.remaining(None) == 1.0


def test_plan_orders_by_remaining_share_and_fits_the_budget():
    ts = {"a": target("a"), "b": target("b"), "c": target("c")}
    cards = {"a": card(18.0), "b": card(12.0), "c": card(15.0, steps=100, seconds=200.0)}
    # b (0.8 left) first: 1000 steps at 0.5 s = 500 s; c (0.5 left) at 2 s/step gets the 700 s left
    p = relay.plan(ts, cards, budget_s=1200.0)
    assert [(x.name, x.steps) for x in p] == [("b", 1000), ("c", 350)]
    assert p[1].seconds == pytest.approx(700.0)
    # under MIN_STEPS of time left: the model is skipped, not squeezed
    assert [x.name for x in relay.plan(ts, cards, budget_s=100.0)] == []
    assert [x.name for x in relay.plan(ts, cards, budget_s=1e6, only=["a"])] == ["a"]


def test_judge_needs_a_higher_headline_and_no_guard_loss():
    old = relay.Score(30.0, {"Set14": 27.0})
    assert relay.judge(relay.Score(30.1, {"Set14": 26.96}), old)[0]
    ok, why = relay.judge(relay.Score(30.1, {"Set14": 26.9}), old)
    assert not ok and "guard Set14" in why
    assert not relay.judge(relay.Score(30.0, {"Set14": 28.0}), old)[0]
    # a guard at or above its floor (the bar) passes however much it lost
    assert relay.judge(relay.Score(30.1, {"Set14": 26.0}), old, floors={"Set14": 26.0})[0]
    assert not relay.judge(relay.Score(30.1, {"Set14": 25.9}), old, floors={"Set14": 26.0})[0]


def test_a_trade_ships_a_small_headline_loss_for_a_guard_gain():
    """Leg 15's numbers (real mean recall 0.314 -> 0.399 for -0.14 dB) ship on the damage row's
    trade; a smaller gain, a larger cost, a headline under the floor or another guard's loss
    do not."""
    real, clean = "real prints: mask recall (mean)", "clean photo PSNR"
    trade = relay.Trade(real, gain=0.03, cost=0.2, floor=4.0)
    old = relay.Score(5.2877, {real: 0.314, clean: 46.7})
    ok, why = relay.judge(relay.Score(5.1511, {real: 0.399, clean: 46.7}), old, trade=trade)
    assert ok and "carried by real prints" in why and "0.3140 -> 0.3990" in why
    assert not relay.judge(relay.Score(5.1511, {real: 0.399, clean: 46.7}), old)[0]  # no trade
    for value, recall, psnr in (
        (5.1511, 0.34, 46.7),  # gained 0.026 < 0.03
        (5.0, 0.399, 46.7),  # cost 0.29 > 0.2
        (5.1511, 0.399, 46.0),  # the clean-photo guard fell 0.7 > 0.05
    ):
        new = relay.Score(value, {real: recall, clean: psnr})
        assert not relay.judge(new, old, trade=trade)[0], (value, recall, psnr)
    low = relay.Score(4.1, {real: 0.3})
    assert not relay.judge(relay.Score(3.95, {real: 0.5}), low, trade=trade)[0]  # under 4.0
    assert relay.judge(relay.Score(4.0, {real: 0.5}), low, trade=trade)[0]  # at the floor
    # a headline that rose needs no trade: the usual rule
    assert relay.judge(relay.Score(5.3, {real: 0.3, clean: 46.7}), old, trade=trade)[0]


def test_trade_rows_load_and_bad_ones_are_refused(tmp_path):
    t = relay.load_targets(REPO / "configs" / "relay.yaml")["damage"]
    assert t.trade == relay.Trade("real prints: mask recall (mean)", 0.03, 0.2, 4.0)
    assert t.trade.as_dict()["floor"] == 4.0
    assert relay.load_targets(REPO / "configs" / "relay.yaml")["sr-x4"].trade is None
    (tmp_path / "configs").mkdir()
    bad = tmp_path / "configs" / "relay.yaml"
    row = (
        "{recipe: x, steps: 1, scorer: sr, data: [d], metric: m, baseline: 0, target: 1, source: s"
    )
    for trade, msg in (
        ("[1, 2]", "must be a mapping"),
        ("{guard: g, gain: 0.1}", "needs guard, gain, cost"),
        ("{guard: g, gain: 0.1, cost: 0.2, when: 1}", "needs guard, gain, cost"),
        ("{guard: g, gain: 0, cost: 0.2}", "gain must be > 0"),
    ):
        bad.write_text(f"models:\n  sr-x4: {row}, trade: {trade}}}\n")
        with pytest.raises(ConfigError, match=msg):
            relay.load_targets(bad)
    bad.write_text(f"models:\n  sr-x4: {row}, trade: {{guard: g, gain: 0.1, cost: 0}}}}\n")
    assert relay.load_targets(bad)["sr-x4"].trade.as_dict() == {
        "guard": "g",
        "gain": 0.1,
        "cost": 0,
    }


def test_targets_table_loads_and_refuses_bad_rows(tmp_path):
    ts = relay.load_targets(REPO / "configs" / "relay.yaml")
    assert {"sr-x4", "sr-x2", "inpaint", "colorize"} <= set(ts)
    for t in ts.values():
        assert Path(t.recipe).is_file() and t.source and t.target != t.baseline
    (tmp_path / "configs").mkdir()
    bad = tmp_path / "configs" / "relay.yaml"
    bad.write_text("models:\n  nope: {}\n")
    with pytest.raises(ConfigError, match="'nope' is not a shipped model"):
        relay.load_targets(bad)
    bad.write_text("models:\n  sr-x4: {recipe: x, colour: 1}\n")
    with pytest.raises(ConfigError, match="unknown keys \\['colour'\\]"):
        relay.load_targets(bad)


def test_parse_budget():
    assert parse_budget("2h") == 7200 and parse_budget("90m") == 5400
    assert parse_budget("1h30m") == 5400 and parse_budget("600") == 600
    import argparse

    with pytest.raises(argparse.ArgumentTypeError, match="bad budget"):
        parse_budget("soon")
    assert build_parser().parse_args(["relay", "--budget", "45m"]).budget == 2700


def test_override_goes_with_judge(capsys):
    """--override REASON without --judge RUN is a usage error, before anything is scored."""
    from restore.cli_commands import EXIT_USAGE, cmd_relay

    args = build_parser().parse_args(["relay", "--override", "looks better", "--models", "damage"])
    assert cmd_relay(args) == EXIT_USAGE
    assert "--override REASON goes with --judge RUN" in capsys.readouterr().err


def test_refuses_a_table_from_another_checkout(tmp_path, capsys):
    """The table's docs/ and the running package's weights must be one checkout: a clone's
    ``pip install -e`` once made a judge ship the weights into the clone and the docs here."""
    from restore.cli_commands import EXIT_USAGE, cmd_relay

    (tmp_path / "configs").mkdir()
    (tmp_path / "restore" / "weights").mkdir(parents=True)
    table = tmp_path / "configs" / "relay.yaml"
    table.write_text((WEIGHTS_DIR.parents[1] / "configs" / "relay.yaml").read_text())
    args = build_parser().parse_args(["relay", "--dry-run", "--table", str(table)])
    assert cmd_relay(args) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"belongs to the checkout {tmp_path}" in err and "pip install -e" in err
    assert not (tmp_path / "docs").exists()  # nothing written


def test_benchmarks_section_is_replaced_not_duplicated(tmp_path):
    b = tmp_path / "B.md"
    b.write_text("# Bench\n\nintro\n")
    relay.update_benchmarks(b, "| t1 |")
    relay.update_benchmarks(b, "| t2 |")
    text = b.read_text()
    assert text.count(relay.BEGIN) == 1 and "| t2 |" in text and "| t1 |" not in text
    assert text.startswith("# Bench\n\nintro\n")


@pytest.fixture
def tiny_world(tmp_path, monkeypatch):
    """A weights folder holding one tiny shipped 'enhance' model, and a scorer that prefers
    weights with a smaller mean absolute output bias (deterministic, no data sets)."""
    from restore.config import load_config
    from restore.train import train

    imgs = tmp_path / "imgs"
    imgs.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        a = np.kron(rng.random((6, 6, 3)), np.ones((8, 8, 1)))
        Image.fromarray((a * 255).astype(np.uint8)).save(imgs / f"{i}.png")
    over = [f"data.train={imgs}", "data.val=", f"train.out_dir={tmp_path}", "train.progress=false"]
    res = train(load_config(REPO / "configs" / "tiny.yaml", over))
    wdir = tmp_path / "weights"
    wdir.mkdir()
    (wdir / "enhance.safetensors").write_bytes(res.weights.read_bytes())
    c = json.loads(res.weights.with_suffix(".json").read_text())
    c["note"] = "first leg's note"
    c["training"]["legs"][0]["seconds"] = 80.0  # 10 s a step: the relay's plan paces by it
    (wdir / "enhance.json").write_text(json.dumps(c))
    calls = []

    def fake_scorer(model: str, data):
        calls.append(model)
        # the shipped weights score 1.0, any other run 2.0 (guard kept equal)
        v = 1.0 if str(model).startswith(str(wdir)) else 2.0
        rows = {"rows": [{"data": "/work/shared/data/val/x.png"}]}
        # its own restore eval result on set "a" (rows are per-image: they stay out of the card)
        return relay.Score(v, {"guard": 5.0}, rows, {"a": {"iou": v / 4, "rows": [1, 2]}})

    monkeypatch.setitem(relay.SCORERS, "fake", fake_scorer)
    return tmp_path, wdir, imgs, calls


def test_a_whole_leg_trains_judges_and_ships(tiny_world):
    tmp, wdir, imgs, calls = tiny_world
    t = target(
        scorer="fake",
        steps=6,
        set=(f"data.train={imgs}", "data.val=", "train.d_warmup_steps=2"),
    )
    bench = tmp / "BENCHMARKS.md"
    reps = relay.run_relay(
        {"enhance": t},
        budget_s=1e6,
        out_dir=tmp / "relay",
        weights_dir=wdir,
        metrics_dir=tmp / "metrics",
        benchmarks=bench,
        extra_set=["train.progress=false"],
        seed=7,
    )
    assert [(r.name, r.shipped, r.steps) for r in reps] == [("enhance", True, 6)]
    new = json.loads((wdir / "enhance.json").read_text())
    assert new["runtime"]["sha256"] == sha256_file(wdir / "enhance.safetensors")
    assert new["runtime"]["sha256"] == sha256_file(tmp / "relay" / "tiny" / "model.safetensors")
    assert new["name"] == "enhance" and "sha256" not in new  # the card format of core/card.py
    assert machine_paths(new) == []  # the leg's command named the tmp data folder
    legs = new["training"]["legs"]
    assert [leg["leg"] for leg in legs] == [1, 2] and legs[1]["metric"] == {"m": 2.0, "guard": 5.0}
    assert "--set=train.seed=7" in legs[1]["command"]  # the leg's own data seed, rerunnable
    run_cfg = json.loads((tmp / "relay" / "tiny" / "config.json").read_text())["train"]
    assert run_cfg["seed"] == 7
    # the only leg may use the whole budget (it is planned at 6 steps x the card's 10 s)
    assert run_cfg["max_seconds"] == pytest.approx(1e6, abs=600)
    assert f"--set=train.max_seconds={run_cfg['max_seconds']:.0f}" in legs[1]["command"]
    assert legs[0]["note"] == "first leg's note" and "note" not in new
    assert new["training"]["totals"]["steps"] == 8 + 6
    assert new["relay"]["value"] == 2.0 and new["relay"]["remaining"] == pytest.approx(1.8)
    # the new weights' restore eval numbers replace the old ones, with the command to rerun them
    assert new["metrics"]["results"] == {"a": {"iou": 0.5}}
    assert new["metrics"]["command"] == "restore eval --model enhance --data a --json FILE"
    detail = json.loads((tmp / "metrics" / "enhance-relay.json").read_text())
    assert detail["rows"][0]["data"] == "../shared/data/val/x.png"  # no machine paths
    assert "| `enhance` | 2 | 14 | " in bench.read_text() and "torch threads |" in bench.read_text()


def test_a_leg_gets_the_budget_left_less_the_later_legs_plans():
    assert relay.leg_share(left=900.0, planned=300.0, later=400.0) == 500.0
    assert relay.leg_share(left=900.0, planned=300.0, later=0.0) == 900.0  # the last leg: all
    assert relay.leg_share(left=470.0, planned=300.0, later=400.0) is None  # 70 s: under 75
    assert relay.leg_share(left=475.0, planned=300.0, later=400.0) == 75.0  # a quarter: it runs


@pytest.mark.parametrize(("spent", "share"), [(20.0, 60), (50.0, 30), (75.0, None)])
def test_the_budget_is_a_deadline_for_the_whole_relay(tiny_world, monkeypatch, spent, share):
    """The one leg (planned at 4 steps x the card's 10 s) gets what is left of the budget (80 s)
    when it starts; under a quarter of its plan, it is skipped."""
    import types

    tmp, wdir, imgs, _ = tiny_world
    clock = iter([0.0, spent, spent + 1.0])  # the relay's start, the leg's start, its end
    monkeypatch.setattr(relay, "time", types.SimpleNamespace(perf_counter=lambda: next(clock)))
    t = target(scorer="fake", steps=4, set=(f"data.train={imgs}", "data.val="))
    reps = relay.run_relay({"enhance": t}, 80.0, out_dir=tmp / "rd", weights_dir=wdir, seed=1)
    run = tmp / "rd" / "tiny" / "config.json"
    if share is None:
        assert [(r.steps, r.shipped) for r in reps] == [(0, False)]
        assert reps[0].reason == "skipped: 5 s of the budget left" and not run.exists()
    else:
        assert json.loads(run.read_text())["train"]["max_seconds"] == share


def test_a_leg_that_is_not_better_is_not_shipped(tiny_world, monkeypatch):
    tmp, wdir, imgs, _ = tiny_world
    monkeypatch.setitem(relay.SCORERS, "flat", lambda model, data: relay.Score(1.0))
    monkeypatch.setattr(relay, "leg_seed", lambda: 4242)
    before = sha256_file(wdir / "enhance.safetensors")
    stale = json.loads((wdir / "enhance.json").read_text())
    stale["relay"] = {"value": 0.5}  # scored under an older pipeline
    (wdir / "enhance.json").write_text(json.dumps(stale))
    t = target(scorer="flat", steps=4, set=(f"data.train={imgs}", "data.val="))
    reps = relay.run_relay({"enhance": t}, 1e6, out_dir=tmp / "r2", weights_dir=wdir)
    assert not reps[0].shipped and "<= shipped" in reps[0].reason
    # no seed given: the leg draws its own (leg_seed), not the recipe's fixed 0, so the next
    # session's leg is not this one again
    assert json.loads((tmp / "r2" / "tiny" / "config.json").read_text())["train"]["seed"] == 4242
    assert sha256_file(wdir / "enhance.safetensors") == before
    # the kept card's relay value is the shipped model's score of this run, not its old one
    kept = json.loads((wdir / "enhance.json").read_text())
    assert kept["relay"]["value"] == 1.0 and kept["runtime"]["sha256"] == before
    # a person may ship it anyway, for a reason the scorer does not see: the card's leg and the
    # run's judge.json keep that reason beside the judge's own verdict
    run = tmp / "r2" / "tiny"
    rep = relay.judge_and_ship(run, t, weights_dir=wdir, override="real prints look better")
    assert rep.shipped and "<= shipped" in rep.reason and "real prints look better" in rep.reason
    assert sha256_file(wdir / "enhance.safetensors") == sha256_file(run / "model.safetensors")
    leg = json.loads((wdir / "enhance.json").read_text())["training"]["legs"][-1]
    assert "shipped over the judge: real prints look better" in leg["note"]
    verdict = json.loads((run / "judge.json").read_text())
    assert verdict["ship"] and not verdict["judged"]


def test_a_leg_carried_by_a_trade_ships_and_says_why_on_the_card(tiny_world, monkeypatch):
    tmp, wdir, imgs, _ = tiny_world

    def scorer(model: str, data):  # the run: headline 0.1 lower, guard g 0.1 higher
        shipped = str(model).startswith(str(wdir))
        return relay.Score(1.0 if shipped else 0.9, {"g": 0.3 if shipped else 0.4})

    monkeypatch.setitem(relay.SCORERS, "traded", scorer)
    row = dict(scorer="traded", steps=4, set=(f"data.train={imgs}", "data.val="))
    reps = relay.run_relay({"enhance": target(**row)}, 1e6, out_dir=tmp / "r4", weights_dir=wdir)
    assert not reps[0].shipped  # no trade on the row: the usual rule
    t = target(**row, trade=relay.Trade("g", gain=0.05, cost=0.2))
    rep = relay.judge_and_ship(tmp / "r4" / "tiny", t, weights_dir=wdir)
    assert rep.shipped and "carried by g 0.3000 -> 0.4000" in rep.reason
    leg = json.loads((wdir / "enhance.json").read_text())["training"]["legs"][-1]
    assert "carried by g" in leg["note"]
    verdict = json.loads((tmp / "r4" / "tiny" / "judge.json").read_text())
    assert verdict["judged"] and verdict["trade"] == {"guard": "g", "gain": 0.05, "cost": 0.2}


def test_a_run_stopped_before_its_end_is_refused_not_shipped(tiny_world, monkeypatch):
    """Its best.safetensors has no leg on its card: judging it raises before anything is scored,
    where it once shipped over the shipped card's last leg and took that leg's metric."""
    tmp, wdir, imgs, _ = tiny_world
    monkeypatch.setitem(relay.SCORERS, "flat", lambda model, data: relay.Score(1.0))
    t = target(scorer="flat", steps=4, set=(f"data.train={imgs}", "data.val="))
    relay.run_relay({"enhance": t}, 1e6, out_dir=tmp / "r5", weights_dir=wdir)
    run = tmp / "r5" / "tiny"
    # as a run killed before its end: best.safetensors, whose card has the config but no legs
    card = json.loads((run / "model.json").read_text())
    card["training"].pop("legs")
    (run / "best.json").write_text(json.dumps(card))
    (run / "model.safetensors").rename(run / "best.safetensors")
    (run / "model.json").unlink()
    before = (wdir / "enhance.json").read_text()
    scored = []
    monkeypatch.setitem(relay.SCORERS, "up", lambda m, d: scored.append(m) or relay.Score(2.0))
    with pytest.raises(ConfigError, match="no training legs"):
        relay.judge_and_ship(run, target(scorer="up"), weights_dir=wdir)
    assert scored == [] and (wdir / "enhance.json").read_text() == before


def test_a_float16_model_ships_as_float16_scored_as_it_ships(tiny_world, monkeypatch):
    """A model stored as float16 (scripts/halve_weights.py) stays float16 when a leg ships: the
    judge scores the float16 copy of the run, that file is what ships, and the scorer's card
    entries (the face model's protocol and summary) land in the card's metrics."""
    tmp, wdir, imgs, _ = tiny_world
    st = wdir / "enhance.safetensors"
    tensors, meta = load_tensors(st)
    save_tensors(st, to_float16(tensors), meta)
    c = json.loads((wdir / "enhance.json").read_text())
    c["runtime"]["sha256"] = sha256_file(st)
    (wdir / "enhance.json").write_text(json.dumps(c))
    scored = []

    def scorer(model: str, data):
        scored.append(Path(model).name)
        v = 1.0 if str(model).startswith(str(wdir)) else 2.0
        return relay.Score(v, {}, {"rows": [1]}, card={"summary": {"gain": v}})

    monkeypatch.setitem(relay.SCORERS, "half", scorer)
    t = target(scorer="half", steps=4, set=(f"data.train={imgs}", "data.val="))
    reps = relay.run_relay({"enhance": t}, 1e6, out_dir=tmp / "r3", weights_dir=wdir)
    assert reps[0].shipped
    assert scored[-2:] == ["enhance.safetensors", "model-float16.safetensors"]
    run = tmp / "r3" / "tiny"
    assert st.read_bytes() == (run / "model-float16.safetensors").read_bytes()
    shipped, _ = load_tensors(st)
    assert {t.dtype for t in shipped.values() if t.is_floating_point()} == {torch.float16}
    trained, _ = load_tensors(run / "model.safetensors")  # the run keeps its float32 weights
    assert any(t.dtype == torch.float32 for t in trained.values())
    for k, t16 in shipped.items():
        assert torch.equal(t16, to_float16({k: trained[k]})[k])
    new = json.loads((wdir / "enhance.json").read_text())
    assert new["runtime"]["sha256"] == sha256_file(st) and new["file_bytes"] == st.stat().st_size
    assert new["metrics"]["summary"] == {"gain": 2.0}
    assert read_card(wdir / "enhance.json")["training"]["legs"][-1]["metric"] == {"m": 2.0}


@pytest.mark.skipif(not (SHARED / "val" / "Set5").is_dir(), reason="needs ../shared/data")
def test_sr_scorer_reproduces_the_published_protocol_on_the_shipped_model():
    # the relay's SR score is restore eval's: bicubic on Set5 x4 is the published 28.42 dB
    s = score_sr(str(WEIGHTS_DIR / "sr-x4.safetensors"), [str(SHARED / "val/Set5/x4")])
    res = s.results["Set5_x4"]
    assert res["mean"]["bicubic"]["psnr"] == pytest.approx(28.42, abs=0.01)
    assert s.value == res["mean"]["model"]["psnr"] > 29.0


def test_a_leg_builds_the_shipped_architecture_not_the_recipes():
    from restore.config import load_config

    card = read_card(WEIGHTS_DIR / "sr-x4.json")
    args = {**card["runtime"]["generator_args"], "channels": 64, "n_blocks": 16}
    wide = dict(card, runtime={**card["runtime"], "generator_args": args})
    over = relay.architecture_overrides(wide)
    cfg = load_config(REPO / "configs" / "sr_x4.yaml", over)
    assert cfg.model.generator == "srnet"
    assert cfg.model.generator_args == args
    assert relay.architecture_overrides({"networks": {}}) == []


def test_generation_scorer_reads_the_confident_share_and_guards_entropy(monkeypatch):
    from restore import relay_scoring

    seen = []

    def fake_eval(model, data):
        seen.append((model, data))
        m = {"confident_share": 0.67, "class_entropy": 2.28, "fid": 35.7}
        return {"mean": {"model": m, "real": {}}}

    monkeypatch.setattr(relay_scoring, "evaluate_model", fake_eval)
    s = relay_scoring.SCORERS["generation"]("runs/x", ["a/mnist_t10k", "b/other"])
    assert (s.value, s.guards) == (0.67, {"class entropy": 2.28})
    assert seen == [("runs/x", "a/mnist_t10k")]  # the first set only: its real images
    t = relay.load_targets(REPO / "configs" / "relay.yaml")["gen-mnist"]
    assert t.scorer == "generation" and t.target == 0.8


def test_colorize_scorer_guards_colourfulness_and_refuses_a_greyer_leg(monkeypatch):
    """The leg of 2026-12-03: +0.28 -> +0.66 dB over grey while the colourfulness ratio fell
    0.72 -> 0.59, under issue 21's 0.6: refused by the colorize row's floor."""
    from restore import relay_scoring

    def fake_eval(ratios):
        def run(model, data):
            gain, ratio = ratios[model][data]
            return {"bars": {"psnr_gain_db": gain, "colorfulness_ratio": ratio}}

        return run

    sets = ["val/Set14/x4/HR", "val/Set5/x4/HR"]
    table = {
        "old": {sets[0]: (0.276, 0.720), sets[1]: (2.43, 0.666)},
        "grey": {sets[0]: (0.661, 0.594), sets[1]: (2.54, 0.527)},
        "rich": {sets[0]: (0.40, 0.650), sets[1]: (2.50, 0.60)},
    }
    monkeypatch.setattr(relay_scoring, "evaluate_model", fake_eval(table))
    score = relay_scoring.SCORERS["colorize"]
    old, grey, rich = (score(m, sets) for m in ("old", "grey", "rich"))
    assert old.value == 0.276 and old.guards[relay_scoring.COLOUR_GUARD] == 0.720
    assert len(old.guards) == 2  # the other set's gain and the colourfulness
    t = relay.load_targets(REPO / "configs" / "relay.yaml")["colorize"]
    floors = dict(t.guard_floors)
    assert floors == {relay_scoring.COLOUR_GUARD: 0.6}
    ok, why = relay.judge(grey, old, t.guard_tolerance, floors)
    assert not ok and "colourfulness ratio" in why and "0.7200 -> 0.5940" in why
    # fell by more than the tolerance too, but stays over the bar: ships
    assert relay.judge(rich, old, t.guard_tolerance, floors)[0]


class FakeRestorer:
    def __init__(self, device, models):
        self.model_names = dict(models)


def test_detect_scorer_keeps_the_detectors_own_protocol(monkeypatch, tmp_path):
    from restore import relay_scoring

    def fake_photo(model, data, stage):
        assert stage == "detect"
        return relay_scoring.Score(2.1, {"clean photo PSNR": 32.4}, {"holdout": {"gain": 2.1}})

    def fake_eval(model, d):
        return {"iou": 0.6 if "Set5" in d else 0.64, "images": [{"iou": 0.5}]}

    real = []

    def fake_real(pr, labels, folder):
        real.append((pr.model_names["detect"], Path(labels).name, Path(folder).name))
        return {
            "pooled": {"used": {"recall": 0.3, "precision": 0.8}, "raw": {"recall": 0.2}},
            "mean": {"used": {"recall": 0.25}, "raw": {"recall": 0.2}},
            "prints": [],
        }

    monkeypatch.setattr(relay_scoring, "score_photo", fake_photo)
    monkeypatch.setattr(relay_scoring, "evaluate_model", fake_eval)
    monkeypatch.setattr(relay_scoring, "real_label_report", fake_real)
    monkeypatch.setattr(relay_scoring, "PhotoRestorer", FakeRestorer, raising=False)
    sets = [str(tmp_path / "data/val/Set5/x4/HR"), str(tmp_path / "data/val/Set14/x4/HR")]
    s = relay_scoring.SCORERS["photo_detect"]("runs/d", sets)
    assert real == [] and "real_labels" not in s.results  # no real_old beside the data sets
    (tmp_path / "data" / "real_old").mkdir(parents=True)
    s = relay_scoring.SCORERS["photo_detect"]("runs/d", sets)
    assert real == [("runs/d", "real_old.json", "real_old")]
    assert s.results["real_labels"]["pooled"]["used"] == {"recall": 0.3, "precision": 0.8}
    assert s.card["real_labels"]["used"] == {"recall": 0.3, "precision": 0.8}  # in the card
    assert s.guards == {  # and judged
        "clean photo PSNR": 32.4,
        relay_scoring.REAL_GUARD: 0.25,
        relay_scoring.REAL_PRECISION: 0.8,
    }
    assert s.value == 2.1
    assert s.results["Set5_x4"] == {"iou": 0.6} and s.results["Set14_x4"] == {"iou": 0.64}
    assert s.evals == {"Set5_x4": {"iou": 0.6}, "Set14_x4": {"iou": 0.64}}  # for the card
    assert s.results["holdout"] == {"gain": 2.1}


def test_plan_paces_a_cpu_leg_by_cpu_legs_only():
    """A card whose last leg ran on a GPU: the CPU plan uses its earlier CPU leg, or 1 s a step
    when it has none; a GPU plan uses the GPU leg."""
    gpu_leg = {"leg": 2, "steps": 10000, "seconds": 400.0, "hardware": "NVIDIA H200 (CUDA)"}
    cpu_leg = {"leg": 1, "steps": 100, "seconds": 50.0, "hardware": "AMD EPYC, 2 cores"}
    both = {"training": {"legs": [cpu_leg, gpu_leg]}, "relay": {"value": 12.0}}
    gpu_only = {"training": {"legs": [gpu_leg]}, "relay": {"value": 12.0}}
    assert relay.seconds_per_step(both) == 0.5
    assert relay.seconds_per_step(both, gpu=True) == 0.04
    assert relay.seconds_per_step(gpu_only) == 1.0
    ts = {"b": target("b")}
    assert relay.plan(ts, {"b": gpu_only}, budget_s=600.0)[0].steps == 600
    assert relay.plan(ts, {"b": gpu_only}, budget_s=600.0, gpu=True)[0].steps == 1000


def test_refused_legs_cool_the_later_legs_learning_rates(tiny_world, monkeypatch):
    """Each refused leg halves the later legs' learning rates (at most three times); a shipped
    leg keeps the rates it gained at."""
    from restore.config import load_config

    tmp, wdir, imgs, _ = tiny_world
    base = load_config(REPO / "configs" / "tiny.yaml").optim
    monkeypatch.setitem(relay.SCORERS, "flat", lambda model, data: relay.Score(1.0))
    sets = (f"data.train={imgs}", "data.val=")
    lrs = []
    for i, scorer in enumerate(["flat", "fake", "flat", "flat", "flat", "flat", "fake"]):
        t = target(scorer=scorer, steps=2, set=sets)
        relay.run_relay({"enhance": t}, 1e6, out_dir=tmp / f"c{i}", weights_dir=wdir, seed=1)
        cfg = json.loads((tmp / f"c{i}" / "tiny" / "config.json").read_text())["optim"]
        lrs.append((cfg["lr_g"] / base.lr_g, cfg["lr_d"] / base.lr_d))
        card = json.loads((wdir / "enhance.json").read_text())
        assert card["relay"].get("cooling", 0) == [1, 1, 2, 3, 3, 3, 3][i]
    want = [1, 0.5, 0.5, 0.25, 0.125, 0.125, 0.125]
    assert [g for g, _ in lrs] == pytest.approx(want) and [d for _, d in lrs] == pytest.approx(want)
    leg = card["training"]["legs"][-1]  # the shipped leg's command names its rates: rerunnable
    assert f"--set=optim.lr_g={base.lr_g * 0.125:.6g}" in leg["command"]
