"""The report of a folder run: what was written, skipped and refused (and why), and per-image notes.

``OUT_DIR/restore_report.json`` (atomic) lists every failure; under torchrun each rank writes
``restore_report.rank{r}.json`` and rank 0 merges them after a barrier (:func:`merge_reports`).
"""

from __future__ import annotations

import json
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPORT_NAME = "restore_report.json"


@dataclass
class FolderReport:
    """What a folder run did; ``failed`` holds ``{"input": rel, "reason": ...}`` entries."""

    in_dir: str
    out_dir: str
    model: str
    total: int = 0  # image files handled by this process (all ranks once merged)
    written: int = 0
    skipped: int = 0  # outputs that already existed
    failed: list[dict[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # files without an image suffix
    notes: list[dict[str, Any]] = field(default_factory=list)  # per image: {"input": rel, ...}
    model_loaded: bool = False
    dry_run: bool = False
    seconds: float = 0.0
    world_size: int = 1
    planned: list[dict[str, str]] = field(default_factory=list)  # dry run: what would be done

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["failed"] = sorted(self.failed, key=lambda f: f["input"])
        d["notes"] = sorted(self.notes, key=lambda f: f["input"])
        return d


def previous_notes(out_root: Path) -> list[dict[str, Any]]:
    """The ``notes`` of an earlier report in ``out_root`` (none if absent or unreadable)."""
    try:
        notes = json.loads((out_root / REPORT_NAME).read_text(encoding="utf-8")).get("notes", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [n for n in notes if isinstance(n, dict)] if isinstance(notes, list) else []


def merge_reports(rep: FolderReport, out_root: Path, rank: int, world: int) -> FolderReport:
    """Write this rank's report, then (rank 0) merge every rank's into ``REPORT_NAME``; every
    rank must call it (two barriers). Returns the merged report on rank 0, ``rep`` elsewhere."""
    import torch.distributed as tdist

    from restore.core.checkpoint import atomic_write_json

    atomic_write_json(out_root / f"restore_report.rank{rank}.json", rep.to_json())
    tdist.barrier()
    if rank == 0:
        merged = rep
        for r in range(1, world):
            part = out_root / f"restore_report.rank{r}.json"
            d = json.loads(part.read_text(encoding="utf-8"))
            merged.total += d["total"]
            merged.written += d["written"]
            merged.skipped += d["skipped"]
            merged.failed += d["failed"]
            merged.notes += d.get("notes", [])
            merged.model_loaded |= d["model_loaded"]
            merged.seconds = max(merged.seconds, d["seconds"])
        atomic_write_json(out_root / REPORT_NAME, merged.to_json())
        for r in range(world):
            with suppress(OSError):
                (out_root / f"restore_report.rank{r}.json").unlink()
        rep = merged
    tdist.barrier()
    return rep
