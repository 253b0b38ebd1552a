from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch

from restore.data.mnist import IdxError, MnistDataset, load_mnist, read_idx, split_indices


def idx_bytes(arr: np.ndarray, code: int = 0x08) -> bytes:
    """Hand-made IDX: 0, 0, type code, ndim, big-endian dims, big-endian data."""
    head = bytes([0, 0, code, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
    return head + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


@pytest.fixture
def tiny_mnist(tmp_path):
    images = np.arange(3 * 2 * 2, dtype=np.uint8).reshape(3, 2, 2)
    labels = np.array([7, 0, 9], np.uint8)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images)))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(labels))  # raw, not gz
    return tmp_path, images, labels


def test_read_idx_raw_and_gz_agree(tmp_path):
    a = np.array([[1, 2, 3], [250, 0, 7]], np.uint8)
    (tmp_path / "raw").write_bytes(idx_bytes(a))
    (tmp_path / "z.gz").write_bytes(gzip.compress(idx_bytes(a)))
    for name in ("raw", "z.gz"):
        out = read_idx(tmp_path / name)
        assert out.dtype == np.uint8 and out.shape == (2, 3)
        np.testing.assert_array_equal(out, a)


def test_read_idx_big_endian_int32(tmp_path):
    a = np.array([1, -2, 70000], np.int32)
    (tmp_path / "i").write_bytes(idx_bytes(a, code=0x0C))
    out = read_idx(tmp_path / "i")
    assert out.dtype == np.int32
    assert out.tolist() == [1, -2, 70000]


def test_read_idx_errors(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x01\x05")
    with pytest.raises(IdxError, match="not an IDX"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(idx_bytes(np.zeros((2, 2), np.uint8))[:-1])
    with pytest.raises(IdxError, match="header says shape"):
        read_idx(tmp_path / "short")
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "missing")


def test_dataset_items_and_labels(tiny_mnist):
    root, images, labels = tiny_mnist
    x, y = load_mnist(root)
    np.testing.assert_array_equal(x, images)
    assert y.dtype == np.int64 and y.tolist() == [7, 0, 9]
    ds = MnistDataset(root)
    assert len(ds) == 3
    assert ds[1].shape == (1, 2, 2) and ds[1].dtype == torch.uint8
    assert torch.equal(ds[1][0], torch.from_numpy(images[1]))
    sub = MnistDataset(root, indices=[2, 0])
    assert sub.labels.tolist() == [9, 7] and torch.equal(sub[0][0], torch.from_numpy(images[2]))


def test_labels_must_match_images(tmp_path):
    (tmp_path / "a-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((2, 2, 2), np.uint8)))
    (tmp_path / "a-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(IdxError, match="labels for 2 images"):
        load_mnist(tmp_path)


def test_split_indices_is_a_seeded_partition():
    tr, te = split_indices(100, 0.2, seed=3)
    assert len(te) == 20 and len(tr) == 80
    assert sorted(np.concatenate([tr, te]).tolist()) == list(range(100))
    tr2, te2 = split_indices(100, 0.2, seed=3)
    assert np.array_equal(te, te2)


def test_real_mnist_t10k(shared_data):
    root = shared_data / "generation" / "mnist_t10k"
    if not root.is_dir():
        pytest.skip("no mnist_t10k")
    ds = MnistDataset(root)
    assert len(ds) == 10000 and ds[0].shape == (1, 28, 28)
    assert ds.labels.bincount().tolist()[:2] == [980, 1135]
