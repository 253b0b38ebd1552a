"""Enhance a folder of images: resumable, parallel I/O, batched on GPUs, sharded under torchrun.

:func:`enhance_folder` is what ``restore enhance IN_DIR OUT_DIR`` runs:

1. **Plan**: every file under ``IN_DIR`` (recursive, hidden files skipped) with an image suffix is a
   job whose output keeps its relative path under ``OUT_DIR`` (suffix changed by ``format``; GIF and
   PBM inputs, which cannot be written, give PNG). Other files are listed as ignored. Under
   torchrun, file ``i`` (sorted) goes to rank ``i % WORLD_SIZE``.
2. **Resume**: a job whose output exists is done (outputs are written atomically, so an existing
   file is complete); temporary files left by a killed run are removed first.
3. **Run**: reader threads decode ahead of the model, writer threads encode behind it. The model is
   loaded only when the first image has been decoded, so a finished folder costs no model work.
   On CUDA, images are sorted by size and run in batches of equal size.
4. **Report**: a bad file (unreadable, wrong mask, failed write) is recorded with its reason and the
   run goes on. ``OUT_DIR/restore_report.json`` (atomic) lists every failure; under torchrun each
   rank writes ``restore_report.rank{r}.json`` and rank 0 merges them after a barrier. A model
   with per-image reports (the photo pipeline's ``restore_images``: tone kind, what was done,
   colorize skipped) adds one ``notes`` entry per image; a rerun keeps the notes of the images
   it skips.

Example:
    >>> from restore.batch import enhance_folder
    >>> rep = enhance_folder("scans", "restored", task="sr")   # doctest: +SKIP
    >>> rep.failed                                             # doctest: +SKIP
    []
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import time
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from restore.data.io import IMAGE_SUFFIXES, Image, read_image, write_image
from restore.errors import ConfigError, ImageWriteError, ModelNotFoundError, RestoreError
from restore.tasks.specs import enhance_choices

log = logging.getLogger(__name__)

#: ``--task`` -> the model used when ``--model`` is not given ("photo" is a pipeline): each task
#: spec's alias and default model (:data:`restore.tasks.TASKS`), and the photo pipeline.
TASK_MODELS: dict[str, str] = enhance_choices()
#: Output formats ``format=`` accepts.
FORMATS = ("png", "jpg", "tif", "webp", "bmp")
REPORT_NAME = "restore_report.json"
GPU_BATCH = 8
#: Images of at least this many pixels are written row band by row band as the model finishes
#: them (PNG / PPM / PGM outputs of plain colour models), instead of being assembled in memory
#: and handed to a writer thread.
STREAM_PIXELS = 16_000_000
_WRITABLE = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pnm"}


@dataclass(frozen=True)
class Job:
    """One input and where its output goes."""

    rel: str  # relative path of the input (POSIX separators)
    src: Path
    dst: Path
    mask: Path | None = None


@dataclass
class FolderReport:
    """What a folder run did; ``failed`` holds ``{"input": rel, "reason": ...}`` entries."""

    in_dir: str
    out_dir: str
    model: str
    total: int = 0  # image files handled by this process (all ranks once merged)
    written: int = 0
    skipped: int = 0  # outputs that already existed
    failed: list[dict[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # files without an image suffix
    notes: list[dict[str, Any]] = field(default_factory=list)  # per image: {"input": rel, ...}
    model_loaded: bool = False
    dry_run: bool = False
    seconds: float = 0.0
    world_size: int = 1
    planned: list[dict[str, str]] = field(default_factory=list)  # dry run: what would be done

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["failed"] = sorted(self.failed, key=lambda f: f["input"])
        d["notes"] = sorted(self.notes, key=lambda f: f["input"])
        return d


# --------------------------------------------------------------------------------------- plan


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


# ---------------------------------------------------------------------------------- the model


def load_model(
    task: str | None,
    model: str | None,
    *,
    device: Any = None,
    dtype: Any = None,
    tile: int | None = None,
    with_masks: bool = False,
    options: Mapping[str, Any] | None = None,
) -> Any:
    """The Restorer or Pipeline for ``task`` / ``model``.

    ``model`` may name several stages separated by commas (a :class:`~restore.pipelines.Pipeline`).
    The ``photo`` task uses :class:`restore.photo.PhotoRestorer` (damage detection -> inpaint ->
    enhance; detection is dropped with a warning when its model is not shipped, masks then come
    from ``masks``) when that module exists, else a pipeline of ``inpaint`` (when masks are given
    and the model is shipped) and ``enhance``. ``options`` are keyword arguments of
    ``PhotoRestorer`` (``colorize``, ``tone``, ``upscale``, ``models``, ...).

    Raises:
        ConfigError: an unknown task, or ``options`` for a model other than the photo pipeline.
    """
    from restore.api import Restorer
    from restore.models import available
    from restore.pipelines import Pipeline

    if task is not None and task not in TASK_MODELS:
        raise ConfigError(f"unknown task {task!r}; known: {', '.join(TASK_MODELS)}")
    name = model or TASK_MODELS[task or "photo"]
    kw = {"device": device, "dtype": dtype, "tile": tile}
    opts = dict(options or {})
    if opts and name != "photo":
        raise ConfigError(f"options {sorted(opts)} are for the photo pipeline, not {name!r}")
    if name == "photo":
        try:
            photo = importlib.import_module("restore.photo")
        except ModuleNotFoundError:
            photo = None
        factory = getattr(photo, "PhotoRestorer", None)
        if factory is not None:
            opts = {"device": device, "tile": tile, **opts}
            try:
                return factory(**opts)
            except ModelNotFoundError as e:  # no damage detector shipped: masks from --masks only
                if not opts.get("detect", True) or "detect" in opts.get("models", {}):
                    raise
                log.warning("photo: %s; running without damage detection", e)
                return factory(**{**opts, "detect": False})
        if opts:
            raise ConfigError("photo options need restore.photo, which this installation lacks")
        stages = (["inpaint"] if with_masks and "inpaint" in available() else []) + ["enhance"]
        return Pipeline(stages, missing_mask="skip", **kw)
    if "," in name:
        return Pipeline([s.strip() for s in name.split(",") if s.strip()], **kw)
    return Restorer.from_pretrained(name, **kw)


# ------------------------------------------------------------------------------------ the run


def _read(job: Job, need_mask: bool) -> tuple[Image, np.ndarray | None]:
    img = read_image(job.src)
    if job.mask is None:
        if need_mask:
            raise RestoreError("no mask for it in the masks folder")
        return img, None
    m = read_image(job.mask)
    if m.size != img.size:
        raise RestoreError(f"mask {job.mask.name} is {m.size}, the image {img.size} (H, W)")
    px = m.pixels.max(axis=2)
    return img, px >= (32768 if px.dtype == np.uint16 else 128)


def _write(job: Job, img: Image, format: str | None, quality: int | None) -> None:
    write_image(job.dst, img, format=format, quality=quality, protect=_prepare_dst(job))


def _prepare_dst(job: Job) -> list[Path]:
    """Make ``job.dst``'s folder (never through a link leading out of OUT_DIR); the paths it
    must not overwrite."""
    root = job.dst.parents[len(Path(job.rel).parts) - 1].resolve()
    real = job.dst.parent.resolve()  # follows links that already exist in the output tree
    if real != root and root not in real.parents:
        raise ImageWriteError(
            f"refusing to write {job.dst}: a link leads outside the output folder {root}"
        )
    job.dst.parent.mkdir(parents=True, exist_ok=True)
    return [job.src] + ([job.mask] if job.mask is not None else [])


def _streamed(m: Any, job: Job, img: Image, mask: Any) -> bool:
    """Run and write a big image row band by row band (no full-size output); False if it can't."""
    from restore.api import Restorer
    from restore.streaming import can_stream, stream_image

    h, w = img.size
    if not isinstance(m, Restorer) or mask is not None or h * w < STREAM_PIXELS:
        return False
    if not can_stream(m, img, job.dst):
        return False
    stream_image(m, img, job.dst, protect=_prepare_dst(job))
    return True


