"""DCGAN generator and discriminator for small images (28 x 28 MNIST, 32 x 32 CIFAR-10).

Radford et al. 2016: the generator maps a latent vector through a linear layer to a
``(4 * base_channels, s, s)`` map (``s`` = 7 for 28 px, 4 for 32 px) and doubles the resolution
with stride-2 transposed convolutions (kernel 4) with batch norm and ReLU, ending in ``tanh``.
The discriminator mirrors it with stride-2 convolutions and LeakyReLU(0.2), without batch norm
(it is trained with an R1 penalty, which wants per-sample gradients), and ends in one logit.

With ``num_classes`` > 0 both are class-conditional (for labelled data such as MNIST): G takes the
one-hot label beside ``z`` (Mirza & Osindero 2014) and D adds a projection term, the inner product
of a learned class embedding with its last hidden map (Miyato & Koyama 2018, cGANs with projection
discriminator). A conditional G draws each digit from its own class, so its samples do not fall
between two classes as an unconditional one's do.

Example:
    >>> g = DCGANGenerator(latent_dim=16, base_channels=8, out_channels=1, image_size=28)
    >>> d = DCGANDiscriminator(in_channels=1, base_channels=8, image_size=28)
    >>> x = g(torch.zeros(2, 16))
    >>> x.shape, d(x).shape
    (torch.Size([2, 1, 28, 28]), torch.Size([2, 1]))
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from restore.core.layers import check_choice

__all__ = ["DCGANDiscriminator", "DCGANGenerator"]

GenNorm = Literal["batch", "none"]
_START = {28: 7, 32: 4, 64: 8}  # image size -> side of the first feature map
_UPS = {28: 2, 32: 3, 64: 3}  # number of stride-2 (transposed) convs


def _check_size(image_size: int) -> None:
    if image_size not in _START:
        raise ValueError(f"image_size must be one of {sorted(_START)}, got {image_size}")


class DCGANGenerator(nn.Module):
    """DCGAN generator: latent ``z`` -> image in ``[-1, 1]`` (``tanh``).

    Args:
        latent_dim: size of ``z``.
        base_channels: channels of the last hidden map; the first has ``2**(ups - 1)`` times more.
        out_channels: 1 (grayscale) or 3 (RGB).
        image_size: 28, 32 or 64.
        norm: ``"batch"`` (DCGAN) or ``"none"``.
        num_classes: 0 (unconditional) or the number of classes of ``y`` in :meth:`forward`.

    Shape:
        - Input: ``z`` ``(B, latent_dim)``; with ``num_classes``, ``y`` ``(B,)`` int labels.
        - Output: ``(B, out_channels, image_size, image_size)``, values in ``[-1, 1]``.
    """

    def __init__(
        self,
        latent_dim: int = 64,
        base_channels: int = 32,
        out_channels: int = 1,
        image_size: int = 28,
        norm: GenNorm = "batch",
        num_classes: int = 0,
    ) -> None:
        super().__init__()
        _check_size(image_size)
        check_choice("norm", norm, ("batch", "none"))
        if latent_dim < 1 or base_channels < 1 or out_channels < 1:
            raise ValueError("latent_dim, base_channels and out_channels must be >= 1")
        if num_classes < 0:
            raise ValueError(f"num_classes must be >= 0, got {num_classes}")
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.out_channels = out_channels
        self.image_size = image_size
        s, ups = _START[image_size], _UPS[image_size]
        ch = base_channels * 2 ** (ups - 1)

        def bn(c: int) -> nn.Module:
            return nn.BatchNorm2d(c) if norm == "batch" else nn.Identity()

        self.project = nn.Linear(latent_dim + num_classes, ch * s * s, bias=norm == "none")
        self.start = (ch, s)
        self.norm0 = bn(ch)
        layers: list[nn.Module] = [nn.ReLU(inplace=True)]
        for _ in range(ups - 1):
            layers += [
                nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=norm == "none"),
                bn(ch // 2),
                nn.ReLU(inplace=True),
            ]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, out_channels, 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """DCGAN initialisation: weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02)."""
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.ConvTranspose2d)):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.normal_(m.weight, 1.0, 0.02)
                nn.init.zeros_(m.bias)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """Images in [-1, 1] from latents ``z`` (B, latent_dim) and, when conditional, labels ``y``."""
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected z of shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        if not self.num_classes and y is not None:
            raise ValueError("this generator is unconditional: it takes no labels")
        z = torch.cat([z, _one_hot(y, self.num_classes, z)], 1) if self.num_classes else z
        ch, s = self.start
        return self.body(self.norm0(self.project(z).view(-1, ch, s, s)))


class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator: image -> one real/fake logit.

    Args:
        in_channels: 1 or 3.
        base_channels: channels of the first conv, doubled after each stride-2 conv.
        image_size: 28, 32 or 64.
        spectral_norm: wrap every conv and the final linear layer in spectral norm.
        num_classes: 0 (unconditional) or the number of classes of ``y`` (projection term).

    Shape:
        - Input: ``(B, in_channels, image_size, image_size)`` in ``[-1, 1]``; with
          ``num_classes``, ``y`` ``(B,)`` int labels.
        - Output: ``(B, 1)`` logits (``forward(x, return_features=True)`` also returns the list of
          hidden maps, for feature matching).
    """

    def __init__(
        self,
        in_channels: int = 1,
        base_channels: int = 32,
        image_size: int = 28,
        spectral_norm: bool = False,
        num_classes: int = 0,
    ) -> None:
        super().__init__()
        _check_size(image_size)
        if in_channels < 1 or base_channels < 1:
            raise ValueError("in_channels and base_channels must be >= 1")
        if num_classes < 0:
            raise ValueError(f"num_classes must be >= 0, got {num_classes}")
        self.num_classes = num_classes
        sn = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda m: m)
        blocks: list[nn.Module] = []
        ch_in, ch = in_channels, base_channels
        for _ in range(_UPS[image_size]):
            blocks.append(nn.Sequential(sn(nn.Conv2d(ch_in, ch, 4, 2, 1)), nn.LeakyReLU(0.2, True)))
            ch_in, ch = ch, ch * 2
        self.blocks = nn.ModuleList(blocks)
        s = _START[image_size]
        self.head = sn(nn.Linear(ch_in * s * s, 1))
        # projection: <embed(y), h>, one learned vector per class over D's flattened last map
        self.embed = sn(nn.Embedding(num_classes, ch_in * s * s)) if num_classes else None
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if getattr(m, "bias", None) is not None:
                    nn.init.zeros_(m.bias)

    def forward(
        self, x: Tensor, return_features: bool = False, *, y: Tensor | None = None
    ) -> Tensor | tuple[Tensor, list[Tensor]]:
        """Logits (B, 1); with ``return_features`` also the hidden maps; ``y``: labels when conditional."""
        if (self.embed is None) != (y is None):
            raise ValueError(
                "this discriminator is conditional: pass y=labels"
                if y is None
                else "this discriminator is unconditional: it takes no labels"
            )
        feats = []
        for b in self.blocks:
            x = b(x)
            feats.append(x)
        h = x.flatten(1)
        logits = self.head(h)
        if self.embed is not None:
            logits = logits + (self.embed(_labels(y, self.num_classes)) * h).sum(1, keepdim=True)
        return (logits, feats) if return_features else logits


