"""Damaged-photo restoration: find the damage, inpaint it, enhance, optionally colorize and upscale.

The stages, in order (each can be switched off):

0. ``descreen`` a print's screen, the periodic texture of its paper (silk, honeycomb) or of a
   halftone reproduction, is taken out of its spectrum (:mod:`restore.photo.screen`); a photo
   without one is left as it is. The stages after detection work on the descreened photo; the
   detector still looks at the print as scanned: shown the descreened ``bzz12366/17``, its
   coarse half took the smoothed background and shirt for flaked emulsion (5.3% of the photo
   masked, against 0.006% as scanned; the full-size detector alone: 0.027%).
1. ``detect``   the ``damage`` model predicts where scratches, dust and creases destroyed the
   picture (probability > threshold, grown by a few pixels; the large regions it finds on the
   photo at half size are added, and on a large scan what it finds at the scale it was trained
   at: :mod:`restore.photo.scales`; torn-off corners are found by a rule:
   :mod:`restore.photo.corners`; long light lines, folds and scratches across the print that the
   detector sees under its threshold, by another: :mod:`restore.photo.lines`; bands along the
   edges, a print's margin, are left out: :mod:`restore.photo.margins`; a dim print is shown
   to the detector brightened, its bare paper white: :mod:`restore.photo.levels`); a given
   ``mask`` replaces it.
2. ``inpaint``  the ``inpaint`` model fills the masked pixels (``cv2.inpaint`` Telea stands in,
   with a note in the report, when no inpaint model is shipped in this installation).
3. ``enhance``  the ``enhance`` model undoes fading and colour casts: its tone change is applied
   as one curve per channel over the whole photo (one curve for all three channels of a colour
   photo, whose colour balance is kept unless ``fix_casts``), and its local change (grain,
   JPEG) is left out (:data:`restore.photo.global_tone.PIPELINE_LOCAL`: on photos and damage it
   was not trained on, the local change costs more than it gives). On a large scan the curve
   is fitted on the photo shrunk towards 512 px (:func:`restore.photo.global_tone.enhance_tone`).
   ``faces``    (optional, off by default: on whole photos it changes little, see
   ``docs/BENCHMARKS.md``, "Faces") the ``face`` model restores each face found
   (:func:`restore.faces.restore_faces`: detect, align, restore, paste back with a feathered
   mask and colour matching); the report lists the faces under ``faces``.
4. ``colorize`` (optional) the ``colorize`` model colours a grey or single-toned photo; a photo
   that already has colour is skipped (with a warning) unless ``colorize="force"``.
5. ``upscale``  (optional) ``sr-x2`` / ``sr-x4``.
6. ``tone``     the photo's own tone, measured on the input (:mod:`restore.photo.tone`): a grey
   photo comes back with R = G = B exactly, a toned print (sepia, cyanotype) with its tone
   re-applied to the restored luminance (or neutral grey with ``tone="neutral"``); a colour photo
   is left as the models made it. ``tone="mono"`` takes any photo for a single-toned print and
   rebuilds its colour from its dominant tone (coloured stains and tints go); before the
   whole-image models, the darkening of its coloured stains is lifted where the channels the stain
   spared show it (:mod:`restore.photo.stains`; report stage ``stains``).

Optional stages whose model is not shipped yet are skipped with a warning in the report; the
required ones (detect, enhance) raise :class:`~restore.errors.ModelNotFoundError`. Every model
tiles large images itself, so any size works; grayscale, alpha and 16-bit inputs keep their kind.

Example:
    >>> from restore.photo import restore_photo
    >>> out, report = restore_photo("assets/old_photo.jpg")          # doctest: +SKIP
    >>> [s["stage"] for s in report["stages"] if s["ran"]]          # doctest: +SKIP
    ['detect', 'inpaint', 'enhance', 'tone']
    >>> report["tone"]["kind"], report["tone"]["action"]            # doctest: +SKIP
    ('toned', 'tone kept')
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from restore.data.io import Image, from_tensor, to_tensor
from restore.errors import ModelNotFoundError, RestoreError
from restore.photo.coarse import COARSE_MODEL
from restore.photo.global_tone import (
    PIPELINE_GATE,
    PIPELINE_LOCAL,
    WORKING_SIDE,
    check_gate,
    enhance_tone,
)
from restore.photo.growth import scaled_dilate
from restore.photo.levels import paper_gain
from restore.photo.scales import FLIP_THRESHOLD, FLIPS, SCAN_FLIPS, check_flips, flip_average
from restore.photo.screen import descreen
from restore.photo.stages import (
    CV2_INPAINT,
    DEFAULT_MODELS,
    GREY_FLIPS,
    GREY_LOOK,
    OPTIONAL,
    STAGES,
    Colorize,
    about_image,
    check_colour_options,
    cv2_inpaint,
    detect_damage,
    faces_stage,
    load_stage_model,
    read_mask,
)
from restore.photo.stains import lift_stains
from restore.photo.tone import (
    COLOUR_SKIP,
    ToneMode,
    apply_tone,
    measure_tone,
    plan_tones,
)
from restore.runtime import pick_device

log = logging.getLogger(__name__)


def _spec_name(spec: Any) -> str:
    """How the report names a stage's model: its name or path as given, else its repr."""
    return str(spec) if isinstance(spec, (str, os.PathLike)) else repr(spec)


