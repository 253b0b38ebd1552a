"""The package's one file writer: a file appears complete at its path, or not at all.

Every file ``restore`` writes (weights, checkpoints, model cards, ``config.json``, JSON reports,
ONNX exports, images, streamed images) goes through :func:`atomic_file`:

1. the bytes go to a new temporary file ``.<name>.<random>.tmp`` in the destination folder,
   created with mode ``0o666`` so the process's umask (and a folder's default ACL) decides the
   final mode, as for any ordinary ``open(path, "w")`` (``0o644`` under the usual umask ``022``;
   not ``mkstemp``'s owner-only ``0o600``);
2. the file is flushed and fsynced, then renamed over ``path`` (or hard-linked to it, failing if
   ``path`` exists, when ``overwrite`` is False);
3. the folder is fsynced, so the rename itself survives a power cut.

On any exception (a failed write, a full disk, ``KeyboardInterrupt``) the temporary file is
removed and ``path`` is left as it was. A process killed outright can leave a ``.*.tmp`` file
behind, never a partial ``path``; ``restore train`` removes such files when it resumes.

Errors are plain ``OSError``: :class:`FileNotFoundError` for a missing folder (unless
``make_parents``), :class:`FileExistsError` for an existing ``path`` with ``overwrite=False``, and
whatever the system raised otherwise. Callers with their own error type translate them
(:func:`restore.data.stream.atomic_image_file` raises ``ImageWriteError``).

Example:
    >>> with atomic_file(Path("report.txt")) as f:     # doctest: +SKIP
    ...     f.write(b"all good\\n")
    >>> atomic_write_json("card.json", {"name": "sr-x4"})  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_file", "atomic_write_bytes", "atomic_write_json"]

_TRIES = 100  # random temporary names tried before giving up (a clash is already unlikely)


@contextmanager
def atomic_file(
    path: str | os.PathLike[str], *, overwrite: bool = True, make_parents: bool = False
) -> Iterator[IO[bytes]]:
    """A binary file that appears at ``path`` only when the ``with`` block ends without error.

    Args:
        path: the destination.
        overwrite: replace an existing ``path`` (default); if False, an existing ``path`` is an
            error and is never clobbered, even if it appears while the block runs.
        make_parents: create missing parent folders first.

    Yields:
        The open temporary file (binary, seekable).

    Raises:
        FileNotFoundError: the folder does not exist (and ``make_parents`` is False).
        FileExistsError: ``path`` exists and ``overwrite`` is False.
        OSError: the folder is unwritable, or writing, syncing or renaming failed.
    """
    path = Path(path)
    parent = path.parent
    if make_parents:
        parent.mkdir(parents=True, exist_ok=True)
    elif not parent.is_dir():
        raise FileNotFoundError(f"{path}: the folder {parent} does not exist")
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if path exists or appeared meanwhile: never clobbers
            except FileExistsError as e:
                raise FileExistsError(f"{path}: already exists (overwrite=False)") from e
            os.unlink(tmp)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(parent)


def atomic_write_bytes(
    path: str | os.PathLike[str], data: bytes, *, overwrite: bool = True, make_parents: bool = True
) -> None:
    """Write ``data`` to ``path`` with :func:`atomic_file` (parent folders created by default)."""
    with atomic_file(path, overwrite=overwrite, make_parents=make_parents) as f:
        f.write(data)


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented, key-sorted JSON (and a final newline) to ``path`` atomically."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def _create_temp(path: Path) -> tuple[int, str]:
    """A new, empty temporary file next to ``path``, opened for writing; mode 0o666 & ~umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(_TRIES):
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"{path}: no free temporary name in {path.parent} after {_TRIES} tries")


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (skipped where folders cannot be opened or synced)."""
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
