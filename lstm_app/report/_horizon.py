"""The second verdict set (see `compare`): each model against the best simple baseline over
horizons 1..H together, as the first set judges the next step.

A run's 1–H RMSE pools the squared errors of its H-step forecasts from every test window
(`outcome.Horizon.pooled`); a baseline's is pooled the same way on that run's origin. Only runs
scored to the experiment's full horizon count (a direct model with a shorter head, or a
recursive one with extra input columns, has no 1–H verdict).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

from ..outcome import Horizon, RunOutcome, RunStatus
from ._baselines import BASELINES, Baselines, Standing, beats, headline

__all__ = ["HorizonVerdicts", "horizon_verdicts"]


class HorizonVerdicts:
    """Per model index: its mean 1–H RMSE, whether it beats the best baseline over 1–H (None:
    undecided or not scored), and the 1–H baselines; `steps` is H (0 when nothing was scored)."""

    def __init__(self, steps: int, base: Baselines | None, rmse: dict[int, float | None],
                 beats_h: dict[int, bool | None]) -> None:
        self.steps, self.base, self.rmse, self.beats = steps, base, rmse, beats_h

    @property
    def scored(self) -> bool:
        return self.steps > 1 and self.base is not None and self.base.best is not None

    def headline(self, names: Sequence[str], runs: Mapping[int, int], decimals: int, over: str, unit: str) -> str:
        """The 1–H line, e.g. "Over 1–12 steps: relu beats the best baseline, drift (RMSE 3.2) …"."""
        if not self.scored or self.base is None:
            return ""
        standings = [Standing(name, runs.get(i, 0) if self.rmse.get(i) is not None else 0, self.beats.get(i),
                              self.rmse.get(i)) for i, name in enumerate(names)]
        line = headline(standings, self.base, decimals, over, unit)
        if line.startswith(("No ", "Whether ")):  # the line's own words (a model's name keeps its case)
            line = line[:1].lower() + line[1:]
        return f"Over 1–{self.steps} steps: " + line


def _block(run: RunOutcome | None, steps: int) -> Horizon | None:
    if run is None or run.status != RunStatus.DONE or run.test is None or run.test.horizon is None:
        return None
    return run.test.horizon


def _cut(block: Horizon | None, steps: int) -> float | None:
    """The 1..`steps` RMSE of a block that reaches that far (None otherwise)."""
    if block is None or len(block.rmse) < steps:
        return None
    return Horizon(block.rmse[:steps], block.n[:steps]).pooled()


def horizon_verdicts(steps: int, runs: Mapping[int, Mapping[tuple[int, int], RunOutcome | None]],
                     confidence: float) -> HorizonVerdicts:
    """The 1–`steps` verdicts of every model from its runs by (seed, origin)."""
    if steps <= 1:
        return HorizonVerdicts(0, None, {}, {})
    per_origin: dict[str, dict[int, float]] = {name: {} for name in BASELINES}
    for mine in runs.values():
        for (_, origin), run in mine.items():
            block = _block(run, steps)
            for name, key in BASELINES.items():
                value = _cut(block.baselines.get(key) if block else None, steps)
                if value is not None:
                    per_origin[name].setdefault(origin, value)
    origins = {o for values in per_origin.values() for o in values}
    found = {name: statistics.fmean(v.values()) if v and set(v) == origins else None
             for name, v in per_origin.items()}
    scored = {k: v for k, v in found.items() if v is not None}
    best = min(scored, key=lambda k: scored[k]) if scored else None
    base = Baselines(found, best, found.get(best) if best else None,
                     {k: v for k, v in per_origin.items() if found.get(k) is not None})
    rmse: dict[int, float | None] = {}
    verdicts: dict[int, bool | None] = {}
    for i, mine in runs.items():
        pairs = [(value, origin) for (_, origin), run in mine.items()
                 if (value := _cut(_block(run, steps), steps)) is not None]
        rmse[i] = statistics.fmean(v for v, _ in pairs) if pairs else None
        verdicts[i] = beats(pairs, base, confidence)[1] if pairs else None
    return HorizonVerdicts(steps, base, rmse, verdicts)