class PhotoRestorer:
    """The photo pipeline with its models loaded once; call :meth:`restore_tensor` per photo.

    Args:
        detect, inpaint, enhance: run the stage.
        descreen: take a print's screen (paper texture, halftone) out first
            (:mod:`restore.photo.screen`); photos without one are not changed by it.
        faces: restore the faces found with the ``face`` model (or ``models={"faces": RUN}``);
            off by default (``docs/BENCHMARKS.md``, "Faces").
        detect_half_size: the detector also looks at the photo at half size and adds the large
            regions it finds there (folds, torn corners, big flakes:
            :mod:`restore.photo.scales`).
        detect_pyramid: on a large scan (shorter side >= 1,536 px) also at 1/4, 1/8, ... down to
            384 px, where its cracks are as wide as the detector was trained on.
        detect_corners: torn-off corners (flat patches of scanner bed cut into a corner) join
            the mask even where the detector misses them (:mod:`restore.photo.corners`).
        detect_flips: mirror views the detector's map is averaged over: 1, 2 (also left-right)
            or 4 (also upside down and both; default :data:`restore.photo.scales.FLIPS`): fewer
            false alarms on white dots and edges (:func:`restore.photo.scales.flip_average`);
            the detector runs that many times.
        detect_scan_flips: the views of a large scan's full-size map (one looked at at 1/4 size
            too; default :data:`restore.photo.scales.SCAN_FLIPS`, at most ``detect_flips``): the
            scan's working level finds its damage, and its full size only adds specks.
        detect_grey: a photo whose colours stray less than this many 8-bit levels from its tone
            (:func:`restore.photo.tone.colour_spread`: B&W, toned, faded, lightly tinted prints)
            is also looked at in grey, and the detector's larger probability counts; 0 turns it
            off (default :data:`restore.photo.stages.GREY_LOOK`). The detector runs again on
            such photos, in ``detect_grey_flips`` mirror views.
        detect_grey_flips: the grey look's mirror views (default
            :data:`restore.photo.stages.GREY_FLIPS`, 2; at most ``detect_flips``).
        detect_lines: the long light lines (folds, scratches across the print) that the
            detector's map follows, even under its threshold, join the mask
            (:mod:`restore.photo.lines`).
        detect_coarse: the coarse detector (a shipped name, weights path, run folder or loaded
            Restorer; default the shipped :data:`restore.photo.coarse.COARSE_MODEL`; ``None``:
            none): on a print, its blobs on the photo shrunk to a print's scale that look like
            large flakes of bare paper join the mask, in faces too (:mod:`restore.photo.coarse`).
            A name that is not available is skipped with a warning.
        detect_levels: the detector looks at a dim print (its luma's 99.5% quantile, its bare
            paper, under 0.8) brightened so that its paper is white, as it was in training
            (:mod:`restore.photo.levels`); False: at the photo as it is.
        enhance_local: share of the enhance model's local change (grain, JPEG) kept, in [0, 1];
            its tone change is always applied (default :data:`restore.photo.global_tone.PIPELINE_LOCAL`).
        enhance_side: on a photo whose shorter side is at least twice this, the enhance curve is
            fitted on the photo halved while it stays at least this
            (:func:`restore.photo.global_tone.working_factor`); None: always at full size.
        enhance_gate: ``(lo, hi)`` RMS moves in 8-bit levels: the enhance tone curve is dropped
            under ``lo`` and kept whole over ``hi`` (default
            :data:`restore.photo.global_tone.PIPELINE_GATE`); None always applies it whole.
        fix_casts: let the enhance stage change a colour photo's colour balance (one tone curve
            per channel). Off by default: a colour photo gets one curve for its three channels,
            so its tone is restored and its colours kept (a warm photo is not taken for a
            yellowed one; :func:`restore.photo.global_tone.global_enhance`). Grey and toned
            photos always get per-channel curves (their tone is handled by ``tone``).
        face_strength: share of the face model's change kept, in [0, 1] (a fidelity weight:
            lower keeps more of each face's own texture; :func:`restore.faces.restore_faces`).
        colorize: ``False``; ``True`` colours grey and single-toned photos and skips (with a
            warning in the report) a photo that already has colour; ``"force"`` colours every
            photo (its own colours are replaced).
        tone: ``"keep"`` (default) re-applies a toned print's tone to the restored luminance;
            ``"neutral"`` makes a toned print neutral grey; ``"mono"`` takes any photo for a
            single-toned print (a B&W or sepia print with coloured stains), lifts its stains'
            darkening (:mod:`restore.photo.stains`) and rebuilds its colour from its dominant
            tone. Grey photos always come back with R = G = B, colour photos
            (but with ``"mono"``) as the models made them (see :mod:`restore.photo.tone`).
        upscale: ``None``, 2 or 4.
        device: ``"cpu"``, ``"cuda"``, ... (default: CUDA when available).
        models: per stage (``detect``, ``inpaint``, ``enhance``, ``colorize``, ``upscale``), a
            shipped name, weights path, run folder or loaded Restorer replacing the default model.
        threshold: damage probability threshold (default: with ``detect_flips`` 1 the damage
            model's card, 0.5; on the mean of several views
            :data:`restore.photo.scales.FLIP_THRESHOLD`, 0.4).
        dilate: pixels the detected mask grows by everywhere (default: the damage model's card,
            1, times the photo's longer side over 1024 px, rounded:
            :func:`restore.photo.growth.scaled_dilate`; given, as given); ``"like"``: up to
            :data:`restore.photo.growth.GROW_STEPS` pixels into the neighbours that look like
            the damage (:func:`restore.photo.growth.grow_like_damage`;
            an experiment, not the default: see its module).
        tile: tile side passed to the models (``None``: automatic).
        protect_faces: inside the faces found (:mod:`restore.faces.detect`), the detected mask
            keeps only thin defects and bare paper (flaked emulsion: a large patch brighter than
            the picture right around it; :func:`restore.faces.protect.keep_thin_in_faces`): the
            detector also fires on bright smooth skin. A given ``mask`` is used as it is.

    Raises:
        ModelNotFoundError: a required model (damage, enhance) is not available.
        ValueError: a bad ``upscale``, ``colorize`` or ``tone``, or an unknown stage in ``models``.
    """

    def __init__(
        self,
        *,
        detect: bool = True,
        descreen: bool = True,
        inpaint: bool = True,
        enhance: bool = True,
        faces: bool = False,
        colorize: Colorize = False,
        tone: ToneMode = "keep",
        upscale: int | None = None,
        device: str | torch.device | None = None,
        models: Mapping[str, Any] | None = None,
        threshold: float | None = None,
        dilate: int | Literal["like"] | None = None,
        tile: int | None = None,
        protect_faces: bool = True,
        face_strength: float = 1.0,
        enhance_local: float = PIPELINE_LOCAL,
        enhance_gate: tuple[float, float] | None = PIPELINE_GATE,
        detect_half_size: bool = True,
        detect_corners: bool = True,
        detect_pyramid: bool = True,
        detect_flips: int = FLIPS,
        detect_scan_flips: int = SCAN_FLIPS,
        detect_grey: float = GREY_LOOK,
        detect_grey_flips: int = GREY_FLIPS,
        detect_lines: bool = True,
        detect_coarse: str | os.PathLike[str] | Any | None = COARSE_MODEL,
        detect_levels: bool = True,
        enhance_side: int | None = WORKING_SIDE,
        fix_casts: bool = False,
    ) -> None:
        if upscale not in (None, 1, 2, 4):
            raise ValueError(f"upscale must be 2 or 4 (or None), got {upscale!r}")
        check_colour_options(colorize, tone)
        if not 0.0 <= face_strength <= 1.0:
            raise ValueError(f"face_strength must be in [0, 1], got {face_strength!r}")
        self.face_strength = float(face_strength)
        if not 0.0 <= enhance_local <= 1.0:
            raise ValueError(f"enhance_local must be in [0, 1], got {enhance_local!r}")
        self.enhance_local = float(enhance_local)
        self.enhance_gate = check_gate(enhance_gate)
        self.detect_half_size = bool(detect_half_size)
        self.detect_corners = bool(detect_corners)
        self.detect_pyramid = bool(detect_pyramid)
        self.detect_flips = check_flips(detect_flips, "detect_flips")
        self.detect_scan_flips = check_flips(detect_scan_flips, "detect_scan_flips")
        if not detect_grey >= 0:
            raise ValueError(f"detect_grey must be >= 0 (levels; 0: off), got {detect_grey!r}")
        self.detect_grey = float(detect_grey)
        self.detect_grey_flips = check_flips(detect_grey_flips, "detect_grey_flips")
        self.detect_lines = bool(detect_lines)
        self.detect_levels = bool(detect_levels)
        self.enhance_side = enhance_side
        self.fix_casts = bool(fix_casts)
        self.descreen = bool(descreen)
        self.force_colorize = colorize == "force"
        self.tone: ToneMode = tone
        models = dict(models or {})
        unknown = sorted(set(models) - set(STAGES))
        if unknown:
            raise ValueError(f"unknown stage(s) {unknown} in models; stages: {list(STAGES)}")
        self.device = pick_device(device)
        self.enabled = {
            "detect": detect,
            "inpaint": inpaint,
            "enhance": enhance,
            "faces": faces,
            "colorize": bool(colorize),
            "upscale": upscale not in (None, 1),
        }
        self.upscale = upscale if upscale not in (None, 1) else None
        self.warnings: list[str] = []
        self.models: dict[str, Any] = {}
        self.model_names: dict[str, str] = {}
        for stage in STAGES:
            if not self.enabled[stage]:
                continue
            key = f"upscale{self.upscale}" if stage == "upscale" else stage
            spec = models.get(stage, DEFAULT_MODELS.get(key))
            if spec is None:  # no model for the stage (e.g. an install without the face model)
                self.warnings.append(
                    f"{stage}: skipped, no {stage} model is shipped yet; give one with "
                    f"models={{'{stage}': RUN}} (restore photo --model {stage}=RUN)"
                )
                continue
            try:
                self.models[stage] = load_stage_model(spec, self.device, tile)
                self.model_names[stage] = _spec_name(spec)
            except ModelNotFoundError as e:
                if stage == "inpaint" and "inpaint" not in models:
                    self.model_names[stage] = CV2_INPAINT
                    self.warnings.append(
                        f"inpaint: model {spec!r} not available ({e}); using {CV2_INPAINT} instead"
                    )
                elif stage in OPTIONAL and stage not in models:
                    self.warnings.append(f"{stage}: skipped, model {spec!r} not available ({e})")
                else:
                    raise ModelNotFoundError(f"{stage} stage: {e}") from e
        self.coarse: Any = None
        if detect_coarse is not None and "detect" in self.models:
            try:
                self.coarse = load_stage_model(detect_coarse, self.device, tile)
                self.model_names["coarse"] = _spec_name(detect_coarse)
            except ModelNotFoundError as e:
                self.warnings.append(f"detect: no coarse detector, {detect_coarse!r}: {e}")
        for w in self.warnings:
            log.warning("%s", w)
        inf = getattr(self.models.get("detect"), "inference", None) or {}  # Restorer.inference
        if threshold is None:  # the card's for one view, a lower one for the mean of several
            threshold = inf.get("threshold", 0.5) if self.detect_flips == 1 else FLIP_THRESHOLD
        self.threshold = float(threshold)
        self.dilate_scaled = dilate is None  # the card's growth, scaled with each photo's size
        if dilate is None:
            dilate = int(inf.get("dilate", 1))
        ok = dilate == "like" or (isinstance(dilate, int) and not isinstance(dilate, bool))
        if not ok or (dilate != "like" and dilate < 0):
            raise ValueError(f"dilate must be whole pixels >= 0 or 'like', got {dilate!r}")
        self.dilate: int | Literal["like"] = dilate
        self.protect_faces = protect_faces

    @property
    def output_rgb(self) -> bool:
        """True when a colorize stage will run (a grayscale input gives a colour output)."""
        return "colorize" in self.models

    @property
    def scale(self) -> int:
        """Output size / input size."""
        return self.upscale if "upscale" in self.models and self.upscale else 1

    # What a pipeline stage answers (the same as a Restorer's), so batch and pipeline code can
    # treat the whole photo restoration as one model.
    name: str = "photo"
    task: str = "photo"
    uses_mask: bool = True  # an optional damage mask
    needs_mask: bool = False

    @property
    def card(self) -> dict[str, Any]:
        """A summary card: the stages and the model each uses, and the tone and colorize rules."""
        colorize = (
            ("force" if self.force_colorize else "grey and toned only")
            if ("colorize" in self.models)
            else "off"
        )
        return {
            "name": self.name,
            "task": self.task,
            "stages": dict(self.model_names),
            "tone": self.tone,
            "colorize": colorize,
        }

    def accepts(self, keyword: str) -> bool:
        """Whether ``run_tensor`` takes ``keyword`` (only ``mask``)."""
        return keyword == "mask"

    def __call__(self, image: Any, **kwargs: Any) -> Any:
        """Restore a path, PIL image, array, tensor or a list of them; returns the same kind."""
        from restore.api import call_model

        return call_model(self, image, **kwargs)

    # -- the tensor path ------------------------------------------------------------------------
    def detect_mask(self, x: Tensor, gains: Tensor | None = None) -> Tensor:
        """The damage mask (B, 1, H, W) in {0, 1} of photos x (B, 3, H, W) in [0, 1]; ``gains``:
        their :func:`restore.photo.levels.paper_gain` if already measured."""
        if self.detect_levels and gains is None:
            gains = paper_gain(x)
        return detect_damage(
            self.models["detect"],
            x,
            self.threshold,
            self.grown_by(x),
            self.protect_faces,
            half_size=self.detect_half_size,
            corners=self.detect_corners,
            pyramid=self.detect_pyramid,
            flips=self.detect_flips,
            scan_flips=self.detect_scan_flips,
            grey_look=self.detect_grey,
            grey_flips=self.detect_grey_flips,
            lines=self.detect_lines,
            coarse=self.coarse,
            levels=gains if self.detect_levels else None,
        )

    def grown_by(self, x: Tensor) -> int | Literal["like"]:
        """The pixels the detected mask of photos ``x`` (B, 3, H, W) grows by (``dilate``)."""
        if self.dilate_scaled:  # the card's whole pixels, never "like"
            return scaled_dilate(self.dilate, *x.shape[-2:])
        return self.dilate

    def raw_mask(self, x: Tensor) -> Tensor:
        """The detector's full-size map alone (mean of its mirror views), thresholded as
        :meth:`detect_mask` thresholds it, before any growing or rule: (B, 1, H, W) in {0, 1}.
        What evaluations score beside the mask the pipeline uses."""
        from restore.tasks.damage import binarize

        return binarize(flip_average(self.models["detect"], x, self.detect_flips), self.threshold)

    def restore_tensor(
        self,
        x: Tensor,
        mask: Tensor | None = None,
        steps: MutableMapping[str, Tensor] | None = None,
    ) -> tuple[Tensor, dict[str, Any]]:
        """Run the stages on float images.

        Args:
            x: (B, 3, H, W) photos in [0, 1].
            mask: (B, 1, H, W) damage mask (1 = damaged) replacing the detected one.
            steps: if given, receives every intermediate result by stage name (``mask`` is
                (B, 1, H, W); the others (B, 3, H', W')).

        Returns:
            (restored (B, 3, H*scale, W*scale) in [0, 1], report dict: stages, seconds, device,
            and ``tones``: per photo its measured tone (``kind`` grey / toned / colour,
            ``chroma_levels``, ``hue_deg``, ...), ``action`` (what the tone step did) and
            ``colorize`` (off, ran, forced, or skipped because the photo has colour)).
        """
        if x.dim() != 4 or x.shape[1] != 3 or not x.is_floating_point():
            raise ValueError(f"expected float (B, 3, H, W) images, got {tuple(x.shape)} {x.dtype}")
        report: dict[str, Any] = {
            "device": str(self.device),
            "input_size": [int(x.shape[-2]), int(x.shape[-1])],
            "stages": [],
            "warnings": list(self.warnings),
        }
        t_all = time.perf_counter()
        y = x
        if steps is not None:
            steps["input"] = x

        def record(stage: str, ran: bool, t0: float | None = None, **extra: Any) -> None:
            entry: dict[str, Any] = {"stage": stage, "ran": ran}
            if ran:
                if stage in self.model_names:
                    entry["model"] = self.model_names[stage]
                entry["seconds"] = round(time.perf_counter() - (t0 or 0.0), 4)
            entry.update(extra)
            report["stages"].append(entry)

        # 0. a print's screen out (the detector below still looks at x: see the docstring)
        if not self.descreen:
            record("descreen", False, reason="switched off")
        else:
            t0 = time.perf_counter()
            y, screens = descreen(x)
            if y is x:
                record("descreen", False, reason="no screen found")
            else:
                periods = [[round(p, 2) for p in s.periods] for s in screens]
                record("descreen", True, t0, periods_px=periods)
                if steps is not None:
                    steps["descreen"] = y

        # 1. the damage mask
        if mask is not None:
            m = mask.to(x.device).float()
            if m.shape[0] == 1 and x.shape[0] > 1:
                m = m.expand(x.shape[0], -1, -1, -1)
            if m.shape != (x.shape[0], 1, *x.shape[-2:]):
                raise RestoreError(
                    f"mask shape {tuple(m.shape)} does not match images {tuple(x.shape)}"
                )
            record("detect", False, reason="mask given")
        elif "detect" in self.models:
            t0 = time.perf_counter()
            gains = paper_gain(x) if self.detect_levels else None
            m = self.detect_mask(x, gains)
            said: dict[str, Any] = {"grown_px": self.grown_by(x)}
            if self.model_names.get("coarse"):
                said["coarse"] = self.model_names["coarse"]
            if gains is not None:  # the gain each photo was shown to the detector with
                said["brightened"] = [round(float(g), 3) for g in gains]
            record("detect", True, t0, **said)
        else:
            m = None
            record("detect", False, reason="switched off")
        if m is not None:
            report["damaged_fraction"] = round(float(m.mean()), 6)
            if steps is not None:
                steps["mask"] = m

        # 2. inpaint the damage
        if not self.enabled["inpaint"]:
            record("inpaint", False, reason="switched off")
        elif m is None:
            record("inpaint", False, reason="no mask (detection off and none given)")
        elif not bool(m.any()):
            record("inpaint", False, reason="no damage found")
        else:
            t0 = time.perf_counter()
            if "inpaint" in self.models:
                filled = self.models["inpaint"].run_tensor(y, mask=m)
                y = torch.where(m > 0.5, filled.to(y), y)
            else:
                y = cv2_inpaint(y, m)
            record("inpaint", True, t0)
            if steps is not None:
                steps["inpaint"] = y

        # 3.-5. whole-image models (colorize: grey and toned photos only, unless forced)
        n = x.shape[0]
        t0 = time.perf_counter()
        tones = measure_tone(x, m, self.tone == "mono")  # the input's; damage left out
        measured = time.perf_counter() - t0
        if self.tone != "mono":  # coloured stains lifted before the whole-image models
            record("stains", False, reason="only with tone='mono'")
        else:
            t0 = time.perf_counter()
            y, lifted, tones = lift_stains(y, tones, m)  # tones: measured without the stains
            if not any(lifted):
                record("stains", False, reason="no coloured stain found")
            else:
                record("stains", True, t0, lifted_share=lifted)
                if steps is not None:
                    steps["stains"] = y
        colorized = [False] * n
        for stage in ("enhance", "faces", "colorize", "upscale"):
            if stage not in self.models:
                reason = "switched off" if not self.enabled[stage] else "model not available"
                record(stage, False, reason=reason)
                continue
            t0 = time.perf_counter()
            run = self.models[stage].run_tensor
            if stage == "faces":
                y, found = self.restore_faces(y)
                report["faces"] = found
                record(stage, True, t0, found=sum(len(f) for f in found))
            elif stage == "colorize":
                pick = [i for i, t in enumerate(tones) if self.force_colorize or t.kind != "colour"]
                for i in sorted(set(range(n)) - set(pick)):
                    where = f"image {i}: " if n > 1 else ""
                    report["warnings"].append(f"colorize: {where}{COLOUR_SKIP}")
                    log.warning("colorize: %s%s", where, COLOUR_SKIP)
                if not pick:
                    record(stage, False, reason=COLOUR_SKIP)
                    continue
                for i in pick:
                    colorized[i] = True
                if len(pick) < n:
                    idx = torch.tensor(pick, device=y.device)
                    y = y.index_copy(0, idx, run(y[idx]).clamp(0, 1).to(y))
                    record(stage, True, t0, images=pick)
                else:
                    y = run(y).clamp(0, 1)
                    record(stage, True, t0)
            elif stage == "enhance":  # its tone change as curves over the photo: no blocks
                shared = None if self.fix_casts else [t.kind == "colour" for t in tones]
                y = enhance_tone(
                    run, y, self.enhance_local, self.enhance_gate, self.enhance_side, shared
                )
                record(stage, True, t0)
            else:
                y = run(y).clamp(0, 1)
                record(stage, True, t0)
            if steps is not None:
                steps[stage] = y

        # 6. the photo's own tone on the restored luminance (its time includes measuring it)
        t0 = time.perf_counter() - measured
        entries, curves, pick = plan_tones(tones, colorized, self.tone, "colorize" in self.models)
        if y is x:
            record("tone", False, reason="no stage changed the photo")
        elif not pick:
            record("tone", False, reason="colour photo or colorized: left as the models made it")
        else:
            idx = torch.tensor(pick, device=y.device)
            retoned = apply_tone(y[idx], torch.stack(curves))
            y = retoned if len(pick) == n else y.index_copy(0, idx, retoned)
            record("tone", True, t0)
            if steps is not None:
                steps["tone"] = y
        report["tones"] = entries
        report["output_size"] = [int(y.shape[-2]), int(y.shape[-1])]
        report["total_seconds"] = round(time.perf_counter() - t_all, 4)
        return y, report

    def restore_faces(self, y: Tensor) -> tuple[Tensor, list[list[dict[str, Any]]]]:
        """The faces stage on photos y (B, 3, H, W): per photo, the faces found (box, eyes)."""
        return faces_stage(self.models["faces"], y, self.face_strength)

    def run_tensor(self, x: Tensor, *, mask: Tensor | None = None) -> Tensor:
        """:meth:`restore_tensor` without the report (the :class:`~restore.api.ImageModel` protocol)."""
        return self.restore_tensor(x, mask)[0]

    # -- images ---------------------------------------------------------------------------------
    def restore_image(
        self,
        img: Image,
        mask: Any = None,
        steps: MutableMapping[str, Tensor] | None = None,
    ) -> tuple[Image, dict[str, Any]]:
        """Restore an :class:`~restore.data.io.Image`; alpha, bit depth and grayscale are kept.

        A grayscale photo stays grayscale unless it is colorized. The report's ``tone`` says what
        the photo's tone was (``kind``: grey, toned or colour, with its chroma and hue) and what
        was done (``action``, ``colorize``).
        """
        x = to_tensor(img)
        m = read_mask(mask, img.size) if mask is not None else None
        y, report = self.restore_tensor(x, m, steps)
        tone = report.pop("tones")[0]
        if img.grayscale and tone["action"] != "colorized" and steps is not None:
            for k in ("inpaint", "enhance", "faces", "upscale"):
                if k in steps:
                    steps[k] = steps[k].mean(1, keepdim=True).expand(-1, 3, -1, -1)
        return self.finish_image(img, y, tone), {**report, "tone": tone, "input": about_image(img)}

    def restore_images(
        self, images: Sequence[Image], masks: Sequence[Any] | None = None
    ) -> list[tuple[Image, dict[str, Any]]]:
        """Restore several Images, same-size ones in one batch; one (Image, report) per input.

        Args:
            images: the photos.
            masks: one damage mask (or ``None``: detect it) per photo, any kind
                :func:`read_mask` takes.

        Returns:
            Per photo, as :meth:`restore_image`: the restored Image and its report (stage times
            are those of the photo's batch).
        """
        masks = list(masks) if masks is not None else [None] * len(images)
        if len(masks) != len(images):
            raise ValueError(f"{len(masks)} masks for {len(images)} images")
        groups: dict[tuple[int, int, bool], list[int]] = {}
        for i, (img, mk) in enumerate(zip(images, masks)):
            groups.setdefault((*img.size, mk is None), []).append(i)
        out: list[Any] = [None] * len(images)
        for (h, w, no_mask), idx in groups.items():
            x = torch.cat([to_tensor(images[i]) for i in idx])
            m = None if no_mask else torch.cat([read_mask(masks[i], (h, w)) for i in idx])
            y, report = self.restore_tensor(x, m)
            tones = report.pop("tones")
            for j, i in enumerate(idx):
                skipped = tones[j]["colorize"] == COLOUR_SKIP
                warnings = list(self.warnings) + ([f"colorize: {COLOUR_SKIP}"] if skipped else [])
                rep = {
                    **report,
                    "warnings": warnings,
                    "tone": tones[j],
                    "input": about_image(images[i]),
                }
                out[i] = (self.finish_image(images[i], y[j : j + 1], tones[j]), rep)
        return out

    def finish_image(self, img: Image, y: Tensor, tone: Mapping[str, Any]) -> Image:
        """The restored (1, 3, H', W') tensor as an Image with ``img``'s kind and metadata."""
        out_gray = img.grayscale and tone["action"] != "colorized"
        pixels = from_tensor(y[:, :1] if out_gray else y, bit_depth=img.bit_depth)
        if pixels.ndim == 2:
            pixels = np.repeat(pixels[..., None], 3, axis=2)
        return img.with_pixels(pixels, grayscale=out_gray)


__all__ = ["Colorize", "PhotoRestorer"]
