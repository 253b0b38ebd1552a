"""``restore relay``: one leg of the training relay that makes the shipped models better each session.

A leg, for each model picked:

1. **pick**: every model in ``configs/relay.yaml`` has a headline metric, a trivial baseline and a
   target with its source. Its *remaining share* is ``(target - value) / (target - baseline)``
   (1 = no better than the baseline, 0 = at the target), read from its card. The largest shares go
   first, as many as the time budget holds (each leg's time is estimated from the card's last leg).
2. **train**: ``restore train RECIPE --from NAME`` (a fresh optimiser and warm-up on the shipped
   weights), one model at a time with every core: on a 2-core CPU parallel runs thrash. Each leg
   gets what is left of the budget less the later legs' planned time (the budget is one
   deadline: :func:`leg_share`) as ``train.max_seconds``: at the end of its warm-up it
   re-plans its steps at the pace it runs at now, and past its share it stops (a leg run beside
   other work once took twice the card's pace: :mod:`restore.train_clock`). Each leg
   draws its own data seed (:func:`leg_seed`, written into the leg's command on the card): with
   the recipe's fixed seed a leg that was not shipped was repeated bit for bit by the next session
   (face, sessions 12 and 13: the same +2.211 dB twice), and a shipped one met the same batches
   in the same order again. Each refused leg lowers the learning rates of the model's later legs
   (:func:`cooled_lrs`, the card's ``relay.cooling``): the recipe's warm-up to its full rate
   throws a model near its optimum out of it, and a short leg does not bring it back
   (inpainting: three legs in a row from leg 12 refused, sessions 15 and 16; the fourth, at 1/8
   of the rates, gained).
3. **judge**: the new weights and the shipped ones are scored by the task's protocol in the same
   run. A leg ships only if its headline metric is higher and no guard set lost more than
   ``GUARD_DB``; or, where its row has a :class:`Trade`, if that guard rose enough while the
   headline fell a little (the detector: more hand-labelled real damage found for a little of the
   synthetic headline).
4. **ship**: weights, card (legs, totals, summary metrics, ``runtime.sha256``; the card format of
   :mod:`restore.core.card`, no machine paths), the full evaluation in
   ``docs/metrics/<name>-relay.json`` and the relay table of ``docs/BENCHMARKS.md``.

Nothing here is specific to the CPU: a run folder trained elsewhere (the GPU call) is judged and
shipped by :func:`judge_and_ship` the same way.
"""

from __future__ import annotations

import json
import logging
import math
import shlex
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml

from restore.config import load_config
from restore.continuation import StartWeights, prior_legs, totals
from restore.core.atomic import atomic_write_bytes, atomic_write_json
from restore.core.card import runtime, split_rows, strip_machine_paths, upgrade_card
from restore.core.checkpoint import load_tensors, save_tensors, sha256_file, to_float16
from restore.errors import ConfigError
from restore.models import SHIPPED, WEIGHTS_DIR, read_card, resolve
from restore.relay_scoring import (
    SCORERS,
    Score,
)
from restore.runtime import pick_device
from restore.train import train

log = logging.getLogger(__name__)

#: A guard set (every data set after the first) may lose at most this much, in the metric's unit.
GUARD_DB = 0.05
#: A leg whose time is cut below this share of its plan by the legs before it (their overrun,
#: their scoring) is skipped: the budget is a deadline for the whole relay, not per leg.
MIN_SHARE = 0.25
#: A leg never gets fewer steps than this when the budget shortens it (below it, skip the model).
MIN_STEPS = 300
#: After each refused leg, that model's later legs train at this share of the learning rates
#: before (:func:`cooled_lrs`) ...
COOLING = 0.5
#: ... down to at most this many halvings.
MAX_COOLING = 3


