"""Rolling-origin backtest summary: where each origin's test period lies, and RMSE by horizon.

Every run forecasts one step ahead from actual history (what the metrics score) and H steps
ahead from every test window (`TestForecast.horizon`, see `lstm_app.horizons`), beside the
forecasters of `report.forecasters`. `backtest` pools each model's squared errors at each
horizon over its runs × origins × windows into an RMSE per horizon and one over 1..H, and the
forecasters' the same way over the origins (under their keys: "naive", "seasonal", "drift",
"ets", "arima", "theta"). Results written before the horizon block pool the one recursive path
from each test period's start (`TestForecast.recursive`) as they always did.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..num import finite_or_none
from ..outcome import Horizon, Label, RunOutcome, RunStatus
from ..spec import ExperimentSpec, RunKey
from . import stats
from .forecasters import FORECASTERS

__all__ = ["NAIVE", "Backtest", "OriginInfo", "backtest"]

NAIVE = "naive (last value)"


@dataclass(frozen=True)
class OriginInfo:
    """One forecast origin (0 = the oldest): its test period and its window counts."""

    index: int
    test_start: Label
    test_end: Label
    n_train: int
    n_val: int
    n_test: int

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "test_start": self.test_start, "test_end": self.test_end,
                "n_train": self.n_train, "n_val": self.n_val, "n_test": self.n_test}


@dataclass(frozen=True)
class Backtest:
    """The origins of an experiment (`count` planned; `origins` those with a finished run) and
    the RMSE at each horizon h = 1 .. `horizons` per model, for the naive forecast (`NAIVE`) and
    for each forecaster key in `baselines` (None where nothing finite was scored), with how many
    runs each pools; `rmse_h`, the RMSE over horizons 1..H together. A forecaster key that is also
    a model's name is left out (the model keeps its line)."""

    count: int = 1
    origins: tuple[OriginInfo, ...] = ()
    horizons: int = 0
    rmse_by_horizon: dict[str, list[float | None]] = field(default_factory=dict)
    forecasts: dict[str, int] = field(default_factory=dict)
    rmse_h: dict[str, float | None] = field(default_factory=dict)
    baselines: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = {"count": self.count, "origins": [o.to_dict() for o in self.origins], "horizons": self.horizons,
               "rmse_by_horizon": self.rmse_by_horizon, "forecasts": self.forecasts}
        if self.rmse_h:
            out.update(rmse_h=self.rmse_h, baselines=list(self.baselines))
        return stats.json_dict(out)


def backtest(spec: ExperimentSpec, outcomes: Mapping[RunKey, RunOutcome]) -> Backtest:
    """Summarize the origins and horizons of `outcomes`, keyed by (model index, seed, origin)."""
    done = {key: o for key, o in outcomes.items() if o.status == RunStatus.DONE and o.test is not None}
    origins: dict[int, OriginInfo] = {}
    for (_, _, origin), o in sorted(done.items()):
        if origin not in origins and o.regions is not None and o.test is not None and o.test.time:
            r = o.regions
            origins[origin] = OriginInfo(origin, r.test_start, o.test.time[-1], r.n_train, r.n_val, r.n_test)
    if any(o.test is not None and o.test.horizon is not None for o in done.values()):
        return _pooled(spec, done, tuple(origins[k] for k in sorted(origins)))
    horizons = max((len(o.test.recursive) for o in done.values() if o.test is not None), default=0)
    table: dict[str, list[float | None]] = {}
    counts: dict[str, int] = {}
    for i, model in enumerate(spec.models):
        runs = [o for (m, _, _), o in done.items() if m == i]
        table[model.name], counts[model.name] = _by_horizon(
            [(list(o.test.recursive), list(o.test.actual)) for o in runs if o.test is not None and o.test.recursive],
            horizons)
    first_of_origin: dict[int, RunOutcome] = {}
    for (_, _, origin), o in sorted(done.items()):
        first_of_origin.setdefault(origin, o)
    naive = [(([o.test.naive[0]] * len(o.test.actual)) if o.test.naive else [], list(o.test.actual))
             for o in first_of_origin.values() if o.test is not None]
    table[NAIVE], counts[NAIVE] = _by_horizon([p for p in naive if p[0]], horizons)
    return Backtest(spec.backtest.origins, tuple(origins[k] for k in sorted(origins)), horizons, table, counts)


