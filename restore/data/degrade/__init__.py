"""Batched, seeded image degradations that run on the images' device.

Three groups:

- Simple degradations used by the tasks (:mod:`~restore.data.degrade.ops`):
  :func:`add_gaussian_noise`, :func:`add_poisson_noise`, :func:`jpeg`, :func:`gaussian_blur`, and
  the colorization inputs :func:`to_gray`, :func:`rgb_to_lab_l`.
- Real-ESRGAN's second-order degradation for blind super-resolution
  (:mod:`~restore.data.degrade.realesrgan`: :func:`second_order_degradation`, with
  :func:`random_kernel` and :func:`sinc_kernel`), after ``realesrgan/models/realesrnet_model.py``
  and ``basicsr/data/degradations.py``.
- Old-photo damage (:mod:`~restore.data.degrade.old_photo`: :func:`old_photo_damage`): fading,
  sepia, colour cast, grain, blur, scratches, dust, creases and JPEG, returning the damage mask a
  detector learns.

Conventions: images float32 (B, 3, H, W) in [0, 1]; outputs are clamped to [0, 1]. Random
parameters are drawn from the ``torch.Generator`` passed in, on the generator's device, then moved
to the images' device; pass a generator on the images' device (``torch.Generator(x.device)``) to
keep noise generation there. Nothing here names a device.

Import from here: this package re-exports every public name of its three modules.
"""

from __future__ import annotations

from restore.data.degrade.old_photo import OLD_PHOTO_EFFECTS, OldPhotoConfig, old_photo_damage
from restore.data.degrade.ops import (
    add_gaussian_noise,
    add_poisson_noise,
    check_images,
    gaussian_blur,
    gaussian_kernel,
    jpeg,
    rgb_to_lab_l,
    to_gray,
)
from restore.data.degrade.realesrgan import (
    KERNEL_TYPES,
    DegradationConfig,
    random_kernel,
    second_order_degradation,
    sinc_kernel,
)

__all__ = [
    "KERNEL_TYPES",
    "OLD_PHOTO_EFFECTS",
    "DegradationConfig",
    "OldPhotoConfig",
    "add_gaussian_noise",
    "add_poisson_noise",
    "check_images",
    "gaussian_blur",
    "gaussian_kernel",
    "jpeg",
    "old_photo_damage",
    "random_kernel",
    "rgb_to_lab_l",
    "second_order_degradation",
    "sinc_kernel",
    "to_gray",
]
