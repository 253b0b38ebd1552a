"""The detection options that scripts/eval_photo.py, scripts/eval_real_labels.py and
scripts/make_real_old_sheet.py share: defined once, so a flag means the same in all three and
their numbers compare.

    ap = argparse.ArgumentParser()
    add_detection_options(ap)
    args = ap.parse_args()
    pr = PhotoRestorer(device="cpu", models=stage_models(args), **detection_options(args))
"""

from __future__ import annotations

import argparse
from typing import Any

from restore.photo.growth import parse_dilate


def add_views_option(
    ap: argparse.ArgumentParser, flag: str, help: str, default: Any = None, many: bool = False
) -> None:
    """A number of mirror views (1, 2 or 4) as option ``flag``; with ``many``, several values
    (timed side by side by a benchmark)."""
    ap.add_argument(
        flag, type=int, choices=[1, 2, 4], nargs="+" if many else None, default=default, help=help
    )


def add_detection_options(ap: argparse.ArgumentParser) -> None:
    """``--model``, ``--threads``, ``--detect-flips``, ``--scan-flips``, ``--grey-flips``,
    ``--detect-grey``, ``--threshold``, ``--coarse``, ``--detect-levels``, ``--no-lines``,
    ``--no-descreen`` and ``--dilate`` (each defaults to `restore photo`'s own setting)."""
    ap.add_argument("--model", action="append", default=[], metavar="STAGE=MODEL")
    ap.add_argument("--threads", type=int, default=2)
    add_views_option(
        ap,
        "--detect-flips",
        "mirror views the detector's map is averaged over (default: restore photo's, "
        "restore.photo.scales.FLIPS; 1 = the photo alone, as before 2026-11-30 session 5)",
    )
    add_views_option(
        ap,
        "--scan-flips",
        "mirror views of a large scan's full-size map (PhotoRestorer(detect_scan_flips=); "
        "default: restore photo's, restore.photo.scales.SCAN_FLIPS; 4: as before 2026-12-03 "
        "session 22)",
    )
    add_views_option(
        ap,
        "--grey-flips",
        "mirror views of the grey look (PhotoRestorer(detect_grey_flips=); default: "
        "restore photo's, restore.photo.stages.GREY_FLIPS; 4: as before 2026-12-03 session 22)",
    )
    ap.add_argument(
        "--detect-grey",
        type=float,
        default=None,
        metavar="LEVELS",
        help="also look at prints whose colours stray less than this many levels from their "
        "cast in grey (PhotoRestorer(detect_grey=); 0: off; default: restore photo's)",
    )
    ap.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="damage probability threshold (default: restore photo's; 0.4 on the mean of 4 views)",
    )
    ap.add_argument(
        "--coarse",
        default=None,
        metavar="MODEL",
        help="coarse detector for large flakes (restore.photo.coarse): a shipped name, weights or "
        "run folder; 'none' switches it off (default: restore photo's)",
    )
    ap.add_argument(
        "--detect-levels",
        choices=["on", "off"],
        default=None,
        help="the detector looks at each photo with its levels stretched "
        "(PhotoRestorer(detect_levels=), restore.photo.levels; default: restore photo's)",
    )
    ap.add_argument(
        "--no-lines",
        action="store_true",
        help="no long-line rule (restore.photo.lines): as before 2026-12-02 session 16",
    )
    ap.add_argument(
        "--no-descreen",
        action="store_true",
        help="leave a print's screen in (restore.photo.screen): as before 2026-12-05 session 29",
    )
    ap.add_argument(
        "--dilate",
        type=parse_dilate,
        default=None,
        metavar="N|like",
        help="grow the mask N pixels everywhere (default: the damage card's 1, scaled with the "
        "photo), or 'like': into the neighbours that look like the damage (restore.photo.growth)",
    )


def detection_options(args: argparse.Namespace) -> dict[str, Any]:
    """``PhotoRestorer`` keywords for the options :func:`add_detection_options` added (only
    those given, so the rest keep their defaults).

    Example:
        >>> ap = argparse.ArgumentParser()
        >>> add_detection_options(ap)
        >>> detection_options(ap.parse_args(["--detect-flips", "2", "--no-lines"]))
        {'detect_flips': 2, 'detect_lines': False}
        >>> detection_options(ap.parse_args(["--dilate", "like"]))
        {'dilate': 'like'}
        >>> detection_options(ap.parse_args(["--dilate", "3", "--no-descreen"]))
        {'dilate': 3, 'descreen': False}
    """
    options: dict[str, Any] = {}
    if args.detect_flips is not None:
        options["detect_flips"] = args.detect_flips
    if args.scan_flips is not None:
        options["detect_scan_flips"] = args.scan_flips
    if args.grey_flips is not None:
        options["detect_grey_flips"] = args.grey_flips
    if args.detect_grey is not None:
        options["detect_grey"] = args.detect_grey
    if args.threshold is not None:
        options["threshold"] = args.threshold
    if args.detect_levels is not None:
        options["detect_levels"] = args.detect_levels == "on"
    if args.no_lines:
        options["detect_lines"] = False
    if args.coarse is not None:
        options["detect_coarse"] = None if args.coarse == "none" else args.coarse
    if args.dilate is not None:
        options["dilate"] = args.dilate
    if args.no_descreen:
        options["descreen"] = False
    return options


def stage_models(args: argparse.Namespace) -> dict[str, str]:
    """``--model STAGE=MODEL`` options as ``PhotoRestorer(models=)``.

    Example:
        >>> stage_models(argparse.Namespace(model=["detect=runs/x/damage"]))
        {'detect': 'runs/x/damage'}
    """
    return dict(s.split("=", 1) for s in args.model)