def _header_size(path: Path) -> tuple[int, int]:
    import PIL.Image

    try:
        with PIL.Image.open(path) as im:
            return im.size
    except Exception:
        return (0, 0)


class _Inline:
    """A stand-in for a thread pool that runs each task at once, in the calling thread."""

    def submit(self, fn: Any, *args: Any) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args))
        except BaseException as e:  # handed to whoever reads the result, as a pool would
            fut.set_exception(e)
        return fut

    def map(self, fn: Any, items: Any) -> Iterator[Any]:
        return map(fn, items)

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None


def _pool(n: int, name: str) -> Any:
    return ThreadPoolExecutor(n, thread_name_prefix=name) if n > 0 else _Inline()


def _dist() -> tuple[int, int]:
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def enhance_folder(
    in_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    model: str | Any | None = None,
    *,
    task: str | None = None,
    masks: str | os.PathLike[str] | None = None,
    format: str | None = None,
    quality: int | None = None,
    suffix: str = "",
    overwrite: bool = False,
    dry_run: bool = False,
    allow_in_place: bool = False,
    device: str | None = None,
    dtype: str | None = None,
    tile: int | None = None,
    batch_size: int | None = None,
    workers: int | None = None,
    seed: int | None = None,
    progress: bool = True,
    options: Mapping[str, Any] | None = None,
) -> FolderReport:
    """Run a model over every image under ``in_dir``, writing to ``out_dir`` (see the module doc).

    Args:
        model: a shipped name, weights path, comma-separated stages, or a loaded Restorer /
            Pipeline; ``None`` takes the ``task``'s default model (:data:`TASK_MODELS`).
        task: ``sr``, ``inpaint``, ``colorize``, ``photo`` or ``style``.
        masks: folder of masks matched by relative path (any image suffix; white = hole).
        format: output format (``png``, ``jpg``, ``tif``, ``webp``, ``bmp``); default: the input's.
        quality: JPEG / lossy WebP quality.
        suffix: appended to every output's stem.
        overwrite: redo outputs that exist.
        dry_run: plan only: nothing is loaded or written (``planned`` lists the jobs).
        allow_in_place: allow ``out_dir`` inside (or equal to) ``in_dir``.
        device, dtype, tile: as in :func:`restore.load`.
        batch_size: images per model call (default: 8 on CUDA, 1 on the CPU).
        workers: reader threads (default: up to 4, as many as cores torch leaves free; 0 runs the
            decoding inline, the default when torch uses every core); writers are half as many
            (at least one).
        seed: seeds stochastic models (each batch gets a generator seeded with it).
        progress: show a tqdm progress bar (rank 0).
        options: keyword arguments of the photo pipeline (:class:`restore.photo.PhotoRestorer`:
            ``colorize``, ``tone``, ``upscale``, ``models``, ``detect``, ...), for the ``photo``
            task; the model is still loaded only when an image needs it.

    Returns:
        This rank's report (rank 0: merged over every rank).
    """
    t0 = time.perf_counter()
    rank, world = _dist()
    out_root = Path(out_dir)
    if task == "inpaint" and masks is None:
        raise ConfigError("the inpaint task needs a folder of masks (--masks DIR, white = hole)")
    if options and (model or TASK_MODELS.get(task or "photo")) != "photo":
        raise ConfigError(f"options {sorted(options)} are for the photo task (a model by name)")
    jobs, ignored, refused = plan(
        in_dir,
        out_dir,
        format=format,
        suffix=suffix,
        masks=masks,
        allow_in_place=allow_in_place,
        rank=rank,
        world_size=world,
    )
    model_name = model if isinstance(model, str) else getattr(model, "name", None)
    rep = FolderReport(
        str(in_dir),
        str(out_dir),
        model_name or TASK_MODELS.get(task or "photo", "?"),
        total=len(jobs) + len(refused),
        failed=list(refused),
        ignored=ignored,
        dry_run=dry_run,
        world_size=world,
    )
    todo = [j for j in jobs if overwrite or not j.dst.is_file()]
    rep.skipped = len(jobs) - len(todo)
    if rep.skipped and not dry_run:  # keep what the last run noted about the images it did
        done = {j.rel for j in jobs} - {j.rel for j in todo}
        rep.notes = [n for n in _previous_notes(out_root) if n.get("input") in done]
    if dry_run:
        rep.planned = [{"input": j.rel, "output": str(j.dst)} for j in todo]
        rep.seconds = time.perf_counter() - t0
        return rep
    out_root.mkdir(parents=True, exist_ok=True)
    stale = remove_stale_temps(jobs)
    if rank == 0:
        for f in out_root.glob(".restore_report*.tmp"):
            with suppress(OSError):
                f.unlink()
    if stale:
        log.info("removed %d temporary files left by an interrupted run", stale)
    dist = None
    if world > 1:
        from restore.runtime import init_distributed

        dist = init_distributed(device)
        device = str(dist.device)
    if todo:
        _run(
            todo,
            rep,
            model,
            task=task,
            masks=masks is not None,
            format=format,
            quality=quality,
            device=device,
            dtype=dtype,
            tile=tile,
            batch_size=batch_size,
            workers=workers,
            seed=seed,
            progress=progress and rank == 0,
            options=options,
        )
        failed = {f["input"] for f in rep.failed}
        rep.notes = [n for n in rep.notes if n["input"] not in failed]
    rep.seconds = time.perf_counter() - t0
    if dist is None:
        from restore.core.checkpoint import atomic_write_json

        atomic_write_json(out_root / REPORT_NAME, rep.to_json())
        return rep
    return _merge_reports(rep, out_root, rank, world)