@dataclass(frozen=True)
class Trade:
    """A leg whose headline fell by at most ``cost`` (and stays at least ``floor``) still ships
    when its guard ``guard`` rose by at least ``gain``, every other guard passing as usual: the
    detector's headline is synthetic damage, and a leg that finds more of the hand-labelled real
    damage for a little of it is what a user of real prints wants (leg 15, shipped by hand)."""

    guard: str
    gain: float
    cost: float
    floor: float = -math.inf

    def as_dict(self) -> dict[str, Any]:
        """The trade as the table writes it (no floor when it has none)."""
        out: dict[str, Any] = {"guard": self.guard, "gain": self.gain, "cost": self.cost}
        return out if math.isinf(self.floor) else {**out, "floor": self.floor}

    def carries(self, new: Score, old: Score) -> bool:
        """Whether ``new`` ships on this trade against ``old`` (the guards aside)."""
        if self.guard not in new.guards or self.guard not in old.guards:
            return False
        return (
            new.guards[self.guard] >= old.guards[self.guard] + self.gain
            and new.value >= old.value - self.cost
            and new.value >= self.floor
        )


@dataclass(frozen=True)
class Target:
    """One row of ``configs/relay.yaml`` (see the comments there)."""

    name: str
    recipe: str
    steps: int
    scorer: str
    data: tuple[str, ...]
    metric: str
    baseline: float
    target: float
    source: str
    set: tuple[str, ...] = ()
    guard_tolerance: float = 0.05  # how much a guard set may lose, in the metric's unit
    # a guard at or above its floor passes however much it lost (the issue's own bar for it)
    guard_floors: tuple[tuple[str, float], ...] = ()
    # a second way to ship (:class:`Trade`): a guard that rose enough carries a leg whose headline
    # fell a little
    trade: Trade | None = None

    def remaining(self, value: float | None) -> float:
        """Share of the way from baseline to target still to go (1 when unmeasured)."""
        if value is None:
            return 1.0
        return (self.target - value) / (self.target - self.baseline)


