"""Plan a folder run: which files are jobs, where their outputs go, what a killed run left behind.

Every file under ``IN_DIR`` (recursive, hidden files skipped) with an image suffix is a job whose
output keeps its relative path under ``OUT_DIR`` (suffix changed by ``format``; GIF and PBM inputs,
which cannot be written, give PNG). Other files are listed as ignored. Under torchrun, file ``i``
(sorted) goes to rank ``i % WORLD_SIZE``. :func:`restore.batch.enhance_folder` runs the plan.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from restore.data.io import IMAGE_SUFFIXES
from restore.errors import ConfigError

#: Output formats ``format=`` accepts.
FORMATS = ("png", "jpg", "tif", "webp", "bmp")
_WRITABLE = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pnm"}


@dataclass(frozen=True)
class Job:
    """One input and where its output goes."""

    rel: str  # relative path of the input (POSIX separators)
    src: Path
    dst: Path
    mask: Path | None = None


def output_path(rel: str, out_dir: Path, format: str | None = None, suffix: str = "") -> Path:
    """Where the output of input ``rel`` goes: same relative path, format's suffix, ``suffix``
    appended to the stem. Inputs in a format that cannot be written (GIF, PBM) give PNG."""
    p = Path(rel)
    ext = p.suffix.lower()
    if format is not None:
        ext = "." + format.lower().lstrip(".")
    elif ext not in _WRITABLE:
        ext = ".png"
    else:
        ext = p.suffix
    return out_dir / p.parent / f"{p.stem}{suffix}{ext}"


def _walk(root: Path, skip: Path | None) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and (skip is None or here / d != skip)
        )
        for f in sorted(filenames):
            if not f.startswith("."):
                yield here / f


def _mask_index(masks: Path) -> dict[str, Path]:
    if not masks.is_dir():
        raise ConfigError(f"masks folder {masks} does not exist")
    index: dict[str, Path] = {}
    for p in _walk(masks, None):
        if p.suffix.lower() in IMAGE_SUFFIXES:
            index.setdefault(p.relative_to(masks).with_suffix("").as_posix(), p)
    return index


def plan(
    in_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    format: str | None = None,
    suffix: str = "",
    masks: str | os.PathLike[str] | None = None,
    allow_in_place: bool = False,
    rank: int = 0,
    world_size: int = 1,
) -> tuple[list[Job], list[str], list[dict[str, str]]]:
    """The jobs of this rank, the ignored (non-image) files, and jobs refused up front.

    Raises:
        ConfigError: a missing ``in_dir``, an unknown format, or ``out_dir`` inside ``in_dir``
            without ``allow_in_place``.
    """
    src_root, out_root = Path(in_dir).resolve(), Path(out_dir).resolve()
    if not src_root.is_dir():
        raise ConfigError(f"input folder {in_dir} does not exist")
    if format is not None and format.lower().lstrip(".") not in (*FORMATS, "jpeg", "tiff"):
        raise ConfigError(f"unknown output format {format!r}; use one of {', '.join(FORMATS)}")
    inside = out_root == src_root or src_root in out_root.parents
    if inside and not allow_in_place:
        raise ConfigError(
            f"output folder {out_dir} is inside the input folder {in_dir}: "
            "pass --allow-in-place (allow_in_place=True) to write there"
        )
    if out_root == src_root and not suffix and format is None:
        suffix = "_restored"  # in place: never the input's own name
    mask_index = _mask_index(Path(masks)) if masks is not None else None
    skip = out_root if (inside and out_root != src_root) else None
    images, ignored = [], []
    for p in _walk(src_root, skip):
        rel = p.relative_to(src_root).as_posix()
        if p.name.startswith("restore_report") and p.suffix == ".json":
            continue
        (images if p.suffix.lower() in IMAGE_SUFFIXES else ignored).append(rel)
    outputs = {output_path(r, out_root, format, suffix): r for r in reversed(images)}
    if out_root == src_root:  # in place: earlier outputs are not inputs
        images = [r for r in images if outputs.get(src_root / r, r) == r]
    inputs = {src_root / r for r in images}
    jobs, refused = [], []
    for i, rel in enumerate(images):
        if i % world_size != rank:
            continue
        dst = output_path(rel, out_root, format, suffix)
        other = outputs.get(dst)
        if other != rel:
            refused.append({"input": rel, "reason": f"output {dst.name} collides with {other}"})
            continue
        if dst in inputs or (not allow_in_place and src_root in dst.parents):
            refused.append({"input": rel, "reason": f"output {dst} would be written over an input"})
            continue
        mask = None
        if mask_index is not None:
            mask = mask_index.get(Path(rel).with_suffix("").as_posix())
        jobs.append(Job(rel, src_root / rel, dst, mask))
    return jobs, ignored if rank == 0 else [], refused


def remove_stale_temps(jobs: list[Job]) -> int:
    """Delete the temporary files a killed run left beside these jobs' outputs; returns how many."""
    by_dir: dict[Path, set[str]] = {}
    for j in jobs:
        by_dir.setdefault(j.dst.parent, set()).add(j.dst.name)
    n = 0
    for d, names in by_dir.items():
        if not d.is_dir():
            continue
        for f in d.iterdir():
            nm = f.name
            if nm.startswith(".") and nm.endswith(".tmp") and nm[1:-4].rsplit(".", 1)[0] in names:
                with suppress(OSError):
                    f.unlink()
                    n += 1
    return n
