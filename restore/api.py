"""The Python API: ``restore.load(name)`` returns a :class:`Restorer` you call on images.

A Restorer takes a path, a PIL image, a numpy array (H x W or H x W x C; uint8, uint16 or float in
[0, 1]) or a torch tensor ((3, H, W) or (B, 3, H, W) float in [0, 1]) and returns the same kind (a
path in gives a PIL image out). Alpha channels are split off and put back (resized with the image),
16-bit stays 16-bit, grayscale stays grayscale unless the task adds colour. A list is returned as a
list; images of the same size in it run through the model as one batch.

Task arguments are keywords: ``mask=`` (path, PIL, array or tensor; white / nonzero = hole),
``scale=`` (an output scale other than the model's: the result is resized), ``seed=`` (an int:
a ``torch.Generator`` seeded with it goes to a stochastic model; deterministic models ignore it).

Example:
    >>> import numpy as np, restore
    >>> sr = restore.load("sr-x4")                         # doctest: +SKIP
    >>> big = sr(np.zeros((64, 64, 3), np.uint8))          # doctest: +SKIP
    >>> big.shape                                          # doctest: +SKIP
    (256, 256, 3)
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from restore.api_images import (
    ImageLike,
    ImageModel,
    call_model,
    finish_image,
    mask_tensor,
    process_images,
)
from restore.core.card import upgrade_card
from restore.core.tiling import (
    RowSink,
    RowSource,
    auto_tile,
    pad_run,
    samples_to_float,
    store_samples,
    tiled_apply,
)
from restore.data.io import Image, samples_view
from restore.errors import ConfigError, RestoreError
from restore.models import load_predictor
from restore.runtime import autocast, pick_device
from restore.streaming import run_file
from restore.tasks import TASKS, spec_of
from restore.tasks.base import Predictor

log = logging.getLogger(__name__)

MIN_TILE = 64
#: Keywords every model understands (handled here, not by the task's predictor).
API_KEYWORDS = frozenset({"mask", "scale", "seed"})
_DTYPES = {
    "fp32": torch.float32,
    "float32": torch.float32,
    "bf16": torch.bfloat16,
    "bfloat16": torch.bfloat16,
}


class Restorer:
    """A loaded model, callable on images of any supported kind.

    Args (of :meth:`from_pretrained`):
        name_or_path: shipped model name, weights ``.safetensors`` file or ``restore train`` run folder.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"auto"`` (default: CUDA when available).
        dtype: compute precision on CUDA, ``torch.bfloat16`` (default where supported) or
            ``torch.float32`` (also ``"bf16"`` / ``"fp32"``); the CPU always computes in float32.
        tile: tile side for large images; ``None`` picks one from the free memory; ``0`` disables tiling.
        channels_last: run the networks in channels-last memory format (faster convolutions on
            CPU oneDNN and on CUDA tensor cores; the numbers agree to float rounding). ``None``:
            the model card's ``runtime.inference.channels_last``, on by default
            (``scripts/bench/inference.py`` measures both).

    Example:
        >>> r = Restorer.from_pretrained("enhance", device="cpu")   # doctest: +SKIP
        >>> r("old.jpg").save("new.png")                           # doctest: +SKIP
    """

    def __init__(
        self,
        predictor: Predictor,
        card: Mapping[str, Any],
        modules: Mapping[str, nn.Module],
        *,
        device: torch.device,
        dtype: torch.dtype = torch.float32,
        tile: int | None = None,
        channels_last: bool | None = None,
    ) -> None:
        if tile is not None and tile < 0:
            raise ValueError(f"tile must be >= 0 (0 disables tiling), got {tile}")
        self.predictor = predictor
        self.card = upgrade_card(card)  # a hand-made card may still be flat (pre-format 1)
        #: The card's ``runtime.inference`` settings.
        self.inference: dict[str, Any] = dict(self.card["runtime"].get("inference") or {})
        if channels_last is None:
            channels_last = bool(self.inference.get("channels_last", True))
        self.channels_last = channels_last
        layout = torch.channels_last if channels_last else torch.contiguous_format
        self.modules = {k: m.to(device, memory_format=layout) for k, m in modules.items()}
        self.device = device
        self.dtype = dtype
        self.tile = tile
        params = list(inspect.signature(predictor.fn).parameters.values())[1:]  # after the image
        self._var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
        self._params = {
            p.name: p.default is p.empty
            for p in params
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        }

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike[str],
        *,
        device: str | torch.device | None = None,
        dtype: torch.dtype | str | None = None,
        tile: int | None = None,
        channels_last: bool | None = None,
    ) -> Restorer:
        """Load a shipped model or trained weights (see the class docstring for the arguments)."""
        dev = pick_device(device)
        predictor, card, modules = load_predictor(name_or_path)
        return cls(
            predictor,
            card,
            modules,
            device=dev,
            dtype=resolve_dtype(dev, dtype),
            tile=tile,
            channels_last=channels_last,
        )

    # -- what the model is ----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.card.get("name", "?"))

    @property
    def task(self) -> str:
        return str(self.card.get("task", "?"))

    @property
    def scale(self) -> int:
        """Output size / input size."""
        return self.predictor.scale

    @property
    def output_rgb(self) -> bool:
        """True when the model adds colour (a grayscale input gives a colour output)."""
        spec = TASKS.get(self.task)
        return bool(self.inference.get("output_rgb", spec is not None and spec.output == "colour"))

    @property
    def needs_mask(self) -> bool:
        """True when the model must be given ``mask=`` (an inpainting model)."""
        spec = TASKS.get(self.task)
        needs = spec is not None and spec.input == "image+mask"
        return self._params.get("mask", False) or (needs and self.uses_mask)

    @property
    def uses_mask(self) -> bool:
        """True when the model takes ``mask=`` (needed or optional)."""
        return "mask" in self._params

    def streams(self, img: Image) -> bool:
        """Whether ``img`` alone, without a mask, can stream through :meth:`run_pixels` (no
        full-size float copies): a tileable model that needs no mask and keeps its colour."""
        return (
            not self.needs_mask
            and self.predictor.tileable
            and (self.output_rgb or not img.grayscale)
        )

    def accepts(self, keyword: str) -> bool:
        """Whether ``keyword`` is understood by this model's predictor (or by the API itself)."""
        return keyword in API_KEYWORDS or keyword in self._params or self._var_kw

    # -- the tensor path ------------------------------------------------------------------------
    def run_tensor(
        self, x: Tensor, *, seed: int | None = None, scale: float | None = None, **kwargs: Any
    ) -> Tensor:
        """The model on float images in [0, 1], tiled when large; output on ``x``'s device.

        Args:
            x: the images.
            seed: seeds a ``torch.Generator`` for a stochastic predictor (one taking ``generator``).
            scale: output scale when it differs from the model's (the output is resized, area /
                bicubic with antialiasing).
            **kwargs: task keywords; tensors (masks, (B, 1, H, W)) are moved and tiled along.

        Shape:
            (B, 3, H, W) -> (B, 3, H*scale, W*scale).

        Raises:
            ValueError: a wrong shape, an unknown keyword or a missing mask.
        """
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"expected (B, 3, H, W) images, got {tuple(x.shape)}")
        unknown = [k for k in kwargs if not self.accepts(k)]
        if unknown:
            known = sorted(API_KEYWORDS | set(self._params))
            raise ValueError(f"{self.name} does not take {unknown}; it takes {known}")
        if self.needs_mask and kwargs.get("mask") is None:
            raise ValueError(f"{self.name} ({self.task}) needs mask= (white / nonzero = hole)")
        if "mask" in kwargs and not (self.uses_mask or self._var_kw):
            kwargs.pop("mask")  # a mask given to a model that does not use one
        if seed is not None and ("generator" in self._params or self._var_kw):
            kwargs["generator"] = torch.Generator(device=self.device).manual_seed(int(seed))
        if "scale" in self._params and scale is not None:
            kwargs["scale"], scale = scale, None
        y = self._run(x, kwargs)
        if scale is not None and scale != self.scale:
            h, w = round(x.shape[-2] * scale), round(x.shape[-1] * scale)
            y = F.interpolate(y, size=(h, w), mode="bicubic", antialias=True).clamp(0, 1)
        return y

    def run_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """A colour image's samples straight through the model, streamed tile by tile.

        uint8 / uint16 samples in, the same type out, without full-size float copies: peak memory
        is the input, the output and one band of tiles, whatever the image size. Results are
        identical to the float path (:meth:`run_tensor` then rounding).

        Shape:
            (H, W, 3) -> (H*scale, W*scale, 3).
        """
        h, w, _ = pixels.shape
        s = self.scale
        result = np.empty((h * s, w * s, 3), pixels.dtype)
        self.run_bands(samples_view(pixels), samples_view(result))
        return result

    def run_bands(self, source: Tensor | RowSource, out: Tensor | RowSink) -> Tensor | RowSink:
        """The model on ``source``, band of rows by band of rows, written into ``out``.

        The tiler pulls input rows from ``source`` as it needs them and hands each finished band
        of output rows to ``out``, so peak memory is one band of tiles whatever the image size
        (:func:`restore.streaming.run_file` streams files through this). For models that need no
        keywords (no ``mask=``); the numbers equal :meth:`run_tensor`'s.

        Args:
            source: the images: a tensor of float [0, 1] or uint8 / uint16 samples, or a
                :class:`~restore.core.tiling.RowSource` handing out such rows.
            out: where the result goes: a tensor of the output size (float, or integer samples:
                rounded) or a :class:`~restore.core.tiling.RowSink`.

        Returns:
            ``out``.

        Shape:
            source (B, 3, H, W) -> out (B, 3, H*scale, W*scale).

        Raises:
            ValueError: the model needs a mask.
        """
        if self.needs_mask:
            raise ValueError(f"{self.name} ({self.task}) needs mask=; use run_tensor")
        return self._run(source, {}, out=out)

    def run_file(
        self,
        src: str | os.PathLike[str],
        dst: str | os.PathLike[str],
        *,
        overwrite: bool = True,
    ) -> Path:
        """Restore the image file ``src`` into ``dst``, streaming rows when the formats allow.

        See :func:`restore.streaming.run_file`: memory stays flat in the image size for PPM / PGM
        in and PNG / PPM / PGM out.
        """
        return run_file(self, src, dst, overwrite=overwrite)

    def _run(
        self, x: Tensor | RowSource, kwargs: dict[str, Any], out: Tensor | RowSink | None = None
    ) -> Any:
        p = self.predictor
        spatial = {k: v.to(self.device) for k, v in kwargs.items() if _is_spatial(v, x)}
        other = {k: v for k, v in kwargs.items() if k not in spatial}
        xin = x.to(self.device) if isinstance(x, Tensor) else _RowsOn(x, self.device)

        layout = torch.channels_last if self.channels_last else torch.contiguous_format

        def fn(t: Tensor, **sp: Tensor) -> Tensor:
            with torch.inference_mode(), autocast(self.device, self.dtype == torch.bfloat16):
                return p.fn(t.contiguous(memory_format=layout), **sp, **other).float()

        tile = self.tile
        if tile is None:
            bpp = int(self.inference.get("bytes_per_pixel", 4096))
            tile = auto_tile(self.device, bpp * max(1, x.shape[0]), p.multiple)
        while True:
            try:
                if not p.tileable or tile == 0:
                    full = xin if isinstance(xin, Tensor) else xin.rows(0, xin.shape[2])
                    y = pad_run(
                        fn,
                        samples_to_float(full),
                        multiple=p.multiple,
                        scale=p.scale,
                        extra=spatial,
                    )
                    if isinstance(out, Tensor):
                        store_samples(out, y.to(out.device))
                        return out
                    if out is not None:
                        out.write(0, y)
                        return out
                else:
                    y = tiled_apply(
                        fn,
                        xin,
                        tile=tile,
                        halo=p.halo,
                        scale=p.scale,
                        multiple=p.multiple,
                        extra=spatial,
                        out=out,
                    )
                return y if out is not None else y.to(getattr(x, "device", y.device))
            except torch.OutOfMemoryError:
                if self.device.type != "cuda" or not p.tileable or tile <= MIN_TILE:
                    raise RestoreError(
                        f"out of memory on {self.device} even with {tile}px tiles; "
                        "try device='cpu' or a smaller tile="
                    ) from None
                torch.cuda.empty_cache()
                tile = max(MIN_TILE, (tile or 1024) // 2)
                log.warning("out of memory on %s: retrying with %dpx tiles", self.device, tile)

    # -- any kind of image ------------------------------------------------------------------------
    def __call__(self, image: ImageLike | Sequence[ImageLike], **kwargs: Any) -> Any:
        """Restore ``image`` (or a list of them); returns the same kind. See the module docstring."""
        return call_model(self, image, **kwargs)

    def process_image(self, img: Image, **kwargs: Any) -> Image:
        """The model on an :class:`~restore.data.io.Image` (alpha, 16-bit, grayscale kept)."""
        mask = kwargs.pop("mask", None)
        return process_images(self, [img], masks=[mask], **kwargs)[0]

    def __repr__(self) -> str:
        return (
            f"Restorer({self.name!r}, task={self.task!r}, scale={self.scale}, device={self.device})"
        )


def load(name_or_path: str | os.PathLike[str], **kwargs: Any) -> Restorer:
    """Load a shipped model by name, or trained weights by path; see :class:`Restorer`.

    Models that sample from noise (a task whose spec has ``input: noise``, i.e. generation) load
    as a :class:`restore.generate.Sampler`.
    """
    from restore.models import resolve

    if spec_of(resolve(name_or_path)[1]["task"]).input == "noise":
        from restore.generate import Sampler

        return Sampler.from_pretrained(name_or_path, **kwargs)  # type: ignore[return-value]
    return Restorer.from_pretrained(name_or_path, **kwargs)


def resolve_dtype(device: torch.device, dtype: torch.dtype | str | None) -> torch.dtype:
    """The compute dtype: bf16 on CUDA when supported (default), always float32 on the CPU."""
    if isinstance(dtype, str):
        if dtype not in _DTYPES and dtype != "auto":
            raise ConfigError(f"unknown dtype {dtype!r}; use one of {sorted(_DTYPES)} or auto")
        dtype = _DTYPES.get(dtype)
    if dtype not in (None, torch.float32, torch.bfloat16):
        raise ConfigError(f"dtype must be torch.float32 or torch.bfloat16, got {dtype}")
    if device.type != "cuda":
        return torch.float32
    if dtype is None:
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    return dtype


def _is_spatial(v: Any, x: Tensor | RowSource) -> bool:
    return isinstance(v, Tensor) and v.dim() == 4 and tuple(v.shape[-2:]) == tuple(x.shape[-2:])


class _RowsOn:
    """A :class:`RowSource` whose bands are moved to ``device`` as they are read."""

    def __init__(self, src: RowSource, device: torch.device) -> None:
        self.src, self.device, self.shape = src, device, src.shape

    def rows(self, y0: int, y1: int) -> Tensor:
        return self.src.rows(y0, y1).to(self.device)


__all__ = [
    "ImageLike",
    "ImageModel",
    "Restorer",
    "call_model",
    "finish_image",
    "load",
    "mask_tensor",
    "process_images",
    "resolve_dtype",
]
