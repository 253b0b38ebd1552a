"""Face detection: a real face (scikit-image's astronaut) and held-out UTKFace faces pasted at
known places into grey and sepia scenes; nothing on face-free textures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from restore.faces.detect import (
    Face,
    detect_faces,
    group_boxes,
    iou,
    luminance_u8,
    merge_windows,
)

FACE_BOX = (
    90,
    40,
    120,
    110,
)  # x, y, w, h of the pasted crop (face and hair) in the 240 x 180 scene


def scene(kind: str) -> np.ndarray:
    """The astronaut's face (grey) pasted at FACE_BOX into a noisy grey field, grey or sepia."""
    skdata = pytest.importorskip("skimage.data")
    a = skdata.astronaut()[60:170, 165:285].astype(np.float32)
    face = a @ np.array([0.299, 0.587, 0.114], np.float32)
    rng = np.random.default_rng(0)
    y = rng.normal(128, 20, (180, 240)).clip(0, 255).astype(np.float32)
    x0, y0, w, h = FACE_BOX
    y[y0 : y0 + h, x0 : x0 + w] = face
    y /= 255.0
    rgb = np.stack([y, y, y] if kind == "grey" else [y**0.85, y, y**1.35], -1)
    return (rgb * 255 + 0.5).clip(0, 255).astype(np.uint8)


@pytest.mark.parametrize("kind", ["grey", "sepia"])
def test_finds_the_pasted_face(kind):
    faces = detect_faces(scene(kind), min_size=48)
    assert len(faces) == 1
    (bx, by, bw, bh), (x0, y0, w, h) = faces[0].box, FACE_BOX
    assert abs(bx + bw / 2 - (x0 + w / 2)) < 0.15 * w
    assert abs(by + bh / 2 - (y0 + h / 2)) < 0.15 * h
    assert 0.5 * w < bw < 1.2 * w  # the box holds the face (brows to chin), the crop more
    (lx, ly), (rx, ry) = faces[0].eyes
    assert lx < rx and abs(ly - ry) < 0.1 * bw  # left eye first, both level
    assert by < ly < by + 0.6 * bh


