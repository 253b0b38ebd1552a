"""Run folders <-> at most 7 tar files of <= 15.5 MiB (the device call returns 8 files of <= 16 MiB,
64 MiB together; the eighth is the log). Used by train_all.py (bundle) and unpack_results.py.

Each run goes whole into one tar (first fit, largest first), so a tar that does not come back
loses only its own runs. What a run folder contributes: its inference weights and card, the
training log and config, the leg report, the check evaluations and the last sample grid; never
checkpoints (optimiser state, 3x the weights).
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MIB = 1024 * 1024
MAX_TARS = 7
TAR_CAP = int(15.5 * MIB)
TOTAL_CAP = 60 * MIB
ESSENTIAL = ("model.safetensors", "model.json", "gpu_leg.json", "config.json", "start.json")
EXTRAS = ("log.csv", "leg.log", "check_run.json", "check_shipped.json")


@dataclass
class RunFiles:
    name: str
    files: list[tuple[str, Path]]  # (name inside the tar, file here)

    @property
    def size(self) -> int:
        return sum(p.stat().st_size for _, p in self.files) + 1024 * (len(self.files) + 1)


def run_files(run: Path, extras: bool = True) -> RunFiles:
    """The files of ``run`` that travel back (those that exist)."""
    names = ESSENTIAL + (EXTRAS if extras else ())
    files = [(f"{run.name}/{n}", run / n) for n in names if (run / n).is_file()]
    samples = sorted((run / "samples").glob("step_*.png")) if extras else []
    if samples:
        files.append((f"{run.name}/samples/{samples[-1].name}", samples[-1]))
    return RunFiles(run.name, files)


def plan_tars(runs: list[RunFiles]) -> tuple[list[list[RunFiles]], list[str]]:
    """First-fit of runs (largest first) into at most MAX_TARS bins of TAR_CAP bytes, TOTAL_CAP in
    all; returns the bins and the names of runs that did not fit."""
    bins: list[list[RunFiles]] = []
    left_out: list[str] = []
    total = 0
    for r in sorted(runs, key=lambda r: -r.size):
        if r.size > TAR_CAP or total + r.size > TOTAL_CAP:
            left_out.append(r.name)
            continue
        for b in bins:
            if sum(x.size for x in b) + r.size <= TAR_CAP:
                b.append(r)
                break
        else:
            if len(bins) == MAX_TARS:
                left_out.append(r.name)
                continue
            bins.append([r])
        total += r.size
    return bins, left_out


def write_bundle(run_dirs: list[Path], out: Path, extra: list[tuple[str, Path]] = ()) -> dict:
    """Write ``out/runs-<k>.tar``; runs that do not fit with their extras go without them.

    ``extra`` files (name inside the tar, path) go into the first tar.

    Returns:
        ``{"tars": {file: [run names]}, "left_out": [...], "slim": [...]}``.
    """
    dirs = [d for d in run_dirs if d.is_dir()]
    bins, left = plan_tars([run_files(d) for d in dirs])
    slim: list[str] = []
    if left:  # again, with the essential files only for the runs that did not fit
        slim = list(left)
        bins, left = plan_tars([run_files(d, extras=d.name not in slim) for d in dirs])
        slim = [n for n in slim if n not in left]
    out.mkdir(parents=True, exist_ok=True)
    report: dict = {"tars": {}, "left_out": left, "slim": slim}
    for k, b in enumerate(bins, 1):
        name = f"runs-{k}.tar"
        with tarfile.open(out / name, "w") as tf:
            for r in b:
                for arc, p in r.files:
                    tf.add(p, arcname=arc, recursive=False)
            if k == 1:
                for arc, p in extra:
                    if p.is_file():
                        tf.add(p, arcname=arc, recursive=False)
        report["tars"][name] = [r.name for r in b]
    return report


def safe_members(tf: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """Regular files with relative paths inside the target only (no links, no ``..``).

    Raises:
        ValueError: a member that is not a plain file with a clean relative path.
    """
    members = []
    for m in tf.getmembers():
        p = PurePosixPath(m.name)
        if m.isdir():
            continue
        if not m.isfile() or p.is_absolute() or ".." in p.parts or not p.parts:
            raise ValueError(f"{tf.name}: refusing member {m.name!r} (not a plain relative file)")
        members.append(m)
    return members


def unpack(tar: Path, dest: Path) -> list[str]:
    """Extract the plain files of ``tar`` under ``dest``; return their names."""
    names = []
    with tarfile.open(tar, "r") as tf:
        for m in safe_members(tf):
            target = dest / m.name
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tf.extractfile(m)
            assert src is not None
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_bytes(src.read())
            tmp.replace(target)
            names.append(m.name)
    return names
