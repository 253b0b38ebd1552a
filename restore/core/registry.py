"""The network registry: one dict literal from config names to network classes.

``build_network(name, args)`` checks ``args`` against the constructor's signature, so a typo in
``model.generator_args`` fails with the key's name instead of a bare ``TypeError``.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Mapping
from typing import Any, Literal

from torch import nn

from restore.core.dcgan import DCGANDiscriminator, DCGANGenerator, DigitClassifier
from restore.core.discriminator import PatchDiscriminator
from restore.core.generator import UNetGenerator
from restore.core.srnet import SRNet
from restore.errors import ConfigError

NETWORKS: dict[str, type[nn.Module]] = {
    "unet": UNetGenerator,
    "patch": PatchDiscriminator,
    "dcgan_g": DCGANGenerator,
    "dcgan_d": DCGANDiscriminator,
    "srnet": SRNet,
    "digit_classifier": DigitClassifier,  # mnist-classifier, the yardstick of gen-mnist
}


def build_network(
    name: str, args: Mapping[str, Any] | None = None, *, key: str = "model"
) -> nn.Module:
    """Instantiate network ``name`` with keyword ``args``, validating names and simple types.

    Args:
        name: a key of :data:`NETWORKS`.
        args: constructor keyword arguments (from YAML).
        key: the dotted config key of ``args``, for error messages.

    Raises:
        ConfigError: unknown network, unknown argument, or a value of the wrong type.
    """
    if name not in NETWORKS:
        raise ConfigError(
            f"unknown network {name!r} at {key}; known: {', '.join(sorted(NETWORKS))}"
        )
    cls = NETWORKS[name]
    args = dict(args or {})
    sig = inspect.signature(cls.__init__)
    hints = typing.get_type_hints(cls.__init__)
    for k, v in args.items():
        if k not in sig.parameters or k == "self":
            known = [p for p in sig.parameters if p != "self"]
            raise ConfigError(
                f"unknown argument {key}.{k} for network {name!r}; known: {', '.join(known)}"
            )
        _check_type(hints.get(k), v, f"{key}.{k}")
    return cls(**args)


def _check_type(tp: Any, v: Any, key: str) -> None:
    if tp is None:
        return
    origin = typing.get_origin(tp)
    if origin is Literal:
        if v not in typing.get_args(tp):
            raise ConfigError(f"{key} must be one of {list(typing.get_args(tp))}, got {v!r}")
    elif tp is bool and not isinstance(v, bool):
        raise ConfigError(f"{key} must be true/false, got {v!r}")
    elif tp is int and (isinstance(v, bool) or not isinstance(v, int)):
        raise ConfigError(f"{key} must be an integer, got {v!r}")
    elif tp is float and (isinstance(v, bool) or not isinstance(v, (int, float))):
        raise ConfigError(f"{key} must be a number, got {v!r}")
