"""Printing evaluation results: one protocol result in full, or several data sets in one table.

- :func:`format_table`: one result of :mod:`restore.eval.protocols` (or of a task's
  ``evaluate``): means per method, then per hole-ratio bucket where there are buckets.
- :func:`summary_table`: the results of one model on several data sets, one row per set and
  the task's headline metrics as columns, the model beside its baselines (``restore eval``).

Example:
    >>> r = {"task": "sr", "count": 5, "methods": ["model", "bicubic"],
    ...      "mean": {"model": {"psnr": 31.2}, "bicubic": {"psnr": 28.4}}}
    >>> print(summary_table({"Set5_x4": r}))
    set     | n | psnr model | psnr bicubic
    --------+---+------------+-------------
    Set5_x4 | 5 | 31.20      | 28.40
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["HEADLINE_METRICS", "format_table", "method_means", "summary_table"]

#: The columns :func:`summary_table` shows per task (a result's ``task``); other tasks show
#: every metric of their means.
HEADLINE_METRICS: dict[str, tuple[str, ...]] = {
    "sr": ("psnr", "ssim", "grad_ratio"),
    "colorize": ("psnr", "ssim", "colorfulness_ratio"),
    "inpaint": ("psnr", "hole_psnr"),
    "generation": ("fid", "kid", "confident_share", "class_entropy"),
    "style": ("kid",),
}


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"
    return str(value)


def _table(header: Sequence[str], lines: Sequence[Sequence[object]]) -> list[str]:
    cells = [[str(h) for h in header]] + [[_fmt(v) for v in line] for line in lines]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    out = [" | ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    out.insert(1, "-+-".join("-" * w for w in widths))
    return out


def format_table(result: Mapping[str, object]) -> str:
    """A plain-text table of a protocol result: means per method, then per bucket if any.

    Args:
        result: a dict returned by one of the protocols (see :func:`method_means`).

    Returns:
        The table as a string (no trailing newline).
    """
    means = method_means(result)
    metrics: list[str] = []
    for per_method in means.values():
        metrics += [k for k in per_method if k not in metrics and k != "count"]
    lines = [f"{result.get('task', 'result')}: {_count(result)} images"]
    lines += _table(["method", *metrics], [[m, *(means[m].get(k) for k in metrics)] for m in means])
    buckets: Mapping[str, Mapping[str, Mapping[str, object]]] | None = result.get("buckets")  # type: ignore[assignment]
    if buckets:
        keys = ["count", "psnr", "ssim", "hole_psnr", "hole_l1"]
        body = [
            [label, method, *(vals.get(k) for k in keys)]
            for label, per_method in buckets.items()
            for method, vals in per_method.items()
        ]
        lines += ["", "by hole ratio:"] + _table(["bucket", "method", *keys], body)
    return "\n".join(lines)


def _count(result: Mapping[str, object]) -> object:
    """Images scored: ``count``, else the length of a per-image list (``images``), else ``-``."""
    if result.get("count") is not None:
        return result["count"]
    images = result.get("images")
    return len(images) if isinstance(images, Sequence) else "-"


def method_means(result: Mapping[str, object]) -> dict[str, Mapping[str, object]]:
    """``method -> metric -> mean`` of a result, the model first.

    A result whose ``mean`` is a flat ``metric -> value`` mapping, or that has no ``mean`` but
    numbers at its top level (the damage protocol's ``iou``, ``f1``...), is one method, ``model``.
    """
    means = result.get("mean")
    if isinstance(means, Mapping) and means:
        if all(isinstance(v, Mapping) for v in means.values()):
            order = [m for m in result.get("methods") or [] if m in means]  # type: ignore[union-attr]
            order += [m for m in means if m not in order]
            return {m: means[m] for m in order}
        return {"model": means}
    flat = {
        k: v
        for k, v in result.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "count"
    }
    return {"model": flat}


def summary_table(results: Mapping[str, Mapping[str, object]]) -> str:
    """One model on several data sets: a row per set, ``metric method`` columns, then the bars.

    Args:
        results: set label -> a protocol result (see :func:`method_means` for the shapes read).

    Returns:
        The table as a string (no trailing newline); each result's scalar ``bars`` (the task's
        pass / fail checks, e.g. colorize's PSNR gain over grey) follow it, one line per set.
    """
    columns: list[tuple[str, str]] = []
    for result in results.values():
        means = method_means(result)
        wanted = HEADLINE_METRICS.get(str(result.get("task")))
        for metric in wanted or [k for v in means.values() for k in v if k != "count"]:
            for method, vals in means.items():
                if metric in vals and (metric, method) not in columns:
                    columns.append((metric, method))
    body = []
    for label, result in results.items():
        means = method_means(result)
        cells = [means.get(method, {}).get(metric) for metric, method in columns]
        body.append([label, _count(result), *cells])
    lines = _table(["set", "n", *(f"{metric} {method}" for metric, method in columns)], body)
    for label, result in results.items():
        bars = result.get("bars")
        if isinstance(bars, Mapping) and bars:
            scalars = [f"{k} {_fmt(v)}" for k, v in bars.items() if not isinstance(v, Mapping)]
            lines.append(f"{label}: " + ", ".join(scalars))
    return "\n".join(lines)
