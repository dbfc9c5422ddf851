"""Rolling-origin backtest summary: where each origin's test period lies, and RMSE by horizon.

Every run forecasts its test period twice: one step ahead from actual history (what the metrics
score) and recursively from the period's start, each prediction fed back as the next input
(`TestForecast.recursive`, entry h − 1 being h steps ahead). `backtest` pools the recursive
errors of every finished run of a model over its seeds and origins into an RMSE per horizon,
beside the naive forecast's (the last value before the test period, held flat).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..num import finite_or_none
from ..outcome import Label, RunOutcome, RunStatus
from ..spec import ExperimentSpec, RunKey
from . import stats

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
    the RMSE at each horizon h = 1 .. `horizons` per model and for the naive forecast (None
    where no run had a finite recursive forecast), with how many forecasts each pools."""

    count: int = 1
    origins: tuple[OriginInfo, ...] = ()
    horizons: int = 0
    rmse_by_horizon: dict[str, list[float | None]] = field(default_factory=dict)
    forecasts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return stats.json_dict({
            "count": self.count, "origins": [o.to_dict() for o in self.origins], "horizons": self.horizons,
            "rmse_by_horizon": self.rmse_by_horizon, "forecasts": self.forecasts,
        })


def backtest(spec: ExperimentSpec, outcomes: Mapping[RunKey, RunOutcome]) -> Backtest:
    """Summarize the origins and horizons of `outcomes`, keyed by (model index, seed, origin)."""
    done = {key: o for key, o in outcomes.items() if o.status == RunStatus.DONE and o.test is not None}
    origins: dict[int, OriginInfo] = {}
    for (_, _, origin), o in sorted(done.items()):
        if origin not in origins and o.regions is not None and o.test is not None and o.test.time:
            r = o.regions
            origins[origin] = OriginInfo(origin, r.test_start, o.test.time[-1], r.n_train, r.n_val, r.n_test)
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
