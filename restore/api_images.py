"""Any image kind in, the same kind out: what :class:`~restore.api.Restorer` and
:class:`~restore.pipelines.Pipeline` share.

:func:`call_model` runs an :class:`ImageModel` on a path, PIL image, numpy array or tensor (or a
list of them) and gives each result back in the kind it came in; :func:`process_images` batches
same-size :class:`~restore.data.io.Image` objects; :func:`mask_tensor` reads a mask of any kind.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor

from restore.data.io import Image, from_tensor, read_image, to_tensor

ImageLike = Any  # str | Path | PIL.Image.Image | np.ndarray | torch.Tensor


class ImageModel(Protocol):
    """Anything with ``run_tensor(x, **kwargs)`` and ``output_rgb`` (a Restorer, a Pipeline)."""

    output_rgb: bool

    def run_tensor(self, x: Tensor, **kwargs: Any) -> Tensor: ...


def call_model(model: ImageModel, image: ImageLike | Sequence[ImageLike], **kwargs: Any) -> Any:
    """``model`` on one image or a list of them, each returned in the kind it came in.

    A list's ``mask=`` may be a list (one mask per image) or one mask for all.
    """
    if isinstance(image, (list, tuple)):
        masks = kwargs.pop("mask", None)
        if not isinstance(masks, (list, tuple)):
            masks = [masks] * len(image)
        if len(masks) != len(image):
            raise ValueError(f"{len(image)} images but {len(masks)} masks")
        out: list[Any] = [None] * len(image)
        plain: list[int] = []
        for i, im in enumerate(image):
            if isinstance(im, Tensor):
                out[i] = _call_tensor(model, im, mask=masks[i], **kwargs)
            else:
                plain.append(i)
        loaded = [_as_image(image[i]) for i in plain]
        imgs = process_images(
            model, [m[0] for m in loaded], masks=[masks[i] for i in plain], **kwargs
        )
        for i, res, (_, kind) in zip(plain, imgs, loaded):
            out[i] = _from_image(res, kind)
        return out
    if isinstance(image, Tensor):
        return _call_tensor(model, image, **kwargs)
    img, kind = _as_image(image)
    mask = kwargs.pop("mask", None)
    return _from_image(process_images(model, [img], masks=[mask], **kwargs)[0], kind)


def process_images(
    model: ImageModel,
    images: Sequence[Image],
    *,
    masks: Sequence[Any] | None = None,
    **kwargs: Any,
) -> list[Image]:
    """``model`` on :class:`~restore.data.io.Image` objects; same-size images go as one batch.

    Args:
        model: a :class:`~restore.api.Restorer` or :class:`~restore.pipelines.Pipeline`.
        images: the inputs.
        masks: one mask (or ``None``) per image, any kind :func:`mask_tensor` takes.
        **kwargs: task keywords for every image.

    Returns:
        One Image per input, metadata kept (alpha resized along, bit depth kept).
    """
    masks = list(masks) if masks is not None else [None] * len(images)
    groups: dict[tuple[int, int, bool], list[int]] = {}
    for i, (img, m) in enumerate(zip(images, masks)):
        groups.setdefault((*img.size, m is None), []).append(i)
    out: list[Image | None] = [None] * len(images)
    for (h, w, no_mask), idx in groups.items():
        img0 = images[idx[0]]
        streams = getattr(model, "streams", None)  # Restorer.streams
        if (
            streams is not None and len(idx) == 1 and no_mask and not kwargs and streams(img0)
        ):  # one colour image: stream its samples, no full-size float copies
            out[idx[0]] = img0.with_pixels(model.run_pixels(img0.pixels), grayscale=False)
            continue
        x = torch.cat([to_tensor(images[i]) for i in idx])
        kw = dict(kwargs)
        if not no_mask:
            kw["mask"] = torch.cat([mask_tensor(masks[i], (h, w)) for i in idx])
        y = model.run_tensor(x, **kw)
        for j, i in enumerate(idx):
            out[i] = finish_image(images[i], y[j : j + 1], model.output_rgb)
    return out  # type: ignore[return-value]


def finish_image(img: Image, y: Tensor, output_rgb: bool) -> Image:
    """A model output (1, 3, H', W') in [0, 1] -> an Image with ``img``'s metadata and bit depth."""
    out_gray = img.grayscale and not output_rgb
    if out_gray:
        y = y.mean(1, keepdim=True)
    pixels = from_tensor(y, bit_depth=img.bit_depth)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    return img.with_pixels(pixels, grayscale=out_gray)


