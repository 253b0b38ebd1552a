"""The face verifier (restore/faces/verify.py): shipped weights, crops, scores, the dense scan."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from restore.faces.verify import (
    SIZE,
    WEIGHTS,
    FaceVerifier,
    crop_box,
    face_scores,
    load_verifier,
    local_standardise,
    refine_boxes,
    scan,
    standardise,
)

REPO = Path(__file__).resolve().parents[2]


def held_out_faces(shared_data: Path, n: int) -> list[np.ndarray]:
    """The first ``n`` held-out UTKFace faces (never trained on) as grey uint8, 200 px."""
    from restore.tasks.face import face_split

    paths = face_split(shared_data / "faces" / "utkface_200")["test"][:n]
    return [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in paths]


def textures() -> list[np.ndarray]:
    skdata = pytest.importorskip("skimage.data")
    return [skdata.grass(), skdata.brick(), skdata.gravel()]


def test_the_weights_ship_in_the_package():
    assert WEIGHTS.is_file() and WEIGHTS.stat().st_size < 1024 * 1024
    pyproject = (REPO / "pyproject.toml").read_text()  # tomllib is 3.11+; the line is enough
    line = pyproject.split("[tool.setuptools.package-data]")[1].split("\n")[1]
    assert line.startswith("restore = [") and '"faces/*.safetensors"' in line
    model = load_verifier()
    assert isinstance(model, FaceVerifier) and not model.training
    assert model(torch.zeros(2, 1, SIZE, SIZE)).shape == (2,)
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        model(torch.zeros(2, 3, SIZE, SIZE))


def test_crop_box_cuts_the_box_and_repeats_the_border():
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (100, 120), dtype=np.uint8)
    np.testing.assert_array_equal(crop_box(grey, (10, 20, 32, 32)), grey[20:52, 10:42])
    smooth = cv2.GaussianBlur(grey.astype(np.float32), (0, 0), 4)
    half = cv2.resize(smooth[0:64, 0:64], (32, 32), interpolation=cv2.INTER_AREA)
    assert np.abs(crop_box(smooth.astype(np.uint8), (0, 0, 64, 64)) - half).mean() < 2.0
    outside = crop_box(grey, (-40, -40, 32, 32))  # wholly outside: the corner pixel repeated
    assert outside.shape == (SIZE, SIZE) and (outside == grey[0, 0]).all()


def test_standardise_and_its_local_form():
    crops = np.random.default_rng(1).uniform(0, 255, (3, SIZE, SIZE)).astype(np.float32)
    t = standardise(crops * 0.3 + 40)  # faded and shifted: the same input to the network
    np.testing.assert_allclose(t, standardise(crops), atol=1e-4)
    assert t.shape == (3, 1, SIZE, SIZE)
    flat = local_standardise(np.full((40, 50), 90, np.uint8))
    assert flat.shape == (40, 50) and np.abs(flat).max() < 1e-3


def test_accepts_held_out_faces_and_rejects_textures(shared_data):
    """Held-out faces aged like a print (grey, blur, noise, JPEG) score high; textures low."""
    rng = np.random.default_rng(2)
    crops = []
    for face in held_out_faces(shared_data, 40):
        g = cv2.GaussianBlur(cv2.resize(face, (72, 72), interpolation=cv2.INTER_AREA), (0, 0), 0.8)
        g = (g + rng.normal(0, 5, g.shape)).clip(0, 255).astype(np.uint8)
        ok, buf = cv2.imencode(".jpg", g, [cv2.IMWRITE_JPEG_QUALITY, 60])
        g = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
        crops.append(crop_box(g, (2, -1, 68, 68)))  # the detector's box: a little high
    model = load_verifier()
    faces = torch.sigmoid(model(standardise(np.stack(crops)))).detach().numpy()
    assert (faces > 0.5).mean() >= 0.9, np.round(faces, 2)
    windows = [
        (t, (x, y, s, s)) for t in textures() for s in (48, 96) for x in (0, 200) for y in (30, 300)
    ]
    false = np.concatenate([face_scores(t, [b]) for t, b in windows])
    assert (false > 0.5).mean() <= 0.05, np.round(false, 2)


def test_scan_finds_windows_on_a_face_and_none_on_flat_grey(shared_data):
    face = cv2.resize(held_out_faces(shared_data, 1)[0], (80, 80), interpolation=cv2.INTER_AREA)
    scene = np.full((160, 200), 128, np.uint8)
    scene[40:120, 60:140] = face
    hits = scan(scene, min_size=48, threshold=0.5)
    assert hits and all(0.0 <= p <= 1.0 for _, p in hits)
    cx = [b[0] + b[2] / 2 for b, _ in hits]
    assert 70 < float(np.median(cx)) < 130  # around the face, not the empty sides
    assert scan(np.full((160, 200), 128, np.uint8), min_size=48, threshold=0.5) == []
    assert scan(scene, min_size=48, max_size=40) == []  # no level fits


def test_refine_moves_a_shifted_box_onto_the_face(shared_data):
    """A box 9% of a side off (each way) a held-out face is scored a face and moved back."""
    face = cv2.resize(held_out_faces(shared_data, 3)[2], (80, 80), interpolation=cv2.INTER_AREA)
    scene = np.full((200, 240), 120, np.uint8)
    scene[60:140, 80:160] = face
    true = (80 + 40, 60 + 38, 76)  # centre and side of the detector's box: 0.95, a little high
    off = (true[0] + 7 - 38, true[1] - 7 - 38, 76, 76)
    prob, (moved,) = refine_boxes(scene, [off])
    assert prob[0] > 0.5

    def miss(b):
        return float(np.hypot(b[0] + b[2] / 2 - true[0], b[1] + b[3] / 2 - true[1]))

    assert miss(moved) < 0.5 * miss(off) and 0.8 * 76 < moved[2] < 1.25 * 76
    assert load_verifier().regress(torch.zeros(2, 1, SIZE, SIZE)).shape == (2, 3)
