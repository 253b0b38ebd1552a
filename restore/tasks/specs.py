"""One spec per task: everything outside the task's own module that must know about the task.

:data:`TASKS` maps a config's ``task:`` name to its :class:`TaskSpec`. Every list that used to
be kept by hand reads it:

- the task class (:func:`restore.tasks.task_class`, :func:`restore.tasks.create_task`);
- the shipped models and their one-line descriptions (``restore.models.SHIPPED``);
- ``restore enhance --task`` names and their default models (``restore.batch.TASK_MODELS``,
  the CLI's choices);
- the photo pipeline's default model per stage (``restore.photo.DEFAULT_MODELS``);
- what an exported ONNX network computes (``restore.export.NETWORK_IO``);
- what the API gives a model and expects back (a mask, noise; whether it adds colour).

Importing this module imports no torch (the CLI builds its parser from it): the task class is
named as ``"module:Class"`` and imported on demand. Network names are keys of
``restore.core.registry.NETWORKS`` (a test checks them).

A registry refuses a duplicate: two tasks of one name, two tasks shipping the same model name,
or two tasks claiming one CLI alias or photo stage raise :class:`~restore.errors.ConfigError`
(:func:`register`, :func:`register_task`). See "Adding a task" in ``docs/ARCHITECTURE.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Literal, TypeVar, get_args

from restore.errors import ConfigError

V = TypeVar("V")

#: What a model is given besides keywords: an image, an image and a hole mask, or nothing but noise.
InputKind = Literal["image", "image+mask", "noise"]
#: What it gives back: an image like its input, a colour image (colour added to grey), a mask.
OutputKind = Literal["image", "colour", "mask"]
#: ``restore enhance --task photo`` runs the photo pipeline (restore.photo), not one task's model.
PHOTO = "photo"


@dataclass(frozen=True)
class TaskSpec:
    """What the rest of ``restore`` knows about one task (the task's module knows the rest).

    Args:
        name: the config's ``task:`` value and the card's ``task``.
        cls: the :class:`~restore.tasks.base.Task` subclass as ``"module:Class"``.
        networks: network names (``restore.core.registry.NETWORKS``) its recipes build.
        input: what the model is given (``"image+mask"``: ``mask=`` is required; ``"noise"``:
            it samples, ``restore.load`` returns a :class:`restore.generate.Sampler`).
        output: what it gives back (``"colour"``: a grey photo comes back in colour).
        onnx: what the exported network computes (``None``: not exportable to ONNX).
        protocol: its evaluation protocol in one line (``Task.evaluate``); ``None`` if it has none.
        models: the shipped models of this task, name -> one-line description.
        default_model: the model ``restore enhance --task ALIAS`` uses (one of ``models``).
        alias: its ``restore enhance --task`` name (``None``: not offered there).
        stages: photo-pipeline stage -> the shipped model that stage uses by default.
        evaluation_models: shipped models that score this task's models (card ``kind:
            evaluation``), name -> description; loaded by the task, not by ``restore.load``.
    """

    name: str
    cls: str
    networks: tuple[str, ...]
    input: InputKind = "image"
    output: OutputKind = "image"
    onnx: str | None = None
    protocol: str | None = None
    models: Mapping[str, str] = field(default_factory=dict)
    default_model: str | None = None
    alias: str | None = None
    stages: Mapping[str, str] = field(default_factory=dict)
    evaluation_models: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"task spec {self.name!r}"
        if not self.name or ":" not in self.cls:
            raise ConfigError(f"{where}: needs a name and cls as 'module:Class', got {self.cls!r}")
        if self.input not in get_args(InputKind):
            raise ConfigError(f"{where}: input must be one of {get_args(InputKind)}")
        if self.output not in get_args(OutputKind):
            raise ConfigError(f"{where}: output must be one of {get_args(OutputKind)}")
        if self.default_model is not None and self.default_model not in self.models:
            raise ConfigError(f"{where}: default_model {self.default_model!r} is not in models")
        if self.alias is not None and self.default_model is None:
            raise ConfigError(f"{where}: alias {self.alias!r} needs a default_model")
        for stage, model in self.stages.items():
            if model not in self.models:
                raise ConfigError(f"{where}: stage {stage!r} uses {model!r}, not in models")
        both = set(self.models) & set(self.evaluation_models)
        if both:
            raise ConfigError(f"{where}: {sorted(both)} both in models and evaluation_models")


def register(table: MutableMapping[str, V], name: str, value: V, *, what: str = "name") -> V:
    """Add ``name -> value`` to ``table``; a name already there is refused (nothing replaced).

    Raises:
        ConfigError: ``name`` is already in ``table``.
    """
    if name in table:
        raise ConfigError(f"duplicate {what} {name!r}: already registered")
    table[name] = value
    return value


#: config ``task:`` name -> spec, in the order shipped models are listed.
TASKS: dict[str, TaskSpec] = {}


def register_task(spec: TaskSpec) -> TaskSpec:
    """Add a task to :data:`TASKS` (benchmarks and plugins register theirs this way).

    Raises:
        ConfigError: its name, a model it ships, its alias or a photo stage is already taken
            (the message names the task that has it); :data:`TASKS` is then unchanged.
    """
    taken: dict[tuple[str, str], str] = {("enhance --task alias", PHOTO): "the photo pipeline"}
    for s in TASKS.values():
        taken.update(_claims(s))
    for key in _claims(spec):
        if key in taken:
            raise ConfigError(
                f"task {spec.name!r}: duplicate {key[0]} {key[1]!r}: already {taken[key]}'s"
            )
    return register(TASKS, spec.name, spec, what="task")


def _claims(spec: TaskSpec) -> dict[tuple[str, str], str]:
    """The names a task takes beside its own: (kind of name, name) -> ``task 'NAME'``."""
    owner = f"task {spec.name!r}"
    out = {("shipped model", m): owner for m in (*spec.models, *spec.evaluation_models)}
    if spec.alias is not None:
        out["enhance --task alias", spec.alias] = owner
    out.update({("photo stage", st): owner for st in spec.stages})
    return out


def shipped_models() -> dict[str, str]:
    """Every shipped model (evaluation models too), name -> description, in task order."""
    out: dict[str, str] = {}
    for s in TASKS.values():
        out.update(s.models)
        out.update(s.evaluation_models)
    return out


def task_aliases() -> dict[str, str]:
    """``restore enhance --task`` alias -> default model, for the tasks that have one."""
    return {s.alias: str(s.default_model) for s in TASKS.values() if s.alias is not None}


def stage_models() -> dict[str, str]:
    """Photo-pipeline stage -> default shipped model (``upscale2`` / ``upscale4`` per scale)."""
    return {k: v for s in TASKS.values() for k, v in s.stages.items()}


def enhance_choices() -> dict[str, str]:
    """``restore enhance --task`` choices -> default model: the task aliases, then the photo
    pipeline (:data:`PHOTO`, the default)."""
    return {**task_aliases(), PHOTO: PHOTO}


def spec_of(name: str) -> TaskSpec:
    """The spec of task ``name``.

    Raises:
        ConfigError: an unknown task name (the message lists the known ones).
    """
    if name not in TASKS:
        raise ConfigError(f"unknown task {name!r}; known tasks: {', '.join(sorted(TASKS))}")
    return TASKS[name]


# ---------------------------------------------------------------------------------------------
# The table. The order is the order of restore.models.SHIPPED (how models are listed).
# ---------------------------------------------------------------------------------------------

_RESIDUAL = "result = clamp(((x + y if card inference.residual else y) + 1)/2, 0, 1)"

BUILT_IN: tuple[TaskSpec, ...] = (
    TaskSpec(
        name="enhance",
        cls="restore.tasks.enhance:EnhanceTask",
        networks=("unet", "patch"),
        onnx="x: photo (B,3,H,W) in [-1,1] -> residual (B,3,H,W); result = clamp(photo01 + residual, 0, 1) (card inference.residual, default true; else (y+1)/2)",
        models={
            "enhance": "Undo fading, colour cast, grain, mild blur and JPEG artefacts of old photos."
        },
        stages={"enhance": "enhance"},
    ),
    TaskSpec(
        name="super_resolution",
        cls="restore.tasks.super_resolution:SuperResolutionTask",
        networks=("srnet", "patch"),
        onnx="x: low-res image (B,3,H,W) in [0,1] -> (B,3,H*s,W*s); result = clamp(y, 0, 1)",
        protocol="PSNR / SSIM on BT.601 studio-range Y, shave = scale, MATLAB-bicubic LR, "
        "beside bicubic (val/<set>/x<s>)",
        models={
            "sr-x2": "Super-resolution x2, PSNR-oriented.",
            "sr-x4": "Super-resolution x4, PSNR-oriented.",
            "sr-x4-gan": "Super-resolution x4, GAN fine-tuned for sharper texture.",
        },
        default_model="sr-x4",
        alias="sr",
        stages={"upscale2": "sr-x2", "upscale4": "sr-x4"},
    ),
    TaskSpec(
        name="inpainting",
        cls="restore.tasks.inpainting:InpaintingTask",
        networks=("unet", "patch"),
        input="image+mask",
        onnx="x: cat(image in [-1,1] with holes pre-filled (card inference.prefill: push-pull fill with inference.prefill_confidence, restore.tasks.inpainting_fill.push_pull_fill; else 0), mask (1 = hole)) (B,4,H,W) -> (B,3,H,W): with prefill a correction added to the fill in [0,1], else tanh output in [-1,1]; known pixels are kept",
        protocol="PSNR / SSIM whole image and hole, L1, bucketed by hole ratio (0-10% ... "
        "50-60%), beside Telea, Navier-Stokes and biharmonic",
        models={"inpaint": "Fill holes given a mask (white = hole)."},
        default_model="inpaint",
        alias="inpaint",
        stages={"inpaint": "inpaint"},
    ),
    TaskSpec(
        name="colorization",
        cls="restore.tasks.colorization:ColorizationTask",
        networks=("unet", "patch"),
        output="colour",
        onnx="x: normalized lightness L*/50-1 (B,1,h,w) at the work size -> a*b*/110 (B,2,h,w); upsample to full size, scale by chroma_gain, Lab -> RGB",
        protocol="RGB PSNR / SSIM and colourfulness (Hasler-Susstrunk) with its gap to the "
        "ground truth, beside the grey input",
        models={"colorize": "Colour black-and-white photos."},
        default_model="colorize",
        alias="colorize",
        stages={"colorize": "colorize"},
    ),
    TaskSpec(
        name="damage",
        cls="restore.tasks.damage:DamageTask",
        networks=("unet", "patch"),
        output="mask",
        onnx="x: photo (B,3,H,W) in [-1,1] -> damage logits (B,1,H,W); probability = sigmoid(y)",
        protocol="IoU / precision / recall / F1 of the thresholded mask on seeded synthetic "
        "damage (scratches, dust, grain, fading)",
        models={
            "damage": "Find scratches, dust and creases (damage mask).",
            "damage-coarse": "Find large flakes of emulsion on a whole print (coarse damage mask).",
        },
        stages={"detect": "damage"},
    ),
    TaskSpec(
        name="face",
        cls="restore.tasks.face:FaceTask",
        networks=("unet", "patch"),
        onnx="x: aligned face crop (B,3,S,S) in [-1,1] -> residual (B,3,S,S); result = clamp(crop01 + residual, 0, 1), grey crops made grey (card inference.residual, size)",
        models={
            "face": "Restore the faces of old photos (found, aligned, restored, pasted back); "
            "trained on UTKFace: non-commercial research only."
        },
        default_model="face",
        alias="face",
        stages={"faces": "face"},
    ),
    TaskSpec(
        name="pix2pix",
        cls="restore.tasks.style_transfer:Pix2PixTask",
        networks=("unet", "patch"),
        onnx=f"x: photo (B,3,H,W) in [-1,1] -> y (B,3,H,W); {_RESIDUAL}",
    ),
    TaskSpec(
        name="cyclegan",
        cls="restore.tasks.style_transfer:CycleGANTask",
        networks=("unet", "patch"),
        onnx=f"x: photo (B,3,H,W) in [-1,1] -> y (B,3,H,W), direction a2b; {_RESIDUAL}",
        protocol="KID to the style domain of the outputs vs of the input photos and of a "
        "colour-transfer baseline, in a seeded style-feature space",
        models={"style-painting": "Turn photos into paintings."},
        default_model="style-painting",
        alias="style",
    ),
    TaskSpec(
        name="generation",
        cls="restore.tasks.generation:GenerationTask",
        networks=("dcgan_g", "dcgan_d", "digit_classifier"),
        input="noise",
        protocol="FID / KID against the real set with a real-vs-real floor; MNIST adds class "
        "coverage by the mnist-classifier",
        models={
            "gen-mnist": "Generate MNIST digits from noise: a chosen digit or random ones "
            "(class-conditional).",
            "gen-cifar10": "Generate CIFAR-10-like images from noise.",
        },
        evaluation_models={
            "mnist-classifier": "Digit classifier that scores gen-mnist (class coverage, "
            "classifier-FID / KID); not an image model."
        },
    ),
)
for _s in BUILT_IN:
    register_task(_s)

__all__ = [
    "BUILT_IN",
    "PHOTO",
    "TASKS",
    "InputKind",
    "OutputKind",
    "TaskSpec",
    "enhance_choices",
    "register",
    "register_task",
    "shipped_models",
    "spec_of",
    "stage_models",
    "task_aliases",
]
