"""Enhance a folder of images: resumable, parallel I/O, batched on GPUs, sharded under torchrun.

:func:`enhance_folder` is what ``restore enhance IN_DIR OUT_DIR`` runs:

1. **Plan** (:mod:`restore.batch_plan`): every file under ``IN_DIR`` (recursive, hidden files
   skipped) with an image suffix is a job whose output keeps its relative path under ``OUT_DIR``
   (suffix changed by ``format``; GIF and PBM inputs, which cannot be written, give PNG). Other
   files are listed as ignored. Under torchrun, file ``i`` (sorted) goes to rank ``i % WORLD_SIZE``.
2. **Resume**: a job whose output exists is done (outputs are written atomically, so an existing
   file is complete); temporary files left by a killed run are removed first.
3. **Run** (:mod:`restore.batch_run`): reader threads decode ahead of the model, writer threads
   encode behind it. The model is loaded only when the first image has been decoded, so a
   finished folder costs no model work. On CUDA, images are sorted by size and run in batches of
   equal size.
4. **Report** (:mod:`restore.batch_report`): a bad file (unreadable, wrong mask, failed write) is
   recorded with its reason and the run goes on. ``OUT_DIR/restore_report.json`` (atomic) lists
   every failure; under torchrun each rank writes ``restore_report.rank{r}.json`` and rank 0
   merges them after a barrier. A model with per-image reports (the photo pipeline's
   ``restore_images``: tone kind, what was done, colorize skipped) adds one ``notes`` entry per
   image; a rerun keeps the notes of the images it skips.

Example:
    >>> from restore.batch import enhance_folder
    >>> rep = enhance_folder("scans", "restored", task="sr")   # doctest: +SKIP
    >>> rep.failed                                             # doctest: +SKIP
    []
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import time
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

from restore.batch_plan import FORMATS, Job, output_path, plan, remove_stale_temps
from restore.batch_report import REPORT_NAME, FolderReport, merge_reports, previous_notes
from restore.batch_run import run_jobs
from restore.errors import ConfigError, ModelNotFoundError
from restore.tasks.specs import enhance_choices

log = logging.getLogger(__name__)

#: ``--task`` -> the model used when ``--model`` is not given ("photo" is a pipeline): each task
#: spec's alias and default model (:data:`restore.tasks.TASKS`), and the photo pipeline.
TASK_MODELS: dict[str, str] = enhance_choices()


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
        rep.notes = [n for n in previous_notes(out_root) if n.get("input") in done]
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
        run_jobs(
            todo,
            rep,
            model,
            load=functools.partial(
                load_model,
                task,
                model,
                device=device,
                dtype=dtype,
                tile=tile,
                with_masks=masks is not None,
                options=options,
            ),
            need_mask=task == "inpaint",
            format=format,
            quality=quality,
            device=device,
            batch_size=batch_size,
            workers=workers,
            seed=seed,
            progress=progress and rank == 0,
        )
        failed = {f["input"] for f in rep.failed}
        rep.notes = [n for n in rep.notes if n["input"] not in failed]
    rep.seconds = time.perf_counter() - t0
    if dist is None:
        from restore.core.checkpoint import atomic_write_json

        atomic_write_json(out_root / REPORT_NAME, rep.to_json())
        return rep
    return merge_reports(rep, out_root, rank, world)


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
