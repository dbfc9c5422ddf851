"""Baselines first (see `compare`): the naive, seasonal-naive and drift forecasts' RMSE on the
test period, which of them is best, whether each model beats it, and the verdict's first line."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..outcome import RunOutcome
from . import stats

__all__ = ["BASELINES", "Baselines", "baselines", "beats", "headline", "seeds_to_resolve"]

# Baseline name -> the Metrics field with its RMSE (the runs of one split all share these values).
BASELINES: dict[str, str] = {"naive": "naive_rmse", "seasonal naive": "seasonal_rmse", "drift": "drift_rmse"}
MIN_SEEDS = 3
_Z_POWER = 0.8416  # one-sided z for 80% power


@dataclass(frozen=True)
class Baselines:
    """Each baseline's RMSE on the test period (None where it cannot be scored) and the best one."""

    rmse: dict[str, float | None]
    best: str | None
    best_rmse: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"rmse": dict(self.rmse), "best": self.best, "best_rmse": self.best_rmse}


def baselines(outcomes: Iterable[RunOutcome]) -> Baselines:
    """The baselines of an experiment's split, read from its runs' metrics."""
    found: dict[str, float | None] = dict.fromkeys(BASELINES)
    for o in outcomes:
        if o.metrics is None:
            continue
        for name, key in BASELINES.items():
            if found[name] is None:
                found[name] = stats.finite_or_none(o.metrics.get(key))
    scored = {k: v for k, v in found.items() if v is not None}
    best = min(scored, key=lambda k: scored[k]) if scored else None
    return Baselines(found, best, scored.get(best) if best else None)


def beats(rmse_per_seed: Sequence[float | None], base: Baselines,
          confidence: float = 0.95) -> tuple[stats.PairedDiff | None, bool | None]:
    """Model RMSE − best baseline RMSE per seed with its t-interval, and whether the model beats
    the baseline: True when the interval lies below 0, False above 0, None when undecided (it
    contains 0, or fewer than 3 seeds finished)."""
    if base.best_rmse is None:
        return None, None
    diff = stats.paired_difference(list(rmse_per_seed), [base.best_rmse] * len(rmse_per_seed), confidence)
    if diff.n < MIN_SEEDS or diff.low is None or diff.high is None:
        return diff, None
    if diff.high < 0:
        return diff, True
    if diff.low > 0:
        return diff, False
    return diff, None


def seeds_to_resolve(diff: stats.PairedDiff) -> int | None:
    """About how many paired seeds a two-sided 95% test needs to detect a difference of this
    mean and spread with 80% power (normal approximation); None when there is nothing to scale."""
    if diff.mean is None or diff.sd is None or diff.mean == 0 or diff.sd == 0:
        return None
    return max(MIN_SEEDS, math.ceil(((1.96 + _Z_POWER) * diff.sd / abs(diff.mean)) ** 2))


def headline(verdicts: Sequence[tuple[str, int, bool | None]], base: Baselines, decimals: int) -> str:
    """The first verdict line: does any model beat the best baseline? `verdicts` holds (model
    name, seeds finished, beats) for every model."""
    if base.best is None:
        return ("No baseline could be scored on this test period, so nothing says whether the models "
                "beat a simple forecast.")
    best = f"the best baseline, {base.best} (RMSE {stats.format_number(base.best_rmse, decimals)})"
    finished = [(n, k, b) for n, k, b in verdicts if k]
    if not finished:
        return f"No model has a finished seed yet; {best} is the forecast to beat."
    winners = [n for n, _, b in finished if b is True]
    if winners:
        names = ", ".join(winners)
        return (f"{names} {'beats' if len(winners) == 1 else 'beat'} {best}: the 95% interval of RMSE minus "
                "the baseline's over the seeds lies entirely below 0.")
    if all(b is False for _, _, b in finished):
        return (f"No model beats {best}: every model's RMSE is higher, so the comparison of "
                "activations below is between models that lose to a simple forecast on this data.")
    few = [n for n, k, _ in finished if k < MIN_SEEDS]
    if few and len(few) == len(finished):
        return (f"Whether any model beats {best} cannot be told from fewer than {MIN_SEEDS} finished seeds "
                "per model; train more seeds.")
    return (f"No model is clearly better than {best}: the closest are within seed-to-seed noise of it, "
            "so treat the differences between activations below with care.")