def load_targets(path: str | Path, root: str | Path | None = None) -> dict[str, Target]:
    """Read the relay table; relative recipe and data paths are taken from ``root`` (default: the
    table's repository, i.e. the folder above ``configs/``).

    Raises:
        ConfigError: a missing or unknown key, an unknown model or scorer, target == baseline.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"relay table not found: {path}")
    root = Path(root) if root is not None else path.resolve().parent.parent
    raw = yaml.safe_load(path.read_text()) or {}
    out: dict[str, Target] = {}
    for name, row in (raw.get("models") or {}).items():
        if name not in SHIPPED:
            raise ConfigError(f"{path}: {name!r} is not a shipped model ({', '.join(SHIPPED)})")
        known = {f for f in Target.__dataclass_fields__ if f != "name"}
        bad = set(row) - known
        if bad:
            raise ConfigError(f"{path}: models.{name}: unknown keys {sorted(bad)}")
        missing = known - set(row) - {"set", "guard_tolerance", "guard_floors", "trade"}
        if missing:
            raise ConfigError(f"{path}: models.{name}: missing keys {sorted(missing)}")
        if row["scorer"] not in SCORERS:
            raise ConfigError(
                f"{path}: models.{name}.scorer {row['scorer']!r} not in {list(SCORERS)}"
            )
        if float(row["target"]) == float(row["baseline"]):
            raise ConfigError(f"{path}: models.{name}: target equals baseline")
        out[name] = Target(
            name=name,
            recipe=str(root / row["recipe"]),
            steps=int(row["steps"]),
            scorer=row["scorer"],
            data=tuple(str(root / d) for d in row["data"]),
            metric=str(row["metric"]),
            baseline=float(row["baseline"]),
            target=float(row["target"]),
            source=str(row["source"]),
            set=tuple(row.get("set") or ()),
            guard_tolerance=float(row.get("guard_tolerance", GUARD_DB)),
            guard_floors=tuple((k, float(v)) for k, v in (row.get("guard_floors") or {}).items()),
            trade=load_trade(path, name, row.get("trade")),
        )
    return out


def load_trade(path: Path, name: str, row: Any) -> Trade | None:
    """A table row's ``trade:`` (``{guard, gain, cost[, floor]}``) or None.

    Raises:
        ConfigError: not a mapping, a missing or unknown key, a negative gain or cost.
    """
    if row is None:
        return None
    where = f"{path}: models.{name}.trade"
    if not isinstance(row, Mapping):
        raise ConfigError(f"{where} must be a mapping of guard, gain, cost, floor")
    keys = {"guard", "gain", "cost", "floor"}
    if set(row) - keys or {"guard", "gain", "cost"} - set(row):
        raise ConfigError(
            f"{where}: needs guard, gain, cost (and may have floor), got {sorted(row)}"
        )
    trade = Trade(
        str(row["guard"]),
        float(row["gain"]),
        float(row["cost"]),
        float(row.get("floor", -math.inf)),
    )
    if trade.gain <= 0 or trade.cost < 0:
        raise ConfigError(f"{where}: gain must be > 0 and cost >= 0")
    return trade


# ---------------------------------------------------------------------------------------------
# Pick, train, judge, ship
# ---------------------------------------------------------------------------------------------


def card_value(card: Mapping[str, Any]) -> float | None:
    """The headline value the relay last recorded in a card (None before the first relay leg)."""
    rel = card.get("relay") or {}
    v = rel.get("value")
    return float(v) if v is not None else None


def seconds_per_step(card: Mapping[str, Any], gpu: bool = False) -> float:
    """Wall seconds per step of the card's most recent leg with both numbers on the same kind of
    machine (a CUDA leg for ``gpu``, another one for the CPU); 1.0 if none. A GPU leg says
    nothing of the CPU's pace: sr-x4's H200 leg (0.04 s a step) planned a 12,000-step CPU leg at
    9 minutes that ran at about 0.5 s a step."""
    for leg in reversed(prior_legs(card)):
        on_gpu = "CUDA" in str(leg.get("hardware", ""))
        if leg.get("steps") and leg.get("seconds") and on_gpu == gpu:
            return float(leg["seconds"]) / int(leg["steps"])
    return 1.0


@dataclass(frozen=True)
class Planned:
    """A leg the relay will run: model, steps (maybe shortened), estimated seconds, share left."""

    name: str
    steps: int
    seconds: float
    remaining: float


def plan(
    targets: Mapping[str, Target],
    cards: Mapping[str, Mapping[str, Any]],
    budget_s: float,
    only: Sequence[str] = (),
    gpu: bool = False,
) -> list[Planned]:
    """The legs to run, largest remaining share first, within ``budget_s`` wall seconds (paced
    by the cards' legs on the same kind of machine: ``gpu``, :func:`seconds_per_step`).

    A leg that does not fit whole is shortened to the time left (never below ``MIN_STEPS``).
    """
    names = [n for n in targets if not only or n in only]
    order = sorted(names, key=lambda n: -targets[n].remaining(card_value(cards[n])))
    out, left = [], float(budget_s)
    for n in order:
        t = targets[n]
        sps = seconds_per_step(cards[n], gpu)
        steps = min(t.steps, int(left / sps))
        if steps < min(MIN_STEPS, t.steps):
            continue
        out.append(Planned(n, steps, steps * sps, t.remaining(card_value(cards[n]))))
        left -= steps * sps
    return out


def judge(
    new: Score,
    old: Score,
    tolerance: float = GUARD_DB,
    floors: Mapping[str, float] | None = None,
    trade: Trade | None = None,
) -> tuple[bool, str]:
    """Ship only a higher headline value with every guard within ``tolerance`` of the old one or
    at least at its floor (``floors``: the bar the issue sets for that guard); or, with ``trade``,
    a headline that fell within the trade's cost when its guard rose by the trade's gain."""
    why = f"headline {old.value:.4f} -> {new.value:.4f}"
    if not new.value > old.value:
        if trade is None or not trade.carries(new, old):
            return False, f"headline {new.value:.4f} <= shipped {old.value:.4f}"
        g = trade.guard
        why += (
            f" (fell within {trade.cost:g}), carried by {g} {old.guards[g]:.4f} -> "
            f"{new.guards[g]:.4f} (gain >= {trade.gain:g})"
        )
    for k, v in new.guards.items():
        if k in (floors or {}) and v >= floors[k]:
            continue
        if k in old.guards and v < old.guards[k] - tolerance:
            return False, f"guard {k} fell {old.guards[k]:.4f} -> {v:.4f}"
    return True, why


def run_legs(run: str | Path, card: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The legs a run's weights card lists, its own last.

    Raises:
        ConfigError: none: the ``best.safetensors`` of a run stopped before its end has no leg
            (2026-12-02: judged, it shipped over the shipped card's last leg and took its metric).
    """
    legs = (card.get("training") or {}).get("legs") or []
    if not legs:
        raise ConfigError(
            f"{run}: its weights' card lists no training legs (a run stopped before its end "
            "leaves only best.safetensors): resume it to its end before judging it"
        )
    return list(legs)


def ship(
    run: str | Path,
    target: Target,
    new: Score,
    *,
    weights_dir: Path = WEIGHTS_DIR,
    metrics_dir: Path | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Copy a run's weights over the shipped model and write its card; return the card.
    ``note`` goes into the last leg's record (why it shipped, where a person decided).

    The card keeps the shipped card's description and notes, takes the run's runtime
    section (with the new SHA-256), config and legs (the last leg gets the headline value), and
    records the relay's metric, target and source. Where the scorer ran the task's own
    ``restore eval`` protocol (``new.evals``), those results (per-image rows left out) and the
    command that reproduces them replace the old weights' ``restore eval`` numbers. Machine paths
    are made relative.
    """
    st, run_card, _ = resolve(run)
    old = read_card(weights_dir / f"{target.name}.json")
    legs = [dict(leg) for leg in run_legs(run, run_card)]
    legs[-1]["metric"] = {
        target.metric: round(new.value, 4),
        **{k: round(v, 4) for k, v in new.guards.items()},
    }
    if note:
        legs[-1]["note"] = note
    tensors, _ = load_tensors(st)
    n_params = sum(
        int(t.numel()) for k, t in tensors.items() if t.is_floating_point() and "running_" not in k
    )
    dst = weights_dir / f"{target.name}.safetensors"
    atomic_write_bytes(dst, Path(st).read_bytes())  # shipped files are <= 16 MiB
    card = {k: v for k, v in old.items() if k not in ("metrics", "training", "file_bytes")}
    card.update(
        {
            "name": target.name,
            "description": old.get("description") or SHIPPED[target.name],
            "task": run_card["task"],
            "kind": "model",
            "runtime": {**runtime(run_card), "sha256": sha256_file(dst)},
            "parameters": n_params,
            "file_bytes": dst.stat().st_size,
            "training": {
                "recipe": Path(target.recipe)
                .relative_to(Path(target.recipe).parents[1])
                .as_posix(),
                "config": (run_card.get("training") or {}).get("config"),
                "legs": legs,
                "totals": totals(legs),
            },
            "metrics": {
                "headline": {target.metric: new.value, **new.guards},
                "detail": f"docs/metrics/{target.name}-relay.json",
                **eval_metrics(target, new),
                **new.card,
            },
            "relay": relay_section(target, new, cooling(old)),
        }
    )
    if card.get("note") and legs and "note" not in legs[0]:
        legs[0]["note"] = card.pop("note")  # it described the first leg's weights, not these
    card = strip_machine_paths(card)
    atomic_write_json(weights_dir / f"{target.name}.json", card)
    if metrics_dir is not None:
        detail = strip_machine_paths(new.results)
        atomic_write_json(metrics_dir / f"{target.name}-relay.json", detail)
    return card


def eval_metrics(target: Target, new: Score) -> dict[str, Any]:
    """A card's ``restore eval`` entries from a score: ``results`` by set label (rows left out)
    and the ``command`` that measured them; empty when the scorer did not run ``restore eval``."""
    if not new.evals:
        return {}
    data = " ".join(f"--data {d}" for d in target.data[: len(new.evals)])
    return {
        "command": f"restore eval --model {target.name} {data} --json FILE",
        "results": {k: split_rows(v)[0] for k, v in new.evals.items()},
    }


def relay_table(weights_dir: Path, targets: Mapping[str, Target]) -> str:
    """The Markdown table of every relay model's legs, totals and distance to its target."""
    lines = [
        "| model | legs | steps | train time | last leg on | headline metric | value | target (source) "
        "| remaining |",
        "|---|---:|---:|---:|---|---|---:|---|---:|",
    ]
    for n, t in targets.items():
        card = read_card(weights_dir / f"{n}.json")
        legs = prior_legs(card)
        tot = totals(legs)
        v = card_value(card)
        last = (legs or [{}])[-1].get("hardware") or "?"
        lines.append(
            f"| `{n}` | {tot['legs']} | {tot['steps']:,} | {tot['seconds'] / 60:.0f} min | {last} "
            f"| {t.metric} | "
            f"{'-' if v is None else f'{v:.2f}'} | {t.target:g} ({t.source.split(';')[0]}) | "
            f"{'-' if v is None else f'{t.remaining(v):.2f}'} |"
        )
    return "\n".join(lines)


BEGIN, END = "<!-- relay:begin -->", "<!-- relay:end -->"


def update_benchmarks(path: Path, table: str) -> None:
    """Replace the relay section of ``docs/BENCHMARKS.md`` (between markers), or append it."""
    text = path.read_text() if path.is_file() else ""
    block = f"{BEGIN}\n{table}\n{END}"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text += (
            "\n## Training relay\n\nEach shipped model's legs so far (`restore relay`; targets and "
            "sources in `configs/relay.yaml`). Remaining: share of the way from the trivial baseline "
            f"to the target still to go.\n\n{block}\n"
        )
    atomic_write_bytes(path, text.encode())


@dataclass
class LegReport:
    """What happened to one model in a relay leg."""

    name: str
    steps: int
    shipped: bool
    reason: str
    old: float | None = None
    new: float | None = None
    seconds: float = 0.0


def shipped_form(run: str | Path, shipped: Path) -> Path:
    """The run's weights as they would ship: where the shipped model is stored as float16 (the
    largest are, to keep a GPU call's working tree small: ``scripts/halve_weights.py``), a float16
    copy beside the run's weights (``model-float16.safetensors`` with its card); else the run's
    own weights. The judge scores this form, so the number shipped is the file shipped's."""
    st, card, _ = resolve(run)
    old, _ = load_tensors(shipped)
    if any(t.dtype == torch.float32 for t in old.values() if t.is_floating_point()):
        return Path(st)
    tensors, meta = load_tensors(st)
    if not any(t.dtype == torch.float32 for t in tensors.values()):
        return Path(st)
    dst = Path(st).with_name(f"{Path(st).stem}-float16.safetensors")
    save_tensors(dst, to_float16(tensors), meta)
    card = {**card, "runtime": {**runtime(card), "sha256": sha256_file(dst)}}
    atomic_write_json(dst.with_suffix(".json"), card)
    return dst


def judge_and_ship(
    run: str | Path,
    target: Target,
    *,
    weights_dir: Path = WEIGHTS_DIR,
    metrics_dir: Path | None = None,
    override: str | None = None,
) -> LegReport:
    """Score a finished run and the shipped model side by side; ship the run if it is better.

    ``override``: ship it even when the judge would not, for this reason (a person's decision on
    evidence the scorer does not see, such as real prints judged by eye and by hand labels); the
    reason goes into the card's leg and the run's ``judge.json`` next to the judge's own verdict.
    """
    run_legs(run, resolve(run)[1])  # a run without its own leg cannot ship: say so before scoring
    scorer = SCORERS[target.scorer]
    shipped = weights_dir / f"{target.name}.safetensors"
    candidate = shipped_form(run, shipped)
    old = scorer(str(shipped), target.data)
    new = scorer(str(candidate), target.data)
    judged, why = judge(
        new, old, target.guard_tolerance, dict(target.guard_floors), trade=target.trade
    )
    forced = bool(override) and not judged
    if forced:
        why = f"{why}; shipped over the judge: {override}"
    ok = judged or forced
    log.info("relay %s: %s -> %s", target.name, why, "ship" if ok else "keep the shipped model")
    verdict = {
        "model": target.name,
        "metric": target.metric,
        "shipped": {"value": old.value, "guards": old.guards},
        "run": {"value": new.value, "guards": new.guards},
        "guard_tolerance": target.guard_tolerance,
        "guard_floors": dict(target.guard_floors),
        "trade": target.trade.as_dict() if target.trade else None,
        "ship": ok,
        "judged": judged,
        "reason": why,
    }
    if Path(run).is_dir():  # the numbers stay with the run, shipped or not
        atomic_write_json(Path(run) / "judge.json", verdict)
    if ok:
        # a leg that ships without a higher headline (forced, or on a trade) says why on the card
        note = why if forced or not new.value > old.value else None
        ship(candidate, target, new, weights_dir=weights_dir, metrics_dir=metrics_dir, note=note)
    else:  # the shipped model's value as it scores today (the pipeline around it may have moved)
        record_value(target.name, target, old, weights_dir, refused=True)
    return LegReport(target.name, 0, ok, why, old.value, new.value)


def architecture_overrides(card: Mapping[str, Any]) -> list[str]:
    """``--set`` strings that make a recipe build the card's generator (a model shipped from a run
    with another architecture, e.g. the GPU call's larger SR net, keeps training as itself)."""
    rt = runtime(upgrade_card(card))
    if "networks" in rt or "generator" not in rt:
        return []
    out = [f"model.generator={rt['generator']}"]
    for k, v in (rt.get("generator_args") or {}).items():
        out.append(f"model.generator_args.{k}={json.dumps(v)}")
    return out


def relay_section(target: Target, score: Score, cool: int = 0) -> dict[str, Any]:
    """A card's ``relay`` section: the headline value, guards, baseline, target and its source,
    and the learning-rate cooling of the model's next leg (``cool``, kept only when set)."""
    return {
        "metric": target.metric,
        "value": score.value,
        "guards": score.guards,
        "baseline": target.baseline,
        "target": target.target,
        "source": target.source,
        "remaining": round(target.remaining(score.value), 4),
        **({"cooling": cool} if cool else {}),
    }


def record_value(
    name: str, target: Target, score: Score, weights_dir: Path = WEIGHTS_DIR, refused: bool = False
) -> None:
    """Write a measured headline value into a shipped card's ``relay`` section (weights untouched),
    so the next :func:`plan` knows how far each model still has to go; with ``refused`` (a leg
    was not shipped), cool the model's later legs one step more (:func:`cooled_lrs`). The card
    is rewritten in the current format (:func:`restore.models.read_card` upgrades an older one)."""
    path = weights_dir / f"{name}.json"
    card = read_card(path)
    card["relay"] = relay_section(target, score, min(cooling(card) + int(refused), MAX_COOLING))
    atomic_write_json(path, strip_machine_paths(card))


def cooling(card: Mapping[str, Any]) -> int:
    """How many times the model's learning rates are halved for its next leg (the card's
    ``relay.cooling``; 0 when absent)."""
    return int((card.get("relay") or {}).get("cooling", 0))


def cooled_lrs(cfg: Any, card: Mapping[str, Any]) -> list[str]:
    """``--set`` strings for a leg's learning rates: the recipe's (``cfg.optim``) times
    :data:`COOLING` for each refused leg so far (the card's ``relay.cooling``, at most
    :data:`MAX_COOLING`); none for a model never refused. A shipped leg keeps the cooling: the
    rate that gained suits the model now, and the recipe's full rate is what threw it out (a
    step decay across legs).

    Example:
        >>> from types import SimpleNamespace as N
        >>> cfg = N(optim=N(lr_g=4e-4, lr_d=2e-4))
        >>> cooled_lrs(cfg, {"relay": {"cooling": 2}}), cooled_lrs(cfg, {"relay": {}})
        (['optim.lr_g=0.0001', 'optim.lr_d=5e-05'], [])
    """
    n = min(cooling(card), MAX_COOLING)
    if n <= 0:
        return []
    f = COOLING**n
    return [f"optim.lr_g={cfg.optim.lr_g * f:.6g}", f"optim.lr_d={cfg.optim.lr_d * f:.6g}"]


def leg_seed(now: float | None = None) -> int:
    """A data seed for a new leg: the time in seconds, modulo 10^6 (a leg a session, so two legs
    never share one by chance; the card's command records it, which keeps the leg reproducible).

    Example:
        >>> leg_seed(1_764_658_800.7)
        658800
    """
    return int(time.time() if now is None else now) % 1_000_000


def leg_share(left: float, planned: float, later: float) -> float | None:
    """Seconds a leg may train (its ``train.max_seconds``): what is ``left`` before the relay's
    deadline less the ``later`` legs' planned seconds, or None (skip it) when that is under
    :data:`MIN_SHARE` of its own ``planned`` seconds. A leg that runs faster than its card's
    pace trains all its steps in less; one that runs slower re-plans into its share.

    Example:
        >>> leg_share(600.0, 200.0, 300.0), leg_share(600.0, 400.0, 560.0)
        (300.0, None)
    """
    share = left - later
    return share if share >= planned * MIN_SHARE else None


def run_relay(
    targets: Mapping[str, Target],
    budget_s: float,
    *,
    only: Sequence[str] = (),
    out_dir: str | Path = "runs/relay",
    device: str | None = None,
    weights_dir: Path = WEIGHTS_DIR,
    metrics_dir: Path | None = None,
    benchmarks: Path | None = None,
    dry_run: bool = False,
    extra_set: Sequence[str] = (),
    seed: int | None = None,
) -> list[LegReport]:
    """One relay leg over the models that need it most (see the module docstring); ``seed`` is
    the legs' data seed (default: :func:`leg_seed`)."""
    cards = {n: dict(read_card(weights_dir / f"{n}.json")) for n in targets}
    for n in targets:  # a model never measured by the relay is measured first (cheap: eval only)
        if (not only or n in only) and card_value(cards[n]) is None:
            t = targets[n]
            score = SCORERS[t.scorer](str(weights_dir / f"{n}.safetensors"), t.data)
            log.info("relay %s: shipped model measured at %.4f (%s)", n, score.value, t.metric)
            cards[n]["relay"] = {"value": score.value}
            if not dry_run:
                record_value(n, t, score, weights_dir)
    legs = plan(targets, cards, budget_s, only, pick_device(device).type == "cuda")
    if dry_run:
        return [
            LegReport(
                p.name,
                p.steps,
                False,
                f"planned, ~{p.seconds / 60:.0f} min, remaining {p.remaining:.2f}",
            )
            for p in legs
        ]
    reports = []
    deadline = time.perf_counter() + budget_s
    for i, p in enumerate(legs):
        t = targets[p.name]
        t0 = time.perf_counter()
        left = deadline - t0
        share = leg_share(left, p.seconds, sum(q.seconds for q in legs[i + 1 :]))
        if share is None:
            reports.append(LegReport(p.name, 0, False, f"skipped: {left:.0f} s of the budget left"))
            continue
        arch = architecture_overrides(cards[p.name])
        sets = (
            *arch,
            *t.set,
            *cooled_lrs(load_config(t.recipe, [*arch, *t.set]), cards[p.name]),
            f"train.steps={t.steps}",
            f"train.max_seconds={max(1, round(share))}",
            f"train.seed={leg_seed() if seed is None else seed}",
        )
        cfg = load_config(
            t.recipe,
            [
                *sets,
                f"train.out_dir={out_dir}",
                "train.progress=false",
                *extra_set,
            ],
        )
        st = weights_dir / f"{p.name}.safetensors"
        start = StartWeights(path=st, card=cards[p.name], label=p.name)
        cmd = f"restore train configs/{Path(t.recipe).name} --from {p.name} " + " ".join(
            shlex.quote(f"--set={s}") for s in sets
        )
        res = train(cfg, device=device, init_from=start, command=cmd)
        rep = judge_and_ship(res.out_dir, t, weights_dir=weights_dir, metrics_dir=metrics_dir)
        rep.steps, rep.seconds = res.step, time.perf_counter() - t0
        reports.append(rep)
        if rep.shipped and benchmarks is not None:
            update_benchmarks(benchmarks, relay_table(weights_dir, targets))
    return reports
