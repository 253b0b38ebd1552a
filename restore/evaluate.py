"""``restore eval --model NAME --data DIR [--data DIR ...]``: a model scored in its task's protocol.

The protocol is the task's (``Task.evaluate``: SR on HR/LR with the bicubic baseline and
sharpness, inpainting per hole-ratio bucket beside Telea / Navier-Stokes / biharmonic,
colorization beside the grey image, damage-mask IoU, style KID beside the photos and a
colour-statistics baseline, generation FID / KID beside the real-vs-real floor). The model is
loaded once and scored on every data set; :func:`restore.eval.report.summary_table` prints the
sets side by side.

Example:
    >>> from restore.evaluate import evaluate_sets
    >>> r = evaluate_sets("sr-x4", ["../shared/data/val/Set5/x4", "../shared/data/val/Set14/x4"])  # doctest: +SKIP
    >>> r["results"]["Set5_x4"]["mean"]["bicubic"]["psnr"]  # doctest: +SKIP
    28.41...
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from torch import Tensor

from restore.tasks import task_class

__all__ = ["evaluate_model", "evaluate_sets", "face_report", "real_label_report", "set_label"]


def set_label(data_dir: str | os.PathLike[str]) -> str:
    """A data set's name in reports: the path after its last ``val`` or ``data`` folder (else its
    last two parts), ``HR`` left out, joined by ``_``.

    ``../shared/data/val/Set5/x4`` -> ``Set5_x4`` (the label ``restore relay`` gives it);
    ``.../val/Set14/x4/HR`` -> ``Set14_x4``; ``../shared/data/generation/mnist_t10k`` ->
    ``generation_mnist_t10k``; ``photos/old`` -> ``photos_old``.
    """
    parts = [p for p in Path(data_dir).parts if p not in ("..", ".", "/")]
    marks = [i for i, p in enumerate(parts) if p in ("val", "data")]
    kept = parts[marks[-1] + 1 :] if marks else parts[-2:]
    return "_".join(p for p in kept if p != "HR") or Path(data_dir).name or str(data_dir)


def _load(name_or_path: str, device: str | None) -> tuple[Callable[..., Tensor], dict[str, Any]]:
    """The model's scoring function and card: ``run_tensor`` of a restorer, ``sample_tensor`` of a
    generator (a generation model takes no image; its protocol asks it for samples)."""
    from restore.api import load
    from restore.generate import Sampler

    model = load(name_or_path, device=device)
    if isinstance(model, Sampler):
        return model.sample_tensor, model.card
    return model.run_tensor, model.card


def _score(
    run: Callable[..., Tensor], card: Mapping[str, Any], name: str, data_dir: str
) -> dict[str, Any]:
    result = task_class(card["task"]).evaluate(run, str(data_dir), card)
    return {"model": card.get("name", name), "data": str(data_dir), **result}


def evaluate_model(
    name_or_path: str, data_dir: str, *, device: str | None = None
) -> dict[str, Any]:
    """Load a model and run its task's evaluation protocol on ``data_dir`` (see ``Task.evaluate``).

    Args:
        name_or_path: a shipped model's name or trained weights (a run folder or ``.safetensors``).
        data_dir: a validation folder in the task's layout (e.g. ``val/Set5/x4`` with HR/ and LR/).
        device: where the model runs (default: auto).

    Returns:
        The protocol's JSON-ready result with ``model`` and ``data`` added.
    """
    run, card = _load(str(name_or_path), device)
    return _score(run, card, str(name_or_path), str(data_dir))


def evaluate_sets(
    name_or_path: str, data_dirs: Sequence[str], *, device: str | None = None
) -> dict[str, Any]:
    """Load a model once and run its task's protocol on each of ``data_dirs``.

    Args:
        name_or_path: a shipped model's name or trained weights.
        data_dirs: validation folders, each in the task's layout.
        device: where the model runs (default: auto).

    Returns:
        ``{"model", "task", "data": [dirs], "results": {set label: result}}`` (labels from
        :func:`set_label`; a repeated label gets ``_2``, ``_3``...).

    Raises:
        ValueError: no data set.
    """
    if not data_dirs:
        raise ValueError("give at least one data set")
    run, card = _load(str(name_or_path), device)
    results: dict[str, Any] = {}
    for d in data_dirs:
        label, k = set_label(d), 2
        while label in results:
            label, k = f"{set_label(d)}_{k}", k + 1
        results[label] = _score(run, card, str(name_or_path), str(d))
    return {
        "model": card.get("name", str(name_or_path)),
        "task": card.get("task"),
        "data": [str(d) for d in data_dirs],
        "results": results,
    }


def face_report(
    name_or_path: str, faces_dir: str | os.PathLike[str], n: int | None = None
) -> dict[str, Any]:
    """A face model on the held-out faces of ``faces_dir`` (:func:`restore.tasks.face.face_split`,
    degraded by :mod:`restore.eval.face_protocol`) beside bicubic x4 and the whole-image
    ``enhance`` then ``sr-x4`` path, on the CPU: ``scripts/eval_faces.py restore`` and the relay's
    face score, so a card shipped by either carries the same numbers.

    Args:
        name_or_path: the face model (a shipped name, weights or a run folder).
        faces_dir: the aligned faces folder (``faces/utkface_200``).
        n: score only the first ``n`` held-out faces (default: all 400).

    Returns:
        ``{"protocol", "model", "summary", "rows"}``; ``summary`` has ``gain_over_bicubic_db`` and
        ``gain_over_enhance_sr_db`` besides the per-kind means of
        :func:`restore.eval.face_protocol.face_scores`.
    """
    from restore.api import load
    from restore.eval.face_protocol import aligned_method, face_scores
    from restore.tasks.face import face_split, read_face

    face = load(str(name_or_path), device="cpu")
    enhance = load("enhance", device="cpu")
    sr = load("sr-x4", device="cpu")
    held_out = [(p.name, read_face(p, 128)) for p in face_split(faces_dir)["test"][:n]]
    res = face_scores(
        {
            "enhance+sr-x4": lambda x: sr.run_tensor(enhance.run_tensor(x)),
            "face": aligned_method(lambda x: face.run_tensor(x, aligned=True)),
        },
        held_out,
    )
    s = res["summary"]
    s["gain_over_bicubic_db"] = s.pop("face_gain_over_bicubic_db")
    s.pop("enhance+sr-x4_gain_over_bicubic_db")
    s["gain_over_enhance_sr_db"] = round(s["all"]["face_psnr"] - s["all"]["enhance+sr-x4_psnr"], 3)
    return {"protocol": res["protocol"], "model": face.card.get("name", str(name_or_path)), **res}


def real_label_report(
    restorer: Any,
    labels: str | os.PathLike[str],
    folder: str | os.PathLike[str],
    tol: int = 2,
    on_print: Callable[..., None] | None = None,
) -> dict[str, Any]:
    """``restore photo``'s damage masks on hand-labelled real prints, scored against the labels
    (:mod:`restore.eval.real_labels`): ``scripts/eval_real_labels.py`` and the relay's detector
    score.

    Args:
        restorer: a :class:`restore.photo.PhotoRestorer` (its detector and settings are scored).
        labels: the labels file (``labels/real_old.json``).
        folder: where the labelled prints are (``../shared/data/real_old``).
        tol: match distance in pixels (the issue's real-print bar: 2).
        on_print: called per print as ``on_print(name, rgb, label, ignore, used)`` (overlays).

    Returns:
        ``{"tol_px", "pooled", "mean", "prints"}``: for the mask the pipeline inpaints (``used``)
        and the detector's full-size map alone (``raw``), recall, precision, IoU and shares,
        pooled over the pixels of all prints, as the mean over prints and per print.
    """
    import json
    import time
    from collections import Counter

    import numpy as np
    import torch

    from restore.data.io import read_image, to_tensor
    from restore.eval.real_labels import label_mask, mask_counts, scores

    spec = json.loads(Path(labels).read_text())["prints"]
    rows: list[dict[str, Any]] = []
    pooled: dict[str, Counter[str]] = {"used": Counter(), "raw": Counter()}
    for name, entry in spec.items():
        img = read_image(Path(folder) / name)
        rgb = np.ascontiguousarray(img.pixels[..., :3])
        label, ignore = label_mask(rgb, entry)
        x = to_tensor(img)
        t0 = time.perf_counter()
        with torch.no_grad():  # the mask restore photo inpaints (its detect stage), and the map
            used = restorer.detect_mask(x)[0, 0].numpy() > 0.5
            raw = restorer.raw_mask(x)[0, 0].numpy() > 0.5
        row: dict[str, Any] = {"print": name, "seconds": round(time.perf_counter() - t0, 2)}
        for kind, pred in (("used", used), ("raw", raw)):
            counts = mask_counts(pred, label, ignore, tol)
            pooled[kind].update(counts)
            row[kind] = {k: round(v, 4) for k, v in scores(counts).items()}
        rows.append(row)
        if on_print is not None:
            on_print(name, rgb, label, ignore, used)
    keys = ("recall", "precision", "iou")
    return {
        "tol_px": tol,
        "pooled": {k: {m: round(v, 4) for m, v in scores(c).items()} for k, c in pooled.items()},
        "mean": {k: {m: sum(r[k][m] for r in rows) / len(rows) for m in keys} for k in pooled},
        "prints": rows,
    }