def _labels(y: Tensor | None, num_classes: int) -> Tensor:
    """``y`` checked: (B,) integer labels in [0, num_classes)."""
    if y is None:
        raise ValueError("this generator is conditional: pass y=labels (B,) in [0, num_classes)")
    if y.dim() != 1 or y.dtype.is_floating_point:
        raise ValueError(f"labels must be a (B,) integer tensor, got {tuple(y.shape)} {y.dtype}")
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"labels must be in [0, {num_classes}), got {y.min()}..{y.max()}")
    return y.long()


def _one_hot(y: Tensor | None, num_classes: int, like: Tensor) -> Tensor:
    """One-hot rows of ``y`` in ``like``'s dtype and device (batch size checked)."""
    y = _labels(y, num_classes)
    if y.shape[0] != like.shape[0]:
        raise ValueError(f"{y.shape[0]} labels for a batch of {like.shape[0]}")
    return nn.functional.one_hot(y, num_classes).to(like)


def count_parameters(m: nn.Module) -> int:
    """Number of parameters of ``m``."""
    return sum(p.numel() for p in m.parameters())


if __name__ == "__main__":  # pragma: no cover
    for size, c in ((28, 1), (32, 3)):
        g = DCGANGenerator(out_channels=c, image_size=size)
        d = DCGANDiscriminator(in_channels=c, image_size=size)
        print(size, count_parameters(g), count_parameters(d), g(torch.zeros(2, 64)).shape)


