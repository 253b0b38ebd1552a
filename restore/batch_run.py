"""Run planned jobs: reader threads decode ahead of the model, writer threads encode behind it.

The model is loaded (``load()``) only when the first image has been decoded, so a finished folder
costs no model work. On CUDA, images are sorted by size and run in batches of equal size; a failed
batch is retried image by image, and a bad file (unreadable, wrong mask, failed write) is recorded
in the report with its reason while the run goes on. Big images of plain colour models stream
their output row band by row band into the file (:data:`STREAM_PIXELS`).
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from restore.batch_plan import Job
from restore.batch_report import FolderReport
from restore.data.io import Image, read_image, write_image
from restore.errors import ImageWriteError, RestoreError

log = logging.getLogger(__name__)

#: Images per model call on CUDA when ``batch_size`` is not given (the CPU runs one at a time).
GPU_BATCH = 8
#: Images of at least this many pixels are written row band by row band as the model finishes
#: them (PNG / PPM / PGM outputs of plain colour models), instead of being assembled in memory
#: and handed to a writer thread.
STREAM_PIXELS = 16_000_000


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


def run_jobs(
    todo: list[Job],
    rep: FolderReport,
    model: Any,
    *,
    load: Callable[[], Any],
    need_mask: bool,
    format: str | None,
    quality: int | None,
    device: str | None,
    batch_size: int | None,
    workers: int | None,
    seed: int | None,
    progress: bool,
) -> None:
    """Run ``todo`` and write the outputs, recording what happened in ``rep`` (in place).

    Args:
        model: a loaded model (anything with ``run_tensor``) or a name; a name is loaded by
            ``load()`` when the first image has been decoded, and not at all when none is.
        load: loads the model (:func:`restore.batch.load_model` with the run's arguments).
        need_mask: a job without a mask fails (the inpaint task).
        device: where a model loaded by name runs (it chooses the batch size and the threads).
        Other arguments as in :func:`restore.batch.enhance_folder`.
    """
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
            loaded.append(load())
            log.info("loaded %r", loaded[0])
        rep.model_loaded = True
        return loaded[0]

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
