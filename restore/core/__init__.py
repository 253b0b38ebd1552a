"""restore.core: networks, losses and training helpers that know nothing of tasks."""

from __future__ import annotations

from restore.core.discriminator import PatchDiscriminator
from restore.core.ema import EMA
from restore.core.generator import UNetGenerator, convert_pix2pix_unet_state_dict
from restore.core.layers import crop_to, make_norm, pad_to_multiple, to_signed, to_unit
from restore.core.losses import (
    AdversarialLoss,
    CharbonnierLoss,
    FeatureMatchingLoss,
    charbonnier_loss,
    discriminator_loss,
    feature_matching_loss,
    generator_loss,
    gradient_penalty,
    r1_penalty,
)

# checkpoint helpers live in restore.core.checkpoint

__all__ = [
    "EMA",
    "AdversarialLoss",
    "CharbonnierLoss",
    "FeatureMatchingLoss",
    "PatchDiscriminator",
    "UNetGenerator",
    "charbonnier_loss",
    "convert_pix2pix_unet_state_dict",
    "crop_to",
    "discriminator_loss",
    "feature_matching_loss",
    "generator_loss",
    "gradient_penalty",
    "make_norm",
    "pad_to_multiple",
    "r1_penalty",
    "to_signed",
    "to_unit",
]
