"""The prepared GPU call (scripts/gpu/): recipes, data pack, bundle, and a CPU smoke run of it all."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from restore.config import load_config

REPO = Path(__file__).resolve().parents[1]
GPU = REPO / "scripts" / "gpu"
MIB = 1024 * 1024
SMOKE_MODELS = (
    "sr-x2,colorize,style-painting"  # SR from another scale + check, GAN --from + check, 2 G's
)


def _module(name: str):
    sys.path.insert(0, str(GPU))
    try:
        spec = importlib.util.spec_from_file_location(f"gpu_{name}", GPU / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod  # dataclasses look their module up there
        spec.loader.exec_module(mod)  # type: ignore[union-attr]
        return mod
    finally:
        sys.path.remove(str(GPU))


legs = _module("legs")
bundle = _module("bundle")


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


# ---------------------------------------------------------------------------------------------
# Recipes and the table of legs
# ---------------------------------------------------------------------------------------------


def test_every_gpu_recipe_loads_and_says_how_it_starts():
    from restore.continuation import StartWeights, check_architecture
    from restore.models import resolve

    recipes = sorted((REPO / "configs" / "gpu").glob("*.yaml"))
    assert {str(r.relative_to(REPO)) for r in recipes} == {m.recipe for m in legs.MODELS.values()}
    for leg in legs.MODELS.values():
        cfg = load_config(REPO / leg.recipe)
        assert cfg.train.channels_last and cfg.train.precision == "auto", leg.recipe
        assert cfg.train.out_dir == "runs/gpu", leg.recipe
        for path in (cfg.data.train, cfg.data.train_b, cfg.data.val):
            assert not path or path.startswith(legs.PACK + "/"), (leg.recipe, path)
        # the header shows the command, with --from exactly when the leg continues a model
        header = (REPO / leg.recipe).read_text()
        shown = re.search(rf"restore train {re.escape(leg.recipe)}( --from (\S+))?\n", header)
        assert shown, f"{leg.recipe}: its header comment shows no `restore train` command"
        assert shown.group(2) == leg.start, leg.recipe
        if leg.start:  # the shipped weights fit the recipe (a new architecture needs its recipe)
            path, card, _ = resolve(leg.start)
            check_architecture(StartWeights(path, card, leg.start), cfg)
        if leg.smoke:
            load_config(REPO / leg.recipe, ["data.batch_size=2", *leg.smoke])


def test_every_shipped_trainable_model_has_a_leg():
    from restore.models import list_models

    trained = {n for n, card in list_models().items() if card["kind"] == "model"}
    assert trained == set(legs.MODELS) | set(legs.CPU_ONLY)
    assert not set(legs.MODELS) & set(legs.CPU_ONLY)
    assert all(len(why) > 20 for why in legs.CPU_ONLY.values())  # each says why


# ---------------------------------------------------------------------------------------------
# The data pack
# ---------------------------------------------------------------------------------------------


def test_pack_dry_run_fits_and_never_carries_val(shared_data, tmp_path):
    summary = tmp_path / "pack.json"
    r = _run(
        [
            "scripts/gpu/pack_data.py",
            "--dry-run",
            "--src",
            str(shared_data),
            "--json",
            str(summary),
        ],
        timeout=240,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    s = json.loads(summary.read_text())
    assert s["total_bytes"] <= 30 * MIB
    if s["tree_bytes"] is not None:
        assert s["total_bytes"] + s["tree_bytes"] <= 63 * MIB
    assert "total carried" in r.stdout and "nothing written" in r.stdout
    assert not (REPO / ".data" / "gpu.tmp").exists()
    for recipe, used in s["recipes"].items():  # every recipe finds its data in the pack
        assert used["files"] > 0, recipe
    pack = _module("pack_data")
    assert all(
        "val" not in it.source.relative_to(shared_data).parts[:1] for it in pack.plan(shared_data)
    )


def test_pack_carries_small_files_in_tars_and_no_evaluation_face(shared_data, tmp_path):
    from PIL import Image

    from restore.tasks.face import face_split

    pack_dir = tmp_path / "pack"
    r = _run(
        ["scripts/gpu/pack_data.py", "--src", str(shared_data), "--out", str(pack_dir), "--limit", "3"],
        timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert not (pack_dir / "faces").exists() and not (pack_dir / "cifar10").exists()  # only tars
    with tarfile.open(pack_dir / "faces.tar") as tf:
        names = sorted(m.name for m in tf.getmembers())
        first = Image.open(tf.extractfile(names[0]))  # type: ignore[arg-type]
        assert first.size == (128, 128)  # the recipe's crop size
    split = face_split(shared_data / "faces" / "utkface_200")
    stems = {Path(n).stem for n in names}
    assert not stems & {p.stem for p in split["test"]}  # the evaluation faces stay here
    val = {p.stem for p in split["val"][:3]}
    assert val <= stems and {Path(n).stem for n in names[-3:]} == val  # they sort last
    with tarfile.open(pack_dir / "cifar10.tar") as tf:
        assert all(m.name.startswith("cifar10/") and m.isfile() for m in tf.getmembers())
    manifest = json.loads((pack_dir / "MANIFEST.json").read_text())
    assert {g["tar"] for g in manifest["groups"] if g["folder"] == "faces"} == {"faces.tar"}

    train_all = _module("train_all")  # the device side unpacks them in place
    train_all.unpack_archives(pack_dir, lambda msg: None)
    face_cfg = load_config(REPO / "configs" / "gpu" / "face.yaml")
    got = face_split(pack_dir / "faces", face_cfg.task_args["holdout"], 3)
    assert {p.stem for p in got["val"]} == val
    assert {p.stem for p in got["train"]} <= {p.stem for p in split["train"]}
    pack = _module("pack_data")
    item = pack.Item("faces/x.jpg", Path("x"), "face-jpeg", tar="faces.tar")
    assert pack.carried_size(item, 1) == 1024 and pack.carried_size(item, 1024) == 1536
    assert pack.carried_size(pack.Item("a", Path("a"), "copy"), 1) == 4096


# ---------------------------------------------------------------------------------------------
# Bundle limits and safe unpacking
# ---------------------------------------------------------------------------------------------


def _fake_runs(root: Path, n: int, weights_mib: float, extras_mib: float) -> list[Path]:
    runs = []
    for i in range(n):
        d = root / f"m{i}"
        d.mkdir(parents=True)
        (d / "model.safetensors").write_bytes(b"\0" * int(weights_mib * MIB))
        (d / "model.json").write_text("{}")
        (d / "log.csv").write_bytes(b"\0" * int(extras_mib * MIB))  # an extra: dropped first
        runs.append(d)
    return runs


def test_bundle_keeps_the_call_limits(tmp_path):
    # 8 runs of 8 MiB: one per tar fills the 7 tars; the 8th fits without its extras
    runs = _fake_runs(tmp_path / "a", 8, 3.5, 4.5)
    rep = bundle.write_bundle(runs, tmp_path / "out")
    tars = sorted((tmp_path / "out").glob("*.tar"))
    assert len(tars) == 7 and all(t.stat().st_size <= 15.5 * MIB for t in tars)
    assert rep["left_out"] == [] and len(rep["slim"]) == 1
    # 12 runs of 7 MiB: 60 MiB at most come back; the rest are named as left out
    runs = _fake_runs(tmp_path / "b", 12, 6, 1)
    rep = bundle.write_bundle(runs, tmp_path / "out2")
    tars = sorted((tmp_path / "out2").glob("*.tar"))
    assert 1 <= len(tars) <= 7 and all(t.stat().st_size <= 16 * MIB for t in tars)
    assert sum(t.stat().st_size for t in tars) <= 60 * MIB
    packed = [n for names in rep["tars"].values() for n in names]
    assert rep["left_out"] and sorted(packed + rep["left_out"]) == sorted(d.name for d in runs)


def test_stopped_leg_card_gets_its_command_and_logged_time(tmp_path):
    train_all = _module("train_all")
    log = tmp_path / "log.csv"
    # 100 steps at 10 it/s, 100 at 20 it/s, 100 at 25 it/s: 10 + 5 + 4 s up to step 300
    log.write_text("step,it_s,g_loss\n100,10,1\n200,20,1\n300,25,1\n400,50,1\n")
    assert train_all.logged_seconds(log, 300) == pytest.approx(19.0)
    card = tmp_path / "model.json"
    card.write_text(json.dumps({"training": {"legs": [
        {"leg": 1, "steps": 100, "seconds": 5.0, "command": "a"},
        {"leg": 2, "steps": 300, "seconds": None, "command": "restore train X --resume run"},
    ]}}))  # fmt: skip
    train_all.patch_stopped_leg(card, "restore train X --set train.steps=400", 300, log)
    c = json.loads(card.read_text())["training"]
    assert c["legs"][1]["command"].startswith("restore train X --set train.steps=400  # stopped at")
    assert c["legs"][1]["seconds"] == 19.0 and c["legs"][0]["command"] == "a"
    assert c["totals"] == {"legs": 2, "steps": 400, "seconds": 24.0, "complete": True}


def test_unpack_refuses_paths_outside_the_target(tmp_path):
    evil = tmp_path / "evil.tar"
    payload = tmp_path / "x"
    payload.write_text("x")
    with tarfile.open(evil, "w") as tf:
        tf.add(payload, arcname="../escape.txt")
    with pytest.raises(ValueError, match="refusing member"):
        bundle.unpack(evil, tmp_path / "dest")
    assert not (tmp_path / "escape.txt").exists()


def test_kornia_imports_with_the_kornia_rs_stub(tmp_path):
    train_all = _module("train_all")
    train_all.write_kornia_rs_stub(tmp_path)
    code = "import kornia, kornia_rs; from kornia.augmentation import RandomCrop; print(kornia_rs.__file__)"
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().startswith(str(tmp_path))


# ---------------------------------------------------------------------------------------------
# CPU smoke run of the whole call: pack -> train all at once -> check -> bundle -> unpack -> load
# ---------------------------------------------------------------------------------------------


def _smoke(shared_data: Path, tmp_path: Path, models: str, timeout: float) -> Path:
    pack, out = tmp_path / "pack", tmp_path / "out"
    r = _run(
        ["scripts/gpu/pack_data.py", "--src", str(shared_data), "--out", str(pack), "--limit", "2"],
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    r = _run(
        ["scripts/gpu/train_all.py", "--device", "cpu", "--smoke", "--only", models,
         "--probe-steps", "2", "--max-steps", "3", "--no-compare", "--budget", "240",
         "--data", str(pack), "--runs", str(tmp_path / "runs"), "--out", str(out)],
        timeout=timeout,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr + (out / "log.txt").read_text()

    # what comes back: <= 8 files of <= 16 MiB (64 MiB together), one of them the log
    files = sorted(out.iterdir())
    assert all(f.is_file() and re.fullmatch(r"[A-Za-z0-9._-]+", f.name) for f in files)
    assert len(files) <= 8 and (out / "log.txt") in files
    assert all(f.stat().st_size <= 16 * MIB for f in files)
    assert sum(f.stat().st_size for f in files) <= 64 * MIB
    assert len([f for f in files if f.suffix == ".tar"]) == len(files) - 1

    back = tmp_path / "back"
    r = _run(["scripts/gpu/unpack_results.py", str(out), "--runs", str(back)], timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return back


def _check_runs(back: Path, models: str) -> None:
    import restore

    for name in models.split(","):
        leg = legs.MODELS[name]
        run = back / load_config(REPO / leg.recipe).name
        report = json.loads((run / "gpu_leg.json").read_text())
        assert report["status"] == "done" and report["steps"] == 3, report
        assert report["command"].startswith(f"restore train {leg.recipe}")
        card = json.loads((run / "model.json").read_text())
        if leg.start:  # a continued model's card lists the shipped legs plus this one
            last = card["training"]["legs"][-1]
            assert last["from"].startswith(leg.start) and last["steps"] == 3
            assert last["command"] == report["command"]
        if leg.check:
            assert report["check"]["run"], report
        assert restore.load(run, device="cpu") is not None


def test_gpu_call_smoke_on_cpu(shared_data, tmp_path):
    back = _smoke(shared_data, tmp_path, SMOKE_MODELS, timeout=170)
    _check_runs(back, SMOKE_MODELS)


@pytest.mark.slow
def test_gpu_call_smoke_every_model(shared_data, tmp_path):
    models = ",".join(legs.MODELS)
    back = _smoke(shared_data, tmp_path, models, timeout=900)
    _check_runs(back, models)