# ---------------------------------------------------------------------------------------------
# Evaluation networks: feature spaces for coverage, FID and KID on small images (offline).
# ---------------------------------------------------------------------------------------------


class DigitClassifier(nn.Module):
    """A small MNIST digit CNN, the yardstick of mode-collapse measurements (not a generator).

    Three ``conv3x3 -> ReLU -> max-pool`` stages (28 -> 14 -> 7 -> 3), a 128-d penultimate
    layer (the feature space of classifier-FID/KID) and a 10-way linear head.

    Shape:
        - Input: ``(B, 1, 28, 28)`` in [0, 1] (3-channel input is averaged to gray).
        - Output: ``(B, 10)`` logits; :meth:`features` gives ``(B, 128)``.
    """

    num_features = 128

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        w = width
        self.body = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(w, 2 * w, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(2 * w * 9, self.num_features),
            nn.ReLU(inplace=True),
        )
        self.head = nn.Linear(self.num_features, 10)

    def features(self, x: Tensor) -> Tensor:
        """Penultimate (post-ReLU) features of images in [0, 1]."""
        if x.shape[1] == 3:
            x = x.mean(1, keepdim=True)
        return self.body((x - 0.1307) / 0.3081)

    def forward(self, x: Tensor) -> Tensor:
        """Class logits of images in [0, 1]."""
        return self.head(self.features(x))


class FeatureView(nn.Module):
    """``module.features`` as a ``forward`` with ``num_features`` (the shape FID/KID helpers want)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module
        self.num_features = int(module.num_features)  # type: ignore[arg-type]

    def forward(self, x: Tensor) -> Tensor:
        return self.module.features(x)  # type: ignore[operator]


class RandomConvFeatures(nn.Module):
    """A fixed, randomly initialised conv net as an offline feature space for FID/KID.

    No weights file: the He-normal weights are drawn from ``torch.Generator().manual_seed(seed)``,
    so the same seed gives the same features everywhere. Three ``conv3x3 -> ReLU -> avg-pool``
    stages, then global average and max pooling, concatenated (``2 * 4 * width`` features).
    Scores in this space compare models with each other, not with published Inception FIDs.

    Shape:
        ``(B, C, H, W)`` in [0, 1] ``-> (B, num_features)``.
    """

    def __init__(self, in_channels: int = 3, width: int = 32, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        chans = [in_channels, width, 2 * width, 4 * width]
        self.convs = nn.ModuleList()
        for cin, cout in zip(chans[:-1], chans[1:]):
            conv = nn.Conv2d(cin, cout, 3, padding=1)
            with torch.no_grad():
                conv.weight.copy_(
                    torch.randn(conv.weight.shape, generator=g) * (2.0 / (cin * 9)) ** 0.5
                )
                conv.bias.zero_()
            self.convs.append(conv)
        self.num_features = 2 * chans[-1]
        self.requires_grad_(False)

    def forward(self, x: Tensor) -> Tensor:
        x = (x - 0.5) / 0.25
        for i, conv in enumerate(self.convs):
            x = torch.relu(conv(x))
            if i < len(self.convs) - 1:
                x = nn.functional.avg_pool2d(x, 2)
        return torch.cat([x.mean((2, 3)), x.amax((2, 3))], 1)


__all__ += ["DigitClassifier", "FeatureView", "RandomConvFeatures", "count_parameters"]
