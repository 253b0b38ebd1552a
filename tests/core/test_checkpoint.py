from __future__ import annotations

import struct

import pytest
import torch
from torch import nn

from restore.core import atomic
from restore.core import checkpoint as ckpt
from restore.errors import CheckpointError

# pickle.dumps({"w": 1}, protocol=4), spelled out so that no test imports pickle
PICKLED = b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01w\x94K\x01s."


def test_tensors_round_trip_and_no_temp_files(tmp_path):
    t = {
        "a": torch.randn(3, 4),
        "b": torch.arange(5),
        "u8": torch.tensor([1, 2], dtype=torch.uint8),
    }
    p = tmp_path / "x.safetensors"
    ckpt.save_tensors(p, t, {"k": "v"})
    back, meta = ckpt.load_tensors(p)
    assert meta == {"k": "v"}
    for k in t:
        assert torch.equal(back[k], t[k])
    assert [q.name for q in tmp_path.iterdir()] == ["x.safetensors"]


def test_refuses_pickle_by_suffix_and_content(tmp_path):
    p = tmp_path / "model.pth"
    p.write_bytes(PICKLED)
    with pytest.raises(CheckpointError, match="pickle"):
        ckpt.load_tensors(p)
    q = tmp_path / "model.safetensors"
    q.write_bytes(PICKLED)
    with pytest.raises(CheckpointError, match="pickle"):
        ckpt.load_tensors(q)
    z = tmp_path / "zip.safetensors"
    z.write_bytes(b"PK\x03\x04" + b"\0" * 40)
    with pytest.raises(CheckpointError, match="pickle"):
        ckpt.load_tensors(z)


def test_refuses_truncated_and_tampered(tmp_path):
    p = tmp_path / "x.safetensors"
    ckpt.save_tensors(p, {"a": torch.randn(64, 64)})
    data = p.read_bytes()
    (tmp_path / "trunc.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cannot read|truncated"):
        ckpt.load_tensors(tmp_path / "trunc.safetensors")
    (tmp_path / "hdr.safetensors").write_bytes(data[:20])
    with pytest.raises(CheckpointError, match="truncated"):
        ckpt.load_tensors(tmp_path / "hdr.safetensors")
    bad = bytearray(data)
    n = struct.unpack("<Q", bad[:8])[0]
    bad[8 : 8 + n] = bad[8 : 8 + n].replace(b"F32", b"F64")  # header now lies about the dtype
    (tmp_path / "tamper.safetensors").write_bytes(bytes(bad))
    with pytest.raises(CheckpointError):
        ckpt.load_tensors(tmp_path / "tamper.safetensors")
    (tmp_path / "rand.safetensors").write_bytes(b"\xff" * 100)
    with pytest.raises(CheckpointError, match="not a safetensors"):
        ckpt.load_tensors(tmp_path / "rand.safetensors")
    with pytest.raises(CheckpointError, match="not found"):
        ckpt.load_tensors(tmp_path / "missing.safetensors")


def test_load_into_names_the_mismatch():
    m = nn.Linear(3, 2)
    good = m.state_dict()
    ckpt.load_into(m, good)
    with pytest.raises(CheckpointError, match="missing 1"):
        ckpt.load_into(m, {"weight": good["weight"]})
    with pytest.raises(CheckpointError, match="unexpected 1"):
        ckpt.load_into(m, {**good, "extra": torch.zeros(1)})
    with pytest.raises(
        CheckpointError, match=r"wrong shape 1 .*weight: file \(2, 4\) vs model \(2, 3\)"
    ):
        ckpt.load_into(m, {**good, "weight": torch.zeros(2, 4)})


def test_optimizer_state_round_trip_is_exact(tmp_path):
    torch.manual_seed(0)
    m = nn.Linear(4, 4)
    opt = torch.optim.Adam(m.parameters(), lr=1e-2, betas=(0.5, 0.9))
    for _ in range(3):
        opt.zero_grad()
        m(torch.randn(2, 4)).square().sum().backward()
        opt.step()
    tensors, rest = ckpt.optimizer_to_tensors(opt, "opt")
    ckpt.save_tensors(tmp_path / "o.safetensors", tensors)
    tensors, _ = ckpt.load_tensors(tmp_path / "o.safetensors")
    m2 = nn.Linear(4, 4)
    m2.load_state_dict(m.state_dict())
    opt2 = torch.optim.Adam(m2.parameters(), lr=1.0)
    ckpt.optimizer_from_tensors(opt2, "opt", tensors, rest)
    x = torch.randn(2, 4)
    for o, mm in ((opt, m), (opt2, m2)):
        o.zero_grad()
        mm(x).square().sum().backward()
        o.step()
    assert torch.equal(m.weight, m2.weight)
    assert opt2.param_groups[0]["betas"] == (0.5, 0.9)


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    p = tmp_path / "f.json"
    ckpt.atomic_write_json(p, {"v": 1})

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", boom)
    with pytest.raises(OSError):
        ckpt.atomic_write_json(p, {"v": 2})
    assert p.read_text().strip().startswith("{") and '"v": 1' in p.read_text()
    assert sorted(q.name for q in tmp_path.iterdir()) == ["f.json"]


def test_sha256(tmp_path):
    import hashlib

    p = tmp_path / "b"
    p.write_bytes(b"abc" * 1000)
    assert ckpt.sha256_file(p) == hashlib.sha256(b"abc" * 1000).hexdigest()
