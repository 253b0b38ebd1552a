"""The Python API: ``restore.load(name)`` returns a :class:`Restorer` you call on images.

A Restorer takes a path, a PIL image, a numpy array (H x W or H x W x C; uint8, uint16 or float in
[0, 1]) or a torch tensor ((3, H, W) or (B, 3, H, W) float in [0, 1]) and returns the same kind (a
path in gives a PIL image out). Alpha channels are split off and put back (resized with the image),
16-bit stays 16-bit, grayscale stays grayscale unless the task adds colour. Lists are processed
item by item and returned as lists.

Example:
    >>> import numpy as np, restore
    >>> sr = restore.load("sr-x4")                         # doctest: +SKIP
    >>> big = sr(np.zeros((64, 64, 3), np.uint8))          # doctest: +SKIP
    >>> big.shape                                          # doctest: +SKIP
    (256, 256, 3)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from restore.core.tiling import auto_tile, tiled_apply
from restore.data.io import Image, read_image, to_tensor
from restore.errors import RestoreError
from restore.models import load_predictor
from restore.runtime import pick_device
from restore.tasks.base import Predictor

log = logging.getLogger(__name__)

ImageLike = Any  # str | Path | PIL.Image.Image | np.ndarray | torch.Tensor
MIN_TILE = 64


class Restorer:
    """A loaded model, callable on images of any supported kind.

    Args (of :meth:`from_pretrained`):
        name_or_path: shipped model name, weights ``.safetensors`` file or ``restore train`` run folder.
        device: ``"cpu"``, ``"cuda"``, ... (default: CUDA when available).
        dtype: compute dtype on CUDA (``torch.bfloat16`` or ``torch.float32``); the CPU uses float32.
        tile: tile side for large images; ``None`` picks one from the free memory; ``0`` disables tiling.
    """

    def __init__(
        self,
        predictor: Predictor,
        card: Mapping[str, Any],
        modules: Mapping[str, nn.Module],
        *,
        device: torch.device,
        dtype: torch.dtype,
        tile: int | None,
    ) -> None:
        self.predictor = predictor
        self.card = dict(card)
        self.modules = dict(modules)
        self.device = device
        self.dtype = dtype
        for m in self.modules.values():
            m.to(device)
        self.tile = tile

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike[str],
        *,
        device: str | torch.device | None = None,
        dtype: torch.dtype | None = None,
        tile: int | None = None,
    ) -> Restorer:
        dev = pick_device(device)
        if dtype is None or dev.type == "cpu":
            dtype = torch.float32
        predictor, card, modules = load_predictor(name_or_path)
        return cls(predictor, card, modules, device=dev, dtype=dtype, tile=tile)

    # -- the tensor path ------------------------------------------------------------------------
    @property
    def scale(self) -> int:
        return self.predictor.scale

    def run_tensor(self, x: Tensor, **kwargs: Any) -> Tensor:
        """The model on float images in [0, 1], tiled when large; output on ``x``'s device.

        Shape:
            (B, 3, H, W) -> (B, 3, H*scale, W*scale); tensor keyword arguments (masks) are
            (B, 1, H, W) and are tiled along.
        """
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"expected (B, 3, H, W) images, got {tuple(x.shape)}")
        p = self.predictor
        src_device = x.device
        spatial = {k: v.to(self.device) for k, v in kwargs.items() if isinstance(v, Tensor)}
        other = {k: v for k, v in kwargs.items() if not isinstance(v, Tensor)}
        xin = x.to(self.device)

        def fn(t: Tensor, **sp: Tensor) -> Tensor:
            with torch.inference_mode(), _autocast(self.device, self.dtype):
                return p.fn(t, **sp, **other).float()

        tile = self.tile
        if tile is None:
            tile = auto_tile(
                self.device,
                int(self.card.get("inference", {}).get("bytes_per_pixel", 4096)),
                p.multiple,
            )
        while True:
            try:
                if not p.tileable or tile == 0:
                    y = fn_padded(fn, xin, p, spatial)
                else:
                    y = tiled_apply(
                        fn,
                        xin,
                        tile=tile,
                        halo=p.halo,
                        scale=p.scale,
                        multiple=p.multiple,
                        extra=spatial,
                    )
                return y.to(src_device)
            except torch.OutOfMemoryError:
                if self.device.type != "cuda" or not p.tileable or tile <= MIN_TILE:
                    raise RestoreError(
                        f"out of memory on {self.device} even with {tile}px tiles; try device='cpu' or a smaller tile="
                    ) from None
                torch.cuda.empty_cache()
                tile = max(MIN_TILE, (tile or 1024) // 2)
                log.warning("out of memory on %s: retrying with %dpx tiles", self.device, tile)

    # -- any kind of image ------------------------------------------------------------------------
    def __call__(self, image: ImageLike | Sequence[ImageLike], **kwargs: Any) -> Any:
        if isinstance(image, list):
            return [self(im, **kwargs) for im in image]
        if isinstance(image, Tensor):
            return self._call_tensor(image, **kwargs)
        img, kind = _as_image(image)
        out = self.process_image(img, **kwargs)
        return _from_image(out, kind)

    def process_image(self, img: Image, **kwargs: Any) -> Image:
        """The model on an :class:`~restore.data.io.Image` (alpha, 16-bit, grayscale kept)."""
        x = to_tensor(img)
        kw = {k: (_mask_tensor(v, img.size) if k == "mask" else v) for k, v in kwargs.items()}
        y = self.run_tensor(x, **kw)
        from restore.data.io import from_tensor

        out_gray = (
            bool(self.card.get("inference", {}).get("output_rgb", False)) is False and img.grayscale
        )
        if out_gray:
            y = y.mean(1, keepdim=True)
        pixels = from_tensor(y, bit_depth=img.bit_depth)
        if pixels.ndim == 2:
            pixels = np.repeat(pixels[..., None], 3, axis=2)
        return img.with_pixels(pixels, grayscale=out_gray)

    def _call_tensor(self, t: Tensor, **kwargs: Any) -> Tensor:
        single = t.dim() == 3
        x = t[None] if single else t
        if not x.is_floating_point():
            raise ValueError(f"tensor images must be float in [0, 1], got {t.dtype}")
        kw = {
            k: (_mask_tensor(v, tuple(x.shape[-2:])) if k == "mask" else v)
            for k, v in kwargs.items()
        }
        y = self.run_tensor(x.float(), **kw).to(t.dtype)
        return y[0] if single else y

    def __repr__(self) -> str:
        return f"Restorer({self.card.get('name', '?')!r}, task={self.card.get('task')!r}, device={self.device})"


def fn_padded(fn, x: Tensor, p: Predictor, spatial: Mapping[str, Tensor]) -> Tensor:
    from restore.core.tiling import pad_run

    return pad_run(fn, x, multiple=p.multiple, scale=p.scale, extra=spatial)


def _autocast(device: torch.device, dtype: torch.dtype):
    from restore.runtime import autocast

    return autocast(device, device.type == "cuda" and dtype == torch.bfloat16)


def _as_image(image: ImageLike) -> tuple[Image, str]:
    """Any supported input -> (Image, kind) where kind says how to give the result back."""
    if isinstance(image, (str, os.PathLike)):
        return read_image(Path(image)), "path"
    if _is_pil(image):
        return _from_pil(image), "pil"
    if isinstance(image, np.ndarray):
        a = image
        if np.issubdtype(a.dtype, np.floating):
            if not np.isfinite(a).all():
                raise ValueError("float image arrays must be finite")
            kind = f"float:{a.dtype.str}"
            a = np.clip(np.rint(a.astype(np.float64) * 65535.0), 0, 65535).astype(np.uint16)
            return Image.from_array(a), kind
        if a.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"image arrays must be uint8, uint16 or float, got {a.dtype}")
        return Image.from_array(a), f"array:{a.shape[2] if a.ndim == 3 else 0}"
    raise TypeError(
        f"cannot process a {type(image).__name__}: give a path, PIL image, numpy array or tensor"
    )


def _is_pil(x: Any) -> bool:
    try:
        import PIL.Image
    except ImportError:  # pragma: no cover
        return False
    return isinstance(x, PIL.Image.Image)


def _from_pil(im: Any) -> Image:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        return Image.from_array(np.asarray(im).astype(np.uint16))
    if mode in ("L", "LA", "RGB", "RGBA"):
        return Image.from_array(np.asarray(im))
    conv = "RGBA" if ("A" in mode or "transparency" in im.info) else "RGB"
    return Image.from_array(np.asarray(im.convert(conv)))


def _from_image(img: Image, kind: str) -> Any:
    if kind.startswith("float:"):
        dt = np.dtype(kind.split(":", 1)[1])
        a = _stack(img).astype(np.float64) / (65535.0 if img.bit_depth == 16 else 255.0)
        return a.astype(dt)
    if kind.startswith("array:"):
        return _stack(img)
    import PIL.Image

    a = _stack(img)
    if a.dtype == np.uint16:
        if a.ndim == 2:
            return PIL.Image.fromarray(a)  # mode I;16
        a = (a // 257).astype(np.uint8)  # PIL has no 16-bit RGB mode
    return PIL.Image.fromarray(a)


def _stack(img: Image) -> np.ndarray:
    """Image -> (H, W) gray, (H, W, 2) gray+alpha, (H, W, 3) RGB or (H, W, 4) RGBA array."""
    px = img.pixels[..., 0] if img.grayscale else img.pixels
    if img.alpha is None:
        return px
    return np.dstack([px, img.alpha]) if px.ndim == 3 else np.dstack([px, img.alpha])


def _mask_tensor(mask: Any, size: tuple[int, int]) -> Tensor:
    """A mask (path, PIL, array or tensor; nonzero / white = hole) -> (1, 1, H, W) float {0, 1}."""
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


def load(name_or_path: str | os.PathLike[str], **kwargs: Any) -> Restorer:
    """Load a shipped model by name, or trained weights by path; see :class:`Restorer`."""
    return Restorer.from_pretrained(name_or_path, **kwargs)
