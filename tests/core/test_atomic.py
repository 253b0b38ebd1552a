"""The one writer (restore.core.atomic): umask mode, file and folder fsync, nothing partial left.

Every writer of the package goes through it; the mode test runs each kind of file restore writes
(raw bytes, JSON cards / reports, safetensors, images, streamed images) under two umasks.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from restore.core import atomic
from restore.core import checkpoint as ckpt
from restore.data.io import write_image
from restore.data.stream import RowWriter
from restore.errors import ImageWriteError


@pytest.fixture
def umask() -> Iterator[Callable[[int], int]]:
    """``umask(m)`` sets the process umask for the test (restored after) and returns it."""
    old = os.umask(0o022)
    os.umask(old)

    def set_mask(m: int) -> int:
        os.umask(m)
        return m

    yield set_mask
    os.umask(old)


def _rows(path: Path) -> None:
    with RowWriter(path, 4, 5, 3, np.uint8) as w:
        w.write(np.zeros((4, 5, 3), np.uint8))


WRITERS: dict[str, tuple[str, Callable[[Path], object]]] = {
    "bytes": ("w.bin", lambda p: atomic.atomic_write_bytes(p, b"abc")),
    "json": ("card.json", lambda p: ckpt.atomic_write_json(p, {"a": 1})),
    "safetensors": ("w.safetensors", lambda p: ckpt.save_tensors(p, {"t": torch.zeros(2)})),
    "image": ("i.png", lambda p: write_image(p, np.zeros((4, 5, 3), np.uint8))),
    "streamed image": ("s.ppm", _rows),
}


@pytest.mark.parametrize("kind", list(WRITERS))
@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_every_writer_gives_the_umask_mode(tmp_path, umask, kind, mask):
    name, write = WRITERS[kind]
    umask(mask)
    write(tmp_path / name)
    assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o666 & ~mask  # 0o644, 0o640
    assert [p.name for p in tmp_path.iterdir()] == [name]


@pytest.mark.parametrize("overwrite", [True, False])
def test_file_then_folder_are_fsynced_after_the_rename(tmp_path, monkeypatch, overwrite):
    target = tmp_path / "f.bin"
    synced: list[tuple[str, bool]] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            synced.append(("folder", st.st_ino == os.stat(tmp_path).st_ino and target.exists()))
        else:
            synced.append(("file", not target.exists()))
        real_fsync(fd)

    monkeypatch.setattr(atomic.os, "fsync", spy)
    atomic.atomic_write_bytes(target, b"abc", overwrite=overwrite)
    # the file's data before it is renamed into place, then its folder, once it is there
    assert synced == [("file", True), ("folder", True)]
    assert target.read_bytes() == b"abc"


def test_a_failure_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "f.json"
    atomic.atomic_write_json(target, {"v": 1})
    with pytest.raises(RuntimeError, match="encoder"):
        with atomic.atomic_file(target) as f:
            f.write(b"half")
            raise RuntimeError("encoder broke")
    with pytest.raises(KeyboardInterrupt):
        with atomic.atomic_file(target) as f:
            raise KeyboardInterrupt

    def no_space(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", no_space)
    with pytest.raises(OSError, match="No space"):
        atomic.atomic_write_json(target, {"v": 2})
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]
    assert '"v": 1' in target.read_text()


def test_overwrite_false_never_clobbers(tmp_path):
    target = tmp_path / "f.bin"
    atomic.atomic_write_bytes(target, b"old")
    with pytest.raises(FileExistsError, match="already exists"):
        atomic.atomic_write_bytes(target, b"new", overwrite=False)
    # path appearing while the block runs: still not replaced
    other = tmp_path / "g.bin"
    with pytest.raises(FileExistsError):
        with atomic.atomic_file(other, overwrite=False) as f:
            f.write(b"mine")
            other.write_bytes(b"theirs")
    assert target.read_bytes() == b"old" and other.read_bytes() == b"theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin", "g.bin"]


def test_missing_folder_is_an_error_unless_asked_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        with atomic.atomic_file(tmp_path / "no" / "f.bin") as f:
            f.write(b"x")
    assert not (tmp_path / "no").exists()
    atomic.atomic_write_bytes(tmp_path / "a" / "b" / "f.bin", b"x")  # parents made by default
    assert (tmp_path / "a" / "b" / "f.bin").read_bytes() == b"x"


def test_image_writers_keep_their_error_type(tmp_path):
    with pytest.raises(ImageWriteError, match="does not exist"):
        write_image(tmp_path / "no" / "a.png", np.zeros((2, 2, 3), np.uint8))
    write_image(tmp_path / "a.png", np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(ImageWriteError, match="already exists"):
        write_image(tmp_path / "a.png", np.zeros((2, 2, 3), np.uint8), overwrite=False)
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]
