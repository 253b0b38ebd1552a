"""restore photo's grey look: a print whose colours follow its tone is also looked at in grey."""

from __future__ import annotations

import pytest
import torch

from restore.photo.stages import detect_damage

ARGS = dict(protect_faces=False, half_size=False, corners=False, flips=1)


class _GreyOnly:
    """A 'detector' that finds the white line only where it sees no colour at all (as the
    shipped one misses the cracks of a green-tinted print that it finds in its grey)."""

    def __init__(self) -> None:
        self.calls: list[torch.Tensor] = []

    def run_tensor(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append(x)
        grey = (x.amax(1, keepdim=True) - x.amin(1, keepdim=True)) < 1e-6
        return ((x.mean(1, keepdim=True) > 0.85) & grey).float()


def _print(tint: torch.Tensor, size: int = 48) -> torch.Tensor:
    """A tinted print: a smooth ramp with a white line down column 20, all in one tint."""
    lum = torch.linspace(0.2, 0.7, size).view(1, 1, 1, size).expand(1, 1, size, size).clone()
    lum[..., 20] = 0.95
    return (lum * tint.view(1, 3, 1, 1)).clamp(0, 1)


def _colour(size: int = 48) -> torch.Tensor:
    """A colour photo with the same tinted white line: red on its left, blue on its right."""
    x = _print(torch.tensor([0.95, 1.0, 0.85]), size)
    line = x[..., 20].clone()
    x[..., :20] *= torch.tensor([1.0, 0.3, 0.3]).view(1, 3, 1, 1)
    x[..., 21:] *= torch.tensor([0.3, 0.3, 1.0]).view(1, 3, 1, 1)
    x[..., 20] = line
    return x


def test_a_tinted_print_is_looked_at_in_grey_too() -> None:
    x = _print(torch.tensor([0.95, 1.0, 0.85]))  # a green-yellow tint: the line is not grey
    model = _GreyOnly()
    assert not detect_damage(model, x, 0.5, 0, **ARGS).any()  # off: the line stays
    assert len(model.calls) == 1
    mask = detect_damage(model, x, 0.5, 0, grey_look=6.0, **ARGS)
    assert mask[0, 0, :, 20].all() and mask.sum() == 48  # the line, all of it, and only it
    grey = model.calls[-1]
    assert torch.equal(grey[:, 0], grey[:, 1]) and torch.equal(grey[:, 1], grey[:, 2])


def test_a_colour_photo_is_not_and_a_batch_is_judged_photo_by_photo() -> None:
    model = _GreyOnly()
    x = torch.cat([_colour(), _print(torch.tensor([0.95, 1.0, 0.85]))])
    mask = detect_damage(model, x, 0.5, 0, grey_look=6.0, **ARGS)
    from restore.photo.tone import colour_spread

    assert float(colour_spread(x[:1])[0]) > 6.0 > float(colour_spread(x[1:])[0])
    assert not mask[0].any()  # the colour photo: looked at as it is only
    assert mask[1, 0, :, 20].all()
    assert [c.shape[0] for c in model.calls] == [2, 1]  # the grey look ran on the print alone
    # with a limit above its spread the colour photo is looked at in grey too, and its line found
    assert detect_damage(model, x[:1], 0.5, 0, grey_look=100.0, **ARGS)[0, 0, :, 20].all()


def test_photo_restorer_checks_detect_grey() -> None:
    from restore.photo import PhotoRestorer

    with pytest.raises(ValueError, match="detect_grey"):
        PhotoRestorer(detect_grey=-1.0, device="cpu")


def test_a_photo_already_grey_is_looked_at_once() -> None:
    """R = G = B: its grey is itself (to float rounding), so the detector runs once, and the
    mask is the one the grey look gave before it was skipped."""
    x = _print(torch.tensor([1.0, 1.0, 1.0]))
    model = _GreyOnly()
    mask = detect_damage(model, x, 0.5, 0, grey_look=6.0, **ARGS)
    assert len(model.calls) == 1 and torch.equal(model.calls[0], x)
    assert mask[0, 0, :, 20].all() and mask.sum() == 48
    # in a batch with a tinted print, only the tinted one gets the second look
    model = _GreyOnly()
    both = torch.cat([x, _print(torch.tensor([0.95, 1.0, 0.85]))])
    mask = detect_damage(model, both, 0.5, 0, grey_look=6.0, **ARGS)
    assert [c.shape[0] for c in model.calls] == [2, 1]
    assert mask[:, 0, :, 20].all() and mask.sum() == 2 * 48


def test_the_grey_look_takes_grey_flips_views() -> None:
    """Four colour views, then GREY_FLIPS (2) grey ones; never more grey views than colour ones;
    grey_flips=4 looks in grey as in colour. The line is found whichever way the print lies."""
    from restore.photo import PhotoRestorer
    from restore.photo.stages import GREY_FLIPS

    args = {**ARGS, "flips": 4}
    x = _print(torch.tensor([0.95, 1.0, 0.85]))

    def views(**kw) -> tuple[list[bool], torch.Tensor]:
        model = _GreyOnly()
        mask = detect_damage(model, x, 0.5, 0, grey_look=6.0, **{**args, **kw})
        grey = [bool(torch.equal(c[:, 0], c[:, 1])) for c in model.calls]
        return grey, mask

    assert GREY_FLIPS == 2
    grey, mask = views()
    assert grey == [False] * 4 + [True] * 2
    # the grey map is the mean of its two views: 1 on the line, kept at 0.5
    assert mask[0, 0, :, 20].all() and mask.sum() == 48
    assert views(grey_flips=4)[0] == [False] * 4 + [True] * 4
    assert views(flips=1, grey_flips=4)[0] == [False, True]
    with pytest.raises(ValueError, match="detect_grey_flips"):
        PhotoRestorer(detect_grey_flips=3, device="cpu")
