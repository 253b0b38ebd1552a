"""The old-photo restoration protocol: damaged held-out photos in, restored photos scored.

Three measurements, each on the images of the given folders (full size, in sorted order):

- ``holdout``: the independent damage generator (:mod:`restore.eval.holdout_damage`: branching
  cracks, folds, a torn corner, stains, dust on B&W / sepia bases), which training never sees;
  the target is the clean toned print. Image ``i`` of folder ``d`` uses seed
  ``HOLDOUT_SEED + 100 * d + i``.
- ``own``: the older scratch + dust + grain + fading damage (issue 9), target the clean photo;
  image ``i`` of folder ``d`` uses seed ``100 * d + i``.

The seeds are those of ``scripts/eval_photo.py`` (folders Set5 then Set14), so its ``restore``
rows and these numbers describe the same damaged photos.
- ``clean``: the clean photo itself must come back unchanged (do no harm). An unchanged photo
  would score infinity: PSNR is capped at :data:`UNCHANGED_DB` (a change under 0.8 of a level
  RMS), and the entry also gives the worst photo's PSNR (``min``; issue 17's bar is 32 dB).

The restorer is any ``fn(damaged (1, 3, H, W)) -> restored (1, 3, H, W)`` in [0, 1]. Outputs are
rounded to 8 bits before scoring (what a user saves). PSNR is on RGB in [0, 1], whole image.
``scripts/eval_photo.py`` adds the classical baselines, masks and tables; the relay uses
:func:`photo_scores` to judge a retrained stage model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from restore.data.datasets import list_images
from restore.data.degrade import OldPhotoConfig, old_photo_damage
from restore.data.io import read_image, to_tensor
from restore.eval.holdout_damage import holdout_damage
from restore.eval.metrics import psnr

__all__ = ["HOLDOUT_SEED", "photo_scores"]

#: Seed offset of the independent damage (image i of the folders gets HOLDOUT_SEED + i).
HOLDOUT_SEED = 1000

#: PSNR that counts as "unchanged" (caps the clean photos' scores; 50 dB is 0.8 levels RMS).
UNCHANGED_DB = 50.0


def _quantize(x: Tensor) -> Tensor:
    return (x.clamp(0, 1) * 255).round() / 255


def photo_scores(
    restore_fn: Callable[[Tensor], Tensor],
    image_dirs: Sequence[str],
    *,
    kinds: Sequence[str] = ("holdout", "own", "clean"),
    max_side: int | None = None,
) -> dict[str, Any]:
    """Mean PSNR of the input and of the restored photo per kind of damage (see the module doc).

    Args:
        restore_fn: the restorer under test.
        image_dirs: folders of clean held-out photos.
        kinds: which of ``holdout``, ``own``, ``clean`` to run.
        max_side: centre-crop larger photos to this side first (faster; ``None``: full size).

    Returns:
        ``{kind: {"input": dB, "restored": dB, "gain": dB, "count": n}, "rows": [...]}``.
    """
    bad = [k for k in kinds if k not in ("holdout", "own", "clean")]
    if bad:
        raise ValueError(f"unknown kinds {bad}: use holdout, own, clean")
    own_cfg = OldPhotoConfig.only("scratch", "dust", "grain", "fade")
    rows: list[dict[str, Any]] = []
    for d, folder in enumerate(image_dirs):
        for i, p in enumerate(list_images(folder)):
            clean = to_tensor(read_image(p))
            if max_side is not None:
                h, w = clean.shape[-2:]
                ch, cw = min(h, max_side), min(w, max_side)
                clean = clean[
                    ..., (h - ch) // 2 : (h - ch) // 2 + ch, (w - cw) // 2 : (w - cw) // 2 + cw
                ]
            for kind in kinds:
                if kind == "holdout":
                    damaged, _, target = holdout_damage(clean, seed=HOLDOUT_SEED + 100 * d + i)
                elif kind == "own":
                    g = torch.Generator().manual_seed(100 * d + i)
                    damaged, _ = old_photo_damage(clean, generator=g, config=own_cfg)
                    target = clean
                else:
                    damaged, target = clean, clean
                damaged = _quantize(damaged)
                with torch.no_grad():
                    out = _quantize(restore_fn(damaged))
                rows.append(
                    {
                        "image": p.name,
                        "kind": kind,
                        "input": float(psnr(damaged, target)[0]) if kind != "clean" else None,
                        "restored": min(UNCHANGED_DB, float(psnr(out, target)[0])),
                    }
                )
    out: dict[str, Any] = {"rows": rows}
    for kind in kinds:
        rs = [r for r in rows if r["kind"] == kind]
        restored = sum(r["restored"] for r in rs) / len(rs)
        entry = {"restored": restored, "min": min(r["restored"] for r in rs), "count": len(rs)}
        if kind != "clean":
            inp = sum(r["input"] for r in rs) / len(rs)
            entry.update(input=inp, gain=restored - inp)
        out[kind] = entry
    return out
