"""``restore eval --model NAME --data DIR``: a trained model scored in its task's protocol."""

from __future__ import annotations

from typing import Any

from restore.api import Restorer
from restore.tasks import task_class


def evaluate_model(
    name_or_path: str, data_dir: str, *, device: str | None = None
) -> dict[str, Any]:
    """Load a model and run its task's evaluation protocol on ``data_dir`` (see ``Task.evaluate``)."""
    restorer = Restorer.from_pretrained(name_or_path, device=device)
    result = task_class(restorer.card["task"]).evaluate(
        restorer.run_tensor, data_dir, restorer.card
    )
    return {"model": restorer.card.get("name", str(name_or_path)), "data": str(data_dir), **result}