def _by_horizon(pairs: list[tuple[list[Any], list[Any]]], horizons: int) -> tuple[list[float | None], int]:
    """RMSE at each horizon over the (forecast, actual) pairs, and how many pairs counted."""
    squares: list[list[float]] = [[] for _ in range(horizons)]
    used = 0
    for forecast, actual in pairs:
        errors = [(f, a) for f, a in zip(forecast, actual, strict=False)]
        if not errors:
            continue
        used += 1
        for h, (f, a) in enumerate(errors[:horizons]):
            fv, av = finite_or_none(f), finite_or_none(a)
            if fv is not None and av is not None:
                squares[h].append((fv - av) ** 2)
    return [math.sqrt(sum(sq) / len(sq)) if sq else None for sq in squares], used


def _pooled(spec: ExperimentSpec, done: Mapping[RunKey, RunOutcome], origins: tuple[OriginInfo, ...]) -> Backtest:
    """`backtest` from the runs' horizon blocks: squared errors pooled over runs, origins and
    test windows (each horizon's RMSE weighted by how many forecasts it scored)."""
    scored = {key: o.test.horizon for key, o in done.items() if o.test is not None and o.test.horizon is not None}
    table: dict[str, list[float | None]] = {}
    counts: dict[str, int] = {}
    for i, model in enumerate(spec.models):
        found = [h for (m, _, _), h in scored.items() if m == i and h.rmse]
        table[model.name], counts[model.name] = _pool(found), len(found)
    per_origin: dict[int, Horizon] = {}
    for (_, _, origin), h in sorted(scored.items()):
        per_origin.setdefault(origin, h)
    names = {m.name for m in spec.models}
    keys = [f.key for f in FORECASTERS if f.key not in names]
    for key in keys:
        found = [b for h in per_origin.values() if (b := h.baselines.get(key)) is not None]
        if found and len(found) == len(per_origin):
            table[key], counts[key] = _pool(found), len(found)
    if "naive" in table or "naive" in names:
        found = [b for h in per_origin.values() if (b := h.baselines.get("naive")) is not None]
        table[NAIVE], counts[NAIVE] = _pool(found), len(found)
    horizons = max((len(v) for v in table.values()), default=0)
    pooled = {model.name: _pooled_h([h for (m, _, _), h in scored.items() if m == i and h.rmse])
              for i, model in enumerate(spec.models)}
    for key in (*[k for k in keys if k in table], *([NAIVE] if NAIVE in table else [])):
        base = "naive" if key == NAIVE else key
        pooled[key] = _pooled_h([b for h in per_origin.values() if (b := h.baselines.get(base)) is not None])
    return Backtest(spec.backtest.origins, origins, horizons, table, counts, pooled,
                    tuple(k for k in keys if k in table))


def _pool(blocks: list[Horizon]) -> list[float | None]:
    """RMSE at each horizon over several blocks (runs or origins): mean of every squared error."""
    steps = max((len(b.rmse) for b in blocks), default=0)
    out: list[float | None] = []
    for h in range(steps):
        pairs = [(b.n[h], b.rmse[h]) for b in blocks if h < len(b.rmse)]
        if not pairs or any(r is None for _, r in pairs) or not sum(n for n, _ in pairs):
            out.append(None)
            continue
        out.append(math.sqrt(sum(n * r * r for n, r in pairs if r is not None) / sum(n for n, _ in pairs)))
    return out


def _pooled_h(blocks: list[Horizon]) -> float | None:
    """The RMSE over horizons 1..H of several blocks together (None when any is missing)."""
    if not blocks or any(b.pooled() is None for b in blocks):
        return None
    total = sum(sum(b.n) for b in blocks)
    return math.sqrt(sum((b.pooled() or 0.0) ** 2 * sum(b.n) for b in blocks) / total) if total else None
