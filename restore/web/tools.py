"""What each tab of the web app runs: thin calls into restore's Python API, no model code.

A tool turns an upload (an :class:`~restore.data.io.Image`), an optional mask and the page's
options into result files in the job's folder. Models are loaded once per name (and device) and
kept by :class:`Models`; the photo pipeline gets them already loaded, wrapped so that the page can
show which stage runs.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from restore.data.io import Image, write_image
from restore.errors import ConfigError, ModelNotFoundError
from restore.models import available
from restore.photo import DEFAULT_MODELS, STAGES, TONE_MODES, PhotoRestorer, load_stage_model
from restore.runtime import pick_device
from restore.tasks import TASKS
from restore.web.jobs import Job

#: tab -> the tasks whose shipped models it offers (first available one is the default).
TOOL_TASKS: dict[str, tuple[str, ...]] = {
    "sr": ("super_resolution",),
    "inpaint": ("inpainting",),
    "colorize": ("colorization",),
    "style": ("cyclegan", "pix2pix"),
    "generate": ("generation",),
}
TOOLS = ("photo", *TOOL_TASKS)
MAX_SAMPLES = 64


def tool_models() -> dict[str, list[str]]:
    """Per tab, the shipped models of its tasks present in this installation."""
    have = set(available())
    return {
        tool: [m for t in tasks if t in TASKS for m in TASKS[t].models if m in have]
        for tool, tasks in TOOL_TASKS.items()
    }


class Models:
    """Models loaded once per name on one device (the photo stages share restore.photo's cache)."""

    def __init__(self, device: str | torch.device | None = None) -> None:
        self.device = pick_device(device)
        self.loaded: dict[str, Any] = {}
        self.loads = 0  # how many times a model was read from disk (tests check it stays put)
        self._lock = threading.Lock()

    def get(self, name: str) -> Any:
        with self._lock:
            if name not in self.loaded:
                if TASKS[_task_of(name)].input == "noise":
                    from restore.generate import Sampler

                    self.loaded[name] = Sampler.from_pretrained(name, device=self.device)
                else:
                    self.loaded[name] = load_stage_model(name, self.device)
                self.loads += 1
            return self.loaded[name]


def _task_of(name: str) -> str:
    for task, spec in TASKS.items():
        if name in spec.models:
            return task
    raise ModelNotFoundError(f"{name!r} is not a shipped model; known: {sorted(available())}")


@dataclass(frozen=True)
class PhotoOptions:
    """The photo tab's options, as ``restore photo``'s flags."""

    descreen: bool = True
    detect: bool = True
    inpaint: bool = True
    enhance: bool = True
    faces: bool = False
    face_strength: float = 1.0  # share of the faces stage's change kept (a fidelity weight)
    colorize: bool | str = False  # False, True or "force"
    tone: str = "keep"
    upscale: int | None = None
    threshold: float | None = None  # damage probability threshold (None: restore photo's)


def photo_options(query: Mapping[str, str]) -> PhotoOptions:
    """Parse the page's options strictly: an unknown value is a :class:`ConfigError` naming it."""

    def flag(key: str, default: bool) -> bool:
        v = query.get(key)
        if v is None:
            return default
        if v not in ("0", "1", "true", "false"):
            raise ConfigError(f"{key}={v!r}: use 1 or 0")
        return v in ("1", "true")

    colorize = {"off": False, "on": True, "force": "force"}.get(query.get("colorize", "off"))
    if colorize is None:
        raise ConfigError(f"colorize={query['colorize']!r}: use off, on or force")
    upscale = {"": None, "0": None, "1": None, "2": 2, "4": 4}.get(query.get("upscale", ""), -1)
    if upscale == -1:
        raise ConfigError(f"upscale={query['upscale']!r}: use 2 or 4 (or nothing)")
    tone = query.get("tone", "keep")
    if tone not in TONE_MODES:
        listed = ", ".join(TONE_MODES[:-1]) + " or " + TONE_MODES[-1]
        raise ConfigError(f"tone={tone!r}: use {listed}")

    def fraction(key: str, *, ends: bool) -> float | None:
        """The number ``key`` in [0, 1] (``ends``) or in (0, 1); None when not given."""
        raw = query.get(key, "")
        if raw == "":
            return None
        try:
            v = float(raw)
        except ValueError:
            v = -1.0
        if not (0.0 <= v <= 1.0 if ends else 0.0 < v < 1.0):  # NaN fails both
            raise ConfigError(f"{key}={raw!r}: use a number between 0 and 1")
        return v

    threshold = fraction("threshold", ends=False)
    face_strength = fraction("face_strength", ends=True)
    return PhotoOptions(
        threshold=threshold,
        face_strength=1.0 if face_strength is None else face_strength,
        descreen=flag("descreen", True),
        detect=flag("detect", True),
        inpaint=flag("inpaint", True),
        enhance=flag("enhance", True),
        faces=flag("faces", False),
        colorize=colorize,
        tone=tone,
        upscale=upscale,
    )


class _Tracked:
    """A loaded stage model that tells the job when it starts (so the page shows the stage)."""

    def __init__(self, model: Any, stage: str, job: Job, step: float) -> None:
        self.model, self.stage, self.job, self.step = model, stage, job, step

    def run_tensor(self, x: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        self.job.set_stage(self.stage)
        y = self.model.run_tensor(x, **kwargs)
        self.job.set_stage(self.stage, self.job.progress + self.step)
        return y

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def __repr__(self) -> str:
        return repr(self.model.name)


def run_photo(
    job: Job, models: Models, img: Image, opts: PhotoOptions, mask: np.ndarray | None
) -> dict[str, Any]:
    """``restore photo`` on ``img`` (``mask``: (H, W) bool, True = damaged, replaces detection).

    Writes ``result.png`` and, when there is one, ``mask.png`` (white = damaged) to the job.
    """
    enabled = {
        "detect": opts.detect and mask is None,
        "inpaint": opts.inpaint,
        "enhance": opts.enhance,
        "faces": opts.faces,
        "colorize": bool(opts.colorize),
        "upscale": opts.upscale is not None,
    }
    on = [s for s in STAGES if enabled.get(s)]
    loaded: dict[str, Any] = {}
    for stage in on:
        key = f"upscale{opts.upscale}" if stage == "upscale" else stage
        try:
            name = DEFAULT_MODELS.get(key, "")
            loaded[stage] = _Tracked(models.get(name), stage, job, 1 / len(on))
        except ModelNotFoundError:
            pass  # PhotoRestorer decides: a stand-in, a skipped optional stage, or an error
    pr = PhotoRestorer(
        descreen=opts.descreen,
        detect=enabled["detect"],
        inpaint=opts.inpaint,
        enhance=opts.enhance,
        faces=opts.faces,
        face_strength=opts.face_strength,
        colorize=opts.colorize,  # type: ignore[arg-type]
        tone=opts.tone,  # type: ignore[arg-type]
        upscale=opts.upscale,
        device=models.device,
        models=loaded,
        threshold=opts.threshold,
    )
    steps: dict[str, torch.Tensor] = {}
    out, report = pr.restore_image(img, mask, steps)
    job.set_stage("saving")
    write_image(job.folder / "result.png", out)
    job.outputs["result"] = job.folder / "result.png"
    if "mask" in steps:
        m = (steps["mask"][0, 0] > 0.5).cpu().numpy().astype(np.uint8) * 255
        write_image(job.folder / "mask.png", m)
        job.outputs["mask"] = job.folder / "mask.png"
    ran = [f"{s['stage']} {s['seconds']:.2f} s" for s in report["stages"] if s["ran"]]
    return {
        "size": list(out.size),
        "stages": ran,
        "tone": f"{report['tone']['kind']}, {report['tone']['action']}",
        "damaged": report.get("damaged_fraction"),
        "warnings": report.get("warnings", []),
    }


def run_model(
    job: Job,
    models: Models,
    tool: str,
    img: Image,
    name: str,
    mask: np.ndarray | None = None,
) -> dict[str, Any]:
    """One image model (super-resolution, inpainting, colorization, style) on ``img``."""
    _check_model(tool, name)
    job.set_stage(f"loading {name}" if name not in models.loaded else name)
    model = models.get(name)
    if model.needs_mask and mask is None:
        raise ConfigError("paint the holes to fill first (white = hole)")
    job.set_stage(name)
    kwargs = {"mask": mask} if mask is not None and model.uses_mask else {}
    out = model.process_image(img, **kwargs)
    write_image(job.folder / "result.png", out)
    job.outputs["result"] = job.folder / "result.png"
    return {"size": list(out.size), "model": name}


def run_generate(
    job: Job, models: Models, name: str, n: int, seed: int, label: int | None = None
) -> dict[str, Any]:
    """A grid of ``n`` samples of a generation model, seeded (of class ``label``, for a
    class-conditional model such as gen-mnist)."""
    _check_model("generate", name)
    if not 1 <= n <= MAX_SAMPLES:
        raise ConfigError(f"n={n}: use 1 to {MAX_SAMPLES} samples")
    job.set_stage(name)
    sampler = models.get(name)
    nrow = max(1, int(round(n**0.5)))
    grid = sampler.grid(n, seed=seed, nrow=nrow, label=label)
    write_image(job.folder / "result.png", grid)
    job.outputs["result"] = job.folder / "result.png"
    info = {"size": [int(grid.shape[0]), int(grid.shape[1])], "model": name, "seed": seed}
    return info if label is None else {**info, "label": label}


def _check_model(tool: str, name: str) -> None:
    names = tool_models().get(tool, [])
    if name not in names:
        raise ModelNotFoundError(f"model {name!r} is not one of this tab's: {names}")


__all__ = [
    "MAX_SAMPLES",
    "TOOLS",
    "TOOL_TASKS",
    "Models",
    "PhotoOptions",
    "photo_options",
    "run_generate",
    "run_model",
    "run_photo",
    "tool_models",
]