def _call_tensor(model: ImageModel, t: Tensor, **kwargs: Any) -> Tensor:
    single = t.dim() == 3
    x = t[None] if single else t
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"tensor images must be (3, H, W) or (B, 3, H, W), got {tuple(t.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"tensor images must be float in [0, 1], got {t.dtype}")
    if kwargs.get("mask") is not None:
        m = mask_tensor(kwargs["mask"], tuple(x.shape[-2:]))
        kwargs["mask"] = m.expand(x.shape[0], -1, -1, -1) if m.shape[0] == 1 else m
    elif "mask" in kwargs:
        kwargs.pop("mask")
    y = model.run_tensor(x.float(), **kwargs).to(t.dtype)
    return y[0] if single else y


def _as_image(image: ImageLike) -> tuple[Image, str]:
    """Any supported input -> (Image, kind) where kind says how to give the result back."""
    if isinstance(image, Image):
        return image, "image"
    if isinstance(image, (str, os.PathLike)):
        return read_image(Path(image)), "path"
    if _is_pil(image):
        return _from_pil(image), "pil"
    if isinstance(image, np.ndarray):
        a = image
        keep = ":1" if a.ndim == 3 and a.shape[2] == 1 else ""  # (H, W, 1) comes back so
        if np.issubdtype(a.dtype, np.floating):
            if not np.isfinite(a).all():
                raise ValueError("float image arrays must be finite")
            kind = f"float:{a.dtype.str}{keep}"
            a = np.rint(np.clip(a.astype(np.float64), 0.0, 1.0) * 65535.0).astype(np.uint16)
            return Image.from_array(a), kind
        if a.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"image arrays must be uint8, uint16 or float, got {a.dtype}")
        return Image.from_array(a), f"array{keep}"
    raise TypeError(
        f"cannot process a {type(image).__name__}: give a path, PIL image, numpy array or tensor"
    )


def _is_pil(x: Any) -> bool:
    import PIL.Image

    return isinstance(x, PIL.Image.Image)


def _from_pil(im: Any) -> Image:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        return Image.from_array(np.clip(np.asarray(im), 0, 65535).astype(np.uint16))
    if mode in ("L", "LA", "RGB", "RGBA"):
        return Image.from_array(np.asarray(im))
    conv = "RGBA" if ("A" in mode or "transparency" in im.info) else "RGB"
    return Image.from_array(np.asarray(im.convert(conv)))


def _from_image(img: Image, kind: str) -> Any:
    if kind == "image":
        return img
    if kind.startswith(("float:", "array")):
        a = _stack(img)
        if kind.endswith(":1") and a.ndim == 2:
            a = a[..., None]
        if kind.startswith("float:"):
            dt = np.dtype(kind.split(":")[1])
            a = (a.astype(np.float64) / (65535.0 if img.bit_depth == 16 else 255.0)).astype(dt)
        return a
    import PIL.Image

    a = _stack(img)
    if a.dtype == np.uint16:
        if a.ndim == 2:
            return PIL.Image.fromarray(a)  # mode I;16
        a = ((a.astype(np.uint32) + 128) // 257).astype(np.uint8)  # PIL has no 16-bit RGB mode
    return PIL.Image.fromarray(a)


def _stack(img: Image) -> np.ndarray:
    """Image -> (H, W) gray, (H, W, 2) gray+alpha, (H, W, 3) RGB or (H, W, 4) RGBA array."""
    px = img.pixels[..., 0] if img.grayscale else img.pixels
    return px if img.alpha is None else np.dstack([px, img.alpha])


def mask_tensor(mask: Any, size: tuple[int, int]) -> Tensor:
    """A mask (path, PIL, array or tensor; white / nonzero = hole) -> (B, 1, H, W) float in {0, 1}.

    Raises:
        ValueError: the mask's size differs from ``size`` (H, W).
    """
    if isinstance(mask, Tensor):
        m = mask.float()
        while m.dim() < 4:
            m = m[None]
    else:
        if isinstance(mask, (str, os.PathLike)):  # a mask file: white = hole
            px = read_image(Path(mask)).pixels.max(axis=2)
            hole = px >= (32768 if px.dtype == np.uint16 else 128)
        elif _is_pil(mask):  # a PIL mask: white = hole
            hole = np.asarray(mask.convert("L")) >= 128
        else:  # an array: nonzero = hole
            arr = np.asarray(mask)
            if arr.ndim == 3:
                arr = arr.max(axis=2)
            hole = arr != 0
        if hole.ndim != 2:
            raise ValueError(f"a mask must be H x W, got shape {hole.shape}")
        m = torch.from_numpy(hole.astype(np.float32))[None, None]
    if tuple(m.shape[-2:]) != tuple(size):
        raise ValueError(
            f"mask size {tuple(m.shape[-2:])} does not match the image size {tuple(size)}"
        )
    return (m > 0.5).float()


__all__ = [
    "ImageLike",
    "ImageModel",
    "call_model",
    "finish_image",
    "mask_tensor",
    "process_images",
]
