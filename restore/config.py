"""Typed, frozen configuration loaded strictly from YAML.

A config file is YAML whose keys mirror the dataclasses below. Loading is strict: an unknown key, a
missing required key or a value of the wrong type raises :class:`~restore.errors.ConfigError` naming
the dotted key (``optim.lr_g``). Command-line overrides use the same dotted names::

    restore train configs/sr_x4.yaml --set optim.lr_g=1e-4 --set train.steps=200

Task-specific options live under ``task_args`` and network constructor arguments under
``model.generator_args`` / ``model.discriminator_args``; the task and the network registry check
those against their own dataclass / constructor signature, with the same error messages.

Example:
    >>> cfg = from_dict(Config, {"name": "demo", "task": "enhance", "data": {"train": "imgs"}})
    >>> cfg.optim.lr_g
    0.0002
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, Union

import yaml

from restore.errors import ConfigError

T = TypeVar("T")

AdversarialMode = Literal["vanilla", "lsgan", "hinge", "wgan", "ragan"]
PixelLoss = Literal["l1", "charbonnier", "none"]


@dataclass(frozen=True)
class ModelConfig:
    """Which networks a task builds, by registry name, with constructor arguments."""

    generator: str = "unet"
    generator_args: dict[str, Any] = field(default_factory=dict)
    discriminator: str = "patch"
    discriminator_args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OptimConfig:
    """Adam for G and D, a learning-rate schedule, gradient clipping."""

    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    weight_decay: float = 0.0
    schedule: Literal["constant", "cosine", "linear"] = "constant"
    warmup_steps: int = 0
    grad_clip: float = 0.0  # max global grad norm per network; 0 turns clipping off
    # Adam's implementation: auto = fused on CUDA and the CPU (faster on both), torch's default elsewhere
    adam_impl: Literal["auto", "fused", "foreach", "for_loop"] = "auto"

    def __post_init__(self) -> None:
        _positive(self, "lr_g", "lr_d")
        if self.warmup_steps < 0 or self.grad_clip < 0:
            raise ConfigError("optim.warmup_steps and optim.grad_clip must be >= 0")


@dataclass(frozen=True)
class LossConfig:
    """Loss weights shared by every task (a task adds its own in ``task_args``)."""

    adversarial: AdversarialMode = "vanilla"
    adv_weight: float = 1.0  # 0 trains G with the pixel loss alone (no D step)
    pixel: PixelLoss = "l1"
    pixel_weight: float = 100.0
    feature_matching_weight: float = 0.0
    r1_gamma: float = 0.0  # R1 penalty on real images, applied every ``r1_every`` D steps
    r1_every: int = 16
    gp_weight: float = 10.0  # WGAN-GP weight, used with adversarial: wgan


@dataclass(frozen=True)
class DataConfig:
    """Where training and validation images come from and how they are batched."""

    train: str = ""
    train_b: str = ""  # second folder: paired targets or the unpaired B domain
    val: str = ""
    patch_size: int = 128
    batch_size: int = 16
    workers: int = 0
    cache: bool = True

    def __post_init__(self) -> None:
        _positive(self, "patch_size", "batch_size")
        if self.workers < 0:
            raise ConfigError(f"data.workers must be >= 0, got {self.workers}")


@dataclass(frozen=True)
class TrainConfig:
    """Loop length, logging, checkpoints and precision; every knob declared once, here."""

    steps: int = 1000
    seed: int = 0
    gan_start: int = 0  # steps of pixel-loss-only warm-up before the D step starts
    # D-only steps from gan_start on (G frozen): a fresh D catches up with a G started from weights
    # (0: none, or with --from 10% of the run, at most 200)
    d_warmup_steps: int = 0
    ema_decay: float = 0.999  # 0 turns EMA off
    # data echoing: each made batch serves this many steps, seen through the task's mirror views
    # (Task.echo_views); for recipes whose batch costs more to make than to learn from
    echo: int = 1
    log_every: int = 50
    sample_every: int = 500
    val_every: int = 500
    ckpt_every: int = 500
    keep_checkpoints: int = 2
    out_dir: str = "runs"
    tensorboard: bool = False
    # auto: bf16 autocast on CUDA, fp32 on the CPU; bf16: on the CPU too (fast with AMX only)
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    channels_last: bool = False
    compile: bool = False  # torch.compile the networks' forward (measure first: scripts/bench)
    # torch.compile mode; "reduce-overhead" replays CUDA graphs on CUDA (batch-1 launch overhead)
    compile_mode: Literal[
        "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"
    ] = "default"
    progress: bool = True
    # wall-clock budget of the run in seconds (0: none). At the end of the lr warm-up (or step
    # 25) the run measures its pace and sets train.steps to what fits (never more than asked);
    # past the budget it stops at that step, validates, checkpoints and exports
    max_seconds: float = 0.0

    def __post_init__(self) -> None:
        _positive(self, "steps", "log_every", "sample_every", "val_every", "ckpt_every", "echo")
        if self.max_seconds < 0:
            raise ConfigError(f"train.max_seconds must be >= 0, got {self.max_seconds}")
        if self.d_warmup_steps < 0:
            raise ConfigError(f"train.d_warmup_steps must be >= 0, got {self.d_warmup_steps}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError(f"train.ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.compile_mode != "default" and not self.compile:
            raise ConfigError(f"train.compile_mode={self.compile_mode!r} needs train.compile: true")


@dataclass(frozen=True)
class Config:
    """A whole training recipe."""

    name: str
    task: str
    task_args: dict[str, Any] = field(default_factory=dict)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def _positive(obj: object, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if value <= 0:
            section = _SECTIONS.get(type(obj).__name__, "")
            raise ConfigError(f"{section}{name} must be > 0, got {value!r}")


_SECTIONS = {
    "OptimConfig": "optim.",
    "DataConfig": "data.",
    "TrainConfig": "train.",
    "LossConfig": "loss.",
}


# ----------------------------------------------------------------------------------------------
# Strict conversion from plain data (YAML / JSON) to dataclasses
# ----------------------------------------------------------------------------------------------


def from_dict(cls: type[T], data: Mapping[str, Any] | None, prefix: str = "") -> T:
    """Build dataclass ``cls`` from a mapping, strictly.

    Args:
        cls: a dataclass type whose fields are annotated with simple types (bool, int, float, str,
            Literal, tuples, ``X | None``, dicts and nested dataclasses).
        data: the mapping, typically parsed YAML.
        prefix: dotted key of ``data`` inside the whole config, used in error messages.

    Returns:
        An instance of ``cls``.

    Raises:
        ConfigError: an unknown key, a missing required key or a value of the wrong type; the
            message names the dotted key.
    """
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown config key {prefix}{unknown[0]!s}; "
            f"known keys{' under ' + prefix.rstrip('.') if prefix else ''}: {', '.join(fields)}"
        )
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        key = prefix + name
        if name in data:
            kwargs[name] = _convert(hints[name], data[name], key)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"missing required config key {key}")
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{prefix.rstrip('.') or cls.__name__}: {e}") from e


def _convert(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, key + ".")  # type: ignore[arg-type]
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"config key {key} must be one of {list(args)}, got {value!r}")
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _convert(a, value, key)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if errors else f"config key {key}: bad value {value!r}")
    if origin in (tuple, Sequence, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"config key {key} must be a list, got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise ConfigError(f"config key {key} must have {len(args)} items, got {value!r}")
            return tuple(_convert(a, v, f"{key}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
        item = args[0] if args else Any
        out = [_convert(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(out) if origin is tuple else out
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(f"config key {key} must be a mapping, got {value!r}")
        return dict(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"config key {key} must be true/false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config key {key} must be an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, str):  # PyYAML reads 1e-4 (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"config key {key} must be a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"config key {key} must be a string, got {value!r}")
        return value
    raise ConfigError(f"config key {key}: unsupported type {tp!r}")  # pragma: no cover


def to_dict(cfg: Any) -> dict[str, Any]:
    """The plain-data form of a config dataclass (JSON/YAML ready; tuples become lists)."""

    def plain(v: Any) -> Any:
        if dataclasses.is_dataclass(v):
            return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, Mapping):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(cfg)


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``a.b=value`` overrides to raw config data (values parsed as YAML scalars).

    Raises:
        ConfigError: an override without ``=``; a path through a non-mapping value.
    """
    out = _deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like section.key=value")
        path, raw = item.split("=", 1)
        keys = path.strip().split(".")
        if not all(keys):
            raise ConfigError(f"override {item!r} has an empty key")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as e:
            raise ConfigError(f"override {item!r}: value is not valid YAML ({e})") from e
        node = out
        for i, k in enumerate(keys[:-1]):
            nxt = node.setdefault(k, {})
            if not isinstance(nxt, dict):
                raise ConfigError(f"override {item!r}: {'.'.join(keys[: i + 1])} is not a section")
            node = nxt
        node[keys[-1]] = value
    return out


def _deepcopy(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _deepcopy(v) for k, v in d.items()}
    if isinstance(d, list):
        return [_deepcopy(v) for v in d]
    return d


def load_config(path: str | Path, overrides: Sequence[str] = ()) -> Config:
    """Read a YAML recipe, apply ``--set`` overrides and build a :class:`Config` strictly.

    Args:
        path: the YAML file.
        overrides: ``section.key=value`` strings.

    Raises:
        ConfigError: missing or unreadable file, invalid YAML, or any bad key / value.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read config {path}: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a mapping at the top level")
    return from_dict(Config, apply_overrides(data, overrides))