def test_a_big_scan_is_searched_shrunk():
    import cv2

    from restore.faces.detect import MAX_SIDE

    a = scene("grey")
    k = 2 * MAX_SIDE / a.shape[1]  # the scene enlarged to twice MAX_SIDE wide
    big = cv2.resize(a, (2 * MAX_SIDE, round(a.shape[0] * k)), interpolation=cv2.INTER_CUBIC)
    faces = detect_faces(big, min_size=48 * k)
    assert len(faces) == 1
    # the same face as on the scan shrunk to MAX_SIDE, in the big scan's pixels
    half = cv2.resize(big, (MAX_SIDE, big.shape[0] // 2), interpolation=cv2.INTER_AREA)
    ref = detect_faces(half, min_size=24 * k)[0].scaled(2.0)
    np.testing.assert_allclose(faces[0].box, ref.box, atol=1.0)
    np.testing.assert_allclose(faces[0].eyes, ref.eyes, atol=1.0)
    x0, y0, w, h = (v * k for v in FACE_BOX)
    bx, by, bw, bh = faces[0].box
    assert abs(bx + bw / 2 - (x0 + w / 2)) < 0.15 * w and 0.5 * w < bw < 1.2 * w


def test_tensor_and_array_inputs_agree():
    a = scene("grey")
    t = torch.from_numpy(a).permute(2, 0, 1).float() / 255.0
    assert [f.box for f in detect_faces(t, min_size=48)] == [
        f.box for f in detect_faces(a, min_size=48)
    ]


def tone(y: np.ndarray, kind: str) -> np.ndarray:
    """Grey or sepia RGB uint8 from luminance in [0, 1] (the benchmark's sepia curve)."""
    rgb = np.stack([y, y, y] if kind == "grey" else [y**0.85, y, y**1.35], -1)
    return (rgb * 255 + 0.5).clip(0, 255).astype(np.uint8)


@pytest.mark.parametrize("kind", ["grey", "sepia"])
def test_finds_a_held_out_face_in_a_texture(shared_data, kind):
    """A held-out UTKFace face (never trained on) in a grass photo, aged: found, once."""
    import cv2

    from restore.tasks.face import face_split, read_face

    skdata = pytest.importorskip("skimage.data")
    path = face_split(shared_data / "faces" / "utkface_200")["test"][5 if kind == "grey" else 9]
    face = cv2.cvtColor(read_face(path, 72), cv2.COLOR_RGB2GRAY).astype(np.float32)
    y = cv2.resize(skdata.grass(), (320, 240)).astype(np.float32)
    y[100:172, 150:222] = face
    rng = np.random.default_rng(3)
    y = cv2.GaussianBlur(y, (0, 0), 0.7) + rng.normal(0, 4, y.shape)
    faces = detect_faces(tone(y.clip(0, 255) / 255, kind))
    assert len(faces) == 1, [f.as_dict() for f in faces]
    bx, by, bw, bh = faces[0].box
    assert abs(bx + bw / 2 - 186) < 0.2 * 72 and abs(by + bh / 2 - 136) < 0.2 * 72
    assert 0.6 * 72 < bw < 1.3 * 72 and faces[0].score >= 0.9


@pytest.mark.parametrize("name", ["grass", "brick", "gravel", "chelsea"])
def test_no_face_in_textures_or_a_cat(name):
    """Face-free textures and a cat's face (a hard negative), grey and sepia: no face."""
    skdata = pytest.importorskip("skimage.data")
    y = luminance_u8(np.asarray(getattr(skdata, name)()))
    for kind in ("grey", "sepia"):
        assert detect_faces(tone(y / 255.0, kind)) == []


def test_merging_windows_weights_by_score():
    windows = [((0, 0, 10, 10), 0.9), ((2, 0, 10, 10), 0.3), ((50, 50, 12, 12), 0.5)]
    merged = merge_windows(windows)
    assert [v for _, v in merged] == [2, 1]
    assert merged[0][0] == pytest.approx((0.5, 0.0, 10.0, 10.0))
    assert merge_windows(windows, limit=1) == merged[:1]
    assert merge_windows([]) == []


def test_no_face_in_noise_or_flat_images():
    rng = np.random.default_rng(1)
    assert detect_faces(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)) == []
    assert detect_faces(np.full((120, 160, 3), 200, np.uint8)) == []
    assert detect_faces(np.zeros((20, 20, 3), np.uint8)) == []  # smaller than min_size


def test_grouping_and_iou():
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    boxes = [(0, 0, 10, 10), (1, 0, 10, 10), (50, 50, 12, 12)]
    groups = group_boxes(boxes, min_votes=1)
    assert [v for _, v in groups] == [2, 1]
    assert groups[0][0] == pytest.approx((0.5, 0.0, 10.0, 10.0))
    assert group_boxes(boxes, min_votes=2) == [groups[0]]


def test_face_as_dict_is_json_ready():
    f = Face(
        box=(1.234, 2.0, 3.0, 3.0),
        votes=2,
        eyes=((1.26, 2.0), (3.0, 2.0)),
        eyes_found=True,
        score=0.98765,
    )
    assert f.as_dict() == {
        "box": [1.2, 2.0, 3.0, 3.0],
        "eyes": [[1.3, 2.0], [3.0, 2.0]],
        "votes": 2,
        "eyes_found": True,
        "score": 0.988,
    }


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="min_size"):
        detect_faces(np.zeros((64, 64, 3), np.uint8), min_size=10)
    with pytest.raises(ValueError, match="threshold"):
        detect_faces(np.zeros((64, 64, 3), np.uint8), threshold=1.5)
    with pytest.raises(ValueError, match="float"):
        detect_faces(torch.zeros(3, 64, 64, dtype=torch.uint8))
    with pytest.raises(ValueError, match="uint8"):
        luminance_u8(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="empty"):
        luminance_u8(np.zeros((0, 8), np.uint8))
