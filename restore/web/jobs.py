"""The web app's job queue: one model run at a time, progress, and a temporary folder for files.

Every request that runs a model becomes a :class:`Job` handed to one worker thread, so runs on the
device never overlap (a second request waits in the queue and sees its place). Uploads and results
live only under one temporary folder, removed when the server stops; only the newest ``keep``
uploads and jobs are kept (older ones' folders are deleted as new ones arrive).
"""

from __future__ import annotations

import itertools
import logging
import secrets
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from restore.data.io import Image
from restore.errors import RestoreError

log = logging.getLogger(__name__)

Status = Literal["queued", "running", "done", "error"]
#: A job's work: gets the job (to report its stage and write files) and returns a JSON-able info dict.
Work = Callable[["Job"], dict[str, Any]]


class QueueFullError(RestoreError):
    """More requests are waiting than the server accepts (``max_queue``)."""

    status = 503


class GoneError(RestoreError):
    """An upload or job that does not exist (any more: only the newest ``keep`` are kept)."""

    status = 404


@dataclass
class Upload:
    """A decoded upload: the image in memory, and its folder (``input.png`` for display)."""

    id: str
    name: str
    image: Image
    folder: Path


@dataclass
class Job:
    """One model run: its state, what it wrote (``outputs``: name -> file) and what it said."""

    id: str
    kind: str
    folder: Path
    status: Status = "queued"
    stage: str = "queued"
    progress: float = 0.0
    expected_s: float | None = None
    error: str | None = None
    outputs: dict[str, Path] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    created: float = field(default_factory=time.monotonic)
    started: float | None = None
    finished: float | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def set_stage(self, stage: str, progress: float | None = None) -> None:
        """Called by the work as it goes (from the worker thread)."""
        self.stage = stage
        if progress is not None:
            self.progress = max(self.progress, min(1.0, progress))

    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.monotonic()) - self.started


class JobQueue:
    """Runs jobs one at a time on one worker thread; owns the temporary folder.

    Args:
        keep: how many uploads and how many jobs keep their files (older ones are deleted).
        max_queue: jobs waiting or running at most; one more raises :class:`QueueFullError`.
        root: parent of the temporary folder (default: the system's temporary folder).
    """

    def __init__(self, *, keep: int = 32, max_queue: int = 16, root: str | None = None) -> None:
        if keep < 1 or max_queue < 1:
            raise ValueError(f"keep and max_queue must be >= 1, got {keep}, {max_queue}")
        self.keep, self.max_queue = keep, max_queue
        self.root = Path(tempfile.mkdtemp(prefix="restore-web-", dir=root))
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="restore-web-model")
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._uploads: OrderedDict[str, Upload] = OrderedDict()
        self._seconds: dict[str, float] = {}  # kind -> seconds per megapixel of its last run
        self._count = itertools.count()
        self.closed = False

    # -- uploads --------------------------------------------------------------------------------
    def add_upload(self, name: str, image: Image) -> Upload:
        """Keep a decoded upload (its folder is made; the caller writes ``input.png``)."""
        up = Upload(self._new_id("u"), name, image, self._new_folder("u"))
        with self._lock:
            self._uploads[up.id] = up
            old = self._evict(self._uploads)
        for o in old:
            shutil.rmtree(o.folder, ignore_errors=True)
        return up

    def upload(self, upload_id: str) -> Upload:
        with self._lock:
            up = self._uploads.get(upload_id)
        if up is None:
            raise GoneError(f"upload {upload_id!r} is gone (the server keeps the last {self.keep})")
        return up

    # -- jobs -----------------------------------------------------------------------------------
    def submit(self, kind: str, work: Work, *, megapixels: float = 1.0) -> Job:
        """Queue ``work``; returns at once with the job (poll it, or wait on ``job.done``)."""
        with self._lock:
            if self.closed:
                raise RestoreError("the server is shutting down")
            busy = sum(j.status in ("queued", "running") for j in self._jobs.values())
            if busy >= self.max_queue:
                raise QueueFullError(f"{busy} requests are waiting; try again in a moment")
        rate = self._seconds.get(kind)
        job = Job(self._new_id("j"), kind, self._new_folder("j"))
        job.expected_s = None if rate is None else rate * max(megapixels, 1e-3)
        job.info["megapixels"] = megapixels
        with self._lock:
            self._jobs[job.id] = job
            old = self._evict(self._jobs, keep_if=lambda j: j.status in ("queued", "running"))
        for o in old:
            shutil.rmtree(o.folder, ignore_errors=True)
        self._pool.submit(self._run, job, work)
        return job

    def job(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise GoneError(f"job {job_id!r} is gone (the server keeps the last {self.keep})")
        return job

    def position(self, job: Job) -> int:
        """How many jobs run or wait before ``job`` (0 when it runs or is finished)."""
        if job.status != "queued":
            return 0
        with self._lock:
            ahead = [j for j in self._jobs.values() if j.status in ("queued", "running")]
        return sum(j.created < job.created for j in ahead)

    def _run(self, job: Job, work: Work) -> None:
        job.status, job.stage, job.started = "running", "starting", time.monotonic()
        try:
            job.info.update(work(job))
            job.status, job.stage, job.progress = "done", "done", 1.0
        except (RestoreError, ValueError) as e:  # what a user's input can cause
            job.status, job.error = "error", str(e)
        except Exception as e:  # a bug: say so, keep serving
            log.exception("job %s (%s) failed", job.id, job.kind)
            job.status, job.error = "error", f"internal error ({type(e).__name__}: {e})"
        finally:
            job.finished = time.monotonic()
            if job.status == "done":
                mp = float(job.info.get("megapixels", 1.0)) or 1e-3
                self._seconds[job.kind] = job.elapsed() / max(mp, 1e-3)
            job.done.set()

    # -- the folder -----------------------------------------------------------------------------
    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._count)}{secrets.token_hex(6)}"

    def _new_folder(self, prefix: str) -> Path:
        folder = self.root / f"{prefix}{next(self._count)}-{secrets.token_hex(4)}"
        folder.mkdir()
        return folder

    def _evict(self, items: OrderedDict, keep_if: Callable[[Any], bool] = lambda _: False) -> list:
        old = []
        for key in list(items):
            if len(items) - len(old) <= self.keep:
                break
            if not keep_if(items[key]):
                old.append(items.pop(key))
        return old

    def close(self) -> None:
        """Stop taking jobs, wait for the running one, delete the temporary folder."""
        with self._lock:
            self.closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        for j in list(self._jobs.values()):
            if not j.done.is_set():  # cancelled before it ran
                j.status, j.error = "error", "the server stopped"
                j.done.set()
        shutil.rmtree(self.root, ignore_errors=True)


__all__ = ["GoneError", "Job", "JobQueue", "QueueFullError", "Upload"]