def _previous_notes(out_root: Path) -> list[dict[str, Any]]:
    """The ``notes`` of an earlier report in ``out_root`` (none if absent or unreadable)."""
    try:
        notes = json.loads((out_root / REPORT_NAME).read_text(encoding="utf-8")).get("notes", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [n for n in notes if isinstance(n, dict)] if isinstance(notes, list) else []


def _merge_reports(rep: FolderReport, out_root: Path, rank: int, world: int) -> FolderReport:
    import torch.distributed as tdist

    from restore.core.checkpoint import atomic_write_json

    atomic_write_json(out_root / f"restore_report.rank{rank}.json", rep.to_json())
    tdist.barrier()
    if rank == 0:
        merged = rep
        for r in range(1, world):
            part = out_root / f"restore_report.rank{r}.json"
            d = json.loads(part.read_text(encoding="utf-8"))
            merged.total += d["total"]
            merged.written += d["written"]
            merged.skipped += d["skipped"]
            merged.failed += d["failed"]
            merged.notes += d.get("notes", [])
            merged.model_loaded |= d["model_loaded"]
            merged.seconds = max(merged.seconds, d["seconds"])
        atomic_write_json(out_root / REPORT_NAME, merged.to_json())
        for r in range(world):
            with suppress(OSError):
                (out_root / f"restore_report.rank{r}.json").unlink()
        rep = merged
    tdist.barrier()
    return rep


def _run(
    todo: list[Job],
    rep: FolderReport,
    model: Any,
    *,
    task: str | None,
    masks: bool,
    format: str | None,
    quality: int | None,
    device: str | None,
    dtype: str | None,
    tile: int | None,
    batch_size: int | None,
    workers: int | None,
    seed: int | None,
    progress: bool,
    options: Mapping[str, Any] | None = None,
) -> None:
    import torch
    from tqdm import tqdm

    from restore.api import process_images
    from restore.runtime import pick_device

    dev = model.device if hasattr(model, "run_tensor") else pick_device(device)
    batch = batch_size or (GPU_BATCH if dev.type == "cuda" else 1)
    if workers is None:
        # On the CPU, decoding threads only help on cores torch leaves free; on a busy core they
        # interrupt torch's parallel regions, so decoding then runs inline. One writer thread
        # stays: it mostly waits on fsync (atomic, durable writes), which costs no CPU.
        spare = (os.cpu_count() or 1) - (0 if dev.type == "cuda" else torch.get_num_threads())
        workers = min(4, spare) if spare > 0 else 0
    loaded: list[Any] = [model] if hasattr(model, "run_tensor") else []

    def get_model() -> Any:
        if not loaded:
            loaded.append(
                load_model(
                    task,
                    model,
                    device=device,
                    dtype=dtype,
                    tile=tile,
                    with_masks=masks,
                    options=options,
                )
            )
            log.info("loaded %r", loaded[0])
        rep.model_loaded = True
        return loaded[0]

    need_mask = task == "inpaint"
    kw: dict[str, Any] = {}
    bar = tqdm(total=len(todo), unit="img", disable=not progress, dynamic_ncols=True)

    def fail(job: Job, err: BaseException) -> None:
        rep.failed.append({"input": job.rel, "reason": str(err) or type(err).__name__})
        log.debug("%s: %s", job.rel, err)
        bar.update(1)

    with (
        _pool(workers, "restore-read") as readers,
        _pool(max(1, workers // 2), "restore-write") as writers,  # fsync waits off the path
    ):
        if batch > 1:  # group equal sizes so they batch; headers only
            sizes = list(readers.map(lambda j: _header_size(j.src), todo))
            todo = [j for _, j in sorted(zip(sizes, todo), key=lambda t: t[0])]
        window = max(2 * workers, 2 * batch, 1)
        reads: deque[tuple[Job, Future]] = deque()
        writes: deque[tuple[Job, Future]] = deque()
        pending = iter(todo)

        def refill() -> None:
            while len(reads) < window:
                job = next(pending, None)
                if job is None:
                    return
                reads.append((job, readers.submit(_read, job, need_mask)))

        def reap(block: bool) -> None:
            while writes and (block or writes[0][1].done() or len(writes) > window):
                job, fut = writes.popleft()
                try:
                    fut.result()
                    rep.written += 1
                    bar.update(1)
                except (RestoreError, OSError, ValueError) as e:
                    fail(job, e)

        refill()
        while reads:
            chunk: list[tuple[Job, Image, Any]] = []
            while reads and len(chunk) < batch:
                job, fut = reads.popleft()
                try:
                    img, mask = fut.result()
                    chunk.append((job, img, mask))
                except (RestoreError, OSError, ValueError) as e:
                    fail(job, e)
                refill()
            if not chunk:
                continue
            m = get_model()
            if seed is not None and not kw:
                if getattr(m, "accepts", lambda k: False)("seed"):
                    kw["seed"] = seed
                else:
                    log.warning("%s takes no seed; seed=%d ignored", m, seed)
                    seed = None
            if len(chunk) == 1:  # a big image streams its output rows straight into the file
                job, img, mask = chunk[0]
                try:
                    if _streamed(m, job, img, mask):
                        rep.written += 1
                        bar.update(1)
                        continue
                except (RestoreError, OSError, ValueError, RuntimeError) as e:
                    fail(job, e)
                    continue
            # a model with per-image reports (the photo pipeline) says what it did to each image
            with_reports = getattr(m, "restore_images", None)
            for group in [chunk] if len(chunk) == 1 else [chunk, *([c] for c in chunk)]:
                try:
                    if with_reports is not None and not kw:
                        done = with_reports([c[1] for c in group], [c[2] for c in group])
                        outs = [out for out, _ in done]
                        rep.notes += [
                            {"input": c[0].rel, **r.get("tone", {})}
                            for c, (_, r) in zip(group, done)
                        ]
                    else:
                        outs = process_images(
                            m, [c[1] for c in group], masks=[c[2] for c in group], **kw
                        )
                except (RestoreError, ValueError, RuntimeError) as e:
                    if len(group) == 1:
                        fail(group[0][0], e)
                    continue  # a failed batch is retried image by image
                for (job, _, _), out in zip(group, outs):
                    writes.append((job, writers.submit(_write, job, out, format, quality)))
                if group is chunk:
                    break
            reap(block=False)
        reap(block=True)
    bar.close()


__all__ = [
    "FORMATS",
    "REPORT_NAME",
    "TASK_MODELS",
    "FolderReport",
    "Job",
    "enhance_folder",
    "load_model",
    "output_path",
    "plan",
    "remove_stale_temps",
]
