"""Baselines first (see `compare`): the naive, seasonal-naive and drift forecasts' RMSE on the
test period, which of them is best, whether each model beats it, and the verdict's first line."""

from __future__ import annotations

import dataclasses
import functools
import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ..num import finite_or_none
from ..outcome import Metrics, RunOutcome
from . import stats
from .forecasters import FORECASTERS, label
from .metrics import mae, mfe

__all__ = ["BASELINES", "REFERENCES", "Baselines", "Standing", "baselines", "beats", "headline", "naive_row",
           "seeds_to_resolve"]

# Forecaster name -> its key in a run's `Metrics.baselines` (the runs of one split all share these
# values): the simple baselines, which `beats_naive` is about, and the statistical references.
BASELINES: dict[str, str] = {f.name: f.key for f in FORECASTERS if f.family == "baseline"}
REFERENCES: dict[str, str] = {f.name: f.key for f in FORECASTERS if f.family == "reference"}
MIN_SEEDS = 3
_Z_POWER = 0.8416  # one-sided z for 80% power


@dataclass(frozen=True)
class Baselines:
    """Each forecaster's RMSE on the test period — the mean over backtest origins — (None where
    it cannot be scored; a statistical reference no run was judged against is absent), the best
    simple baseline, the best statistical reference, and each one's RMSE per origin."""

    rmse: dict[str, float | None]
    best: str | None
    best_rmse: float | None
    per_origin: dict[str, dict[int, float]] | None = None
    best_reference: str | None = None
    best_reference_rmse: float | None = None

    def at(self, origin: int) -> float | None:
        """The best baseline's RMSE on one origin's test period."""
        if self.best is None:
            return None
        if self.per_origin is None:
            return self.best_rmse
        return self.per_origin.get(self.best, {}).get(origin)

    def references(self) -> Baselines:
        """The same scores with the best statistical reference as the one to beat (for `beats`)."""
        return dataclasses.replace(self, best=self.best_reference, best_rmse=self.best_reference_rmse)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rmse": dict(self.rmse), "best": self.best, "best_rmse": self.best_rmse}
        if self.best_reference is not None:
            out.update(best_reference=self.best_reference, best_reference_rmse=self.best_reference_rmse)
        if self.per_origin is not None and len({o for v in self.per_origin.values() for o in v}) > 1:
            out["per_origin"] = {name: [values[o] for o in sorted(values)] for name, values in self.per_origin.items()}
        return out


def baselines(outcomes: Iterable[RunOutcome] | Mapping[int, Iterable[RunOutcome]]) -> Baselines:
    """The baselines and references of an experiment, read from its runs' metrics: for each
    backtest origin (`outcomes` by origin; a plain iterable is one origin) the runs of that split
    share them. One counts only when it could be scored on every origin; its RMSE is the mean."""
    by_origin = outcomes if isinstance(outcomes, Mapping) else {0: outcomes}
    keys = {**BASELINES, **REFERENCES}
    per_origin: dict[str, dict[int, float]] = {name: {} for name in keys}
    for origin, runs in by_origin.items():
        for o in runs:
            if o.metrics is None:
                continue
            for name, key in keys.items():
                value = finite_or_none(o.metrics.baseline(key))
                if origin not in per_origin[name] and value is not None:
                    per_origin[name][origin] = value
    origins = {o for values in per_origin.values() for o in values}
    found: dict[str, float | None] = {
        name: statistics.fmean(values.values()) if values and set(values) == origins else None
        for name, values in per_origin.items() if name in BASELINES or values
    }
    best = _best(found, BASELINES)
    reference = _best(found, REFERENCES)
    return Baselines(found, best, found.get(best) if best else None,
                     {k: v for k, v in per_origin.items() if found.get(k) is not None},
                     reference, found.get(reference) if reference else None)


def _best(found: Mapping[str, float | None], names: Iterable[str]) -> str | None:
    scored = {k: v for k in names if (v := found.get(k)) is not None}
    return min(scored, key=lambda k: scored[k]) if scored else None


def beats(rmse_per_run: Sequence[float | None] | Sequence[tuple[float | None, int]], base: Baselines,
          confidence: float = 0.95) -> tuple[stats.PairedDiff | None, bool | None]:
    """Model RMSE − best baseline RMSE per run (per seed, or per (RMSE, origin) with the
    baseline of that origin) with its t-interval, and whether the model beats the baseline:
    True when the interval lies below 0, False above 0, None when undecided (it contains 0, or
    fewer than 3 runs finished)."""
    if base.best_rmse is None:
        return None, None
    pairs = [item if isinstance(item, tuple) else (item, 0) for item in rmse_per_run]
    reference = [base.at(origin) if base.per_origin is not None else base.best_rmse for _, origin in pairs]
    diff = stats.paired_difference([r for r, _ in pairs], reference, confidence)
    if diff.n < MIN_SEEDS or diff.low is None or diff.high is None:
        return diff, None
    if diff.high < 0:
        return diff, True
    if diff.low > 0:
        return diff, False
    return diff, None


def seeds_to_resolve(diff: stats.PairedDiff) -> int | None:
    """About how many paired runs (seeds, or seed × origin pairs) a two-sided 95% test needs to
    detect a difference of this mean and spread with 80% power (normal approximation); None
    when there is nothing to scale."""
    if diff.mean is None or diff.sd is None or diff.mean == 0 or diff.sd == 0:
        return None
    return max(MIN_SEEDS, math.ceil(((1.96 + _Z_POWER) * diff.sd / abs(diff.mean)) ** 2))


class Standing(NamedTuple):
    """One model's place against the forecasts to beat: runs finished, whether it beats the best
    baseline and the best statistical reference (None: undecided), and its mean RMSE."""

    name: str
    runs: int
    beats: bool | None
    rmse: float | None = None
    beats_reference: bool | None = None


def headline(standings: Sequence[Standing], base: Baselines, decimals: int, over: str = "the seeds",
             unit: str = "seed", steps: str = "") -> str:
    """The first verdict line: does any model beat the best baseline, and the best statistical
    reference? `over` names what the interval is over; `steps` says for which horizons (" on the
    next step"). A model that loses is never hidden behind another that is undecided, and one
    with fewer than `MIN_SEEDS` runs decides nothing."""
    if base.best is None:
        return ("No baseline could be scored on this test period, so nothing says whether the models "
                "beat a simple forecast.")
    fmt = functools.partial(stats.format_number, decimals=decimals)
    best = f"the best baseline, {base.best} (RMSE {fmt(base.best_rmse)}){steps}"
    finished = [m for m in standings if m.runs]
    if not finished:
        return f"No model has a finished {unit} yet; {best} is the forecast to beat."
    winners = [m for m in finished if m.beats is True]
    if winners:
        names = ", ".join(m.name for m in winners)
        return (f"{names} {'beats' if len(winners) == 1 else 'beat'} {best}: the 95% interval of RMSE minus "
                f"the baseline's over {over} lies entirely below 0.{_versus_reference(winners, base, fmt)}")
    losers = [m for m in finished if m.beats is False]
    few = [m for m in finished if m.beats is None and m.runs < MIN_SEEDS]
    close = [m for m in finished if m.beats is None and m.runs >= MIN_SEEDS]
    lost = _lost(losers, base, fmt)
    if losers and not close and not few:
        return (f"No model beats {best}: every model's RMSE is higher ({lost}), so the comparison of "
                "activations below is between models that lose to a simple forecast on this data.")
    if not close and not losers:
        return (f"Whether any model beats {best} cannot be told from fewer than {MIN_SEEDS} finished {unit}s "
                "per model; train more seeds.")
    parts = []
    if close:
        noise = "seed-to-seed" if unit == "seed" else "run-to-run"
        parts.append(f"{_names(close)} {'is' if len(close) == 1 else 'are'} within {noise} noise of it")
    if losers:
        parts.append(f"{_names(losers)} {'loses' if len(losers) == 1 else 'lose'} to it ({lost})")
    if few:
        parts.append(f"{_names(few)} {'has' if len(few) == 1 else 'have'} too few finished {unit}s to tell")
    return (f"No model is clearly better than {best}: {'; '.join(parts)}, so treat the differences between "
            "activations below with care.")


def _names(models: Sequence[Standing]) -> str:
    return ", ".join(m.name for m in models)


def _lost(losers: Sequence[Standing], base: Baselines, fmt: Callable[[float | None], str]) -> str:
    """`tanh 8.5× its RMSE, relu 1.2×`: how far each losing model is from the best baseline."""
    parts = []
    for m in losers:
        ratio = (m.rmse / base.best_rmse) if m.rmse is not None and base.best_rmse else None
        times = f", {ratio:.{2 if ratio < 2 else 1}f}× the baseline's" if ratio else ""  # 1.04×, 8.5×
        parts.append(f"{m.name} RMSE {fmt(m.rmse)}{times}")
    return "; ".join(parts)


def _versus_reference(winners: Sequence[Standing], base: Baselines, fmt: Callable[[float | None], str]) -> str:
    """The winners against the best statistical reference, in one sentence ("" without one)."""
    if base.best_reference is None:
        return ""
    ref = f"the best statistical reference, {label(base.best_reference)} (RMSE {fmt(base.best_reference_rmse)})"
    won = [m for m in winners if m.beats_reference is True]
    lost = [m for m in winners if m.beats_reference is False]
    if len(won) == len(winners):
        return f" {_names(won)} {'beats' if len(won) == 1 else 'beat'} {ref} too."
    if len(lost) == len(winners):
        return f" But {'it does' if len(lost) == 1 else 'they do'} not beat {ref}."
    said = [f"{_names(won)} {'beats' if len(won) == 1 else 'beat'} it" if won else "",
            f"{_names(lost)} {'loses' if len(lost) == 1 else 'lose'} to it" if lost else ""]
    if rest := [m for m in winners if m.beats_reference is None]:
        said.append(f"{_names(rest)} {'is' if len(rest) == 1 else 'are'} within noise of it")
    return f" Against {ref}: {'; '.join(p for p in said if p)}."


def naive_row(by_origin: Mapping[int, list[RunOutcome]],
              keys: Iterable[str]) -> tuple[dict[str, float | None], list[str]]:
    """The naive forecast's row of the metrics table (by metric `keys`, None where undefined) —
    per origin, then the mean over the origins where it could be scored — and notes."""
    rows, notes = [], []
    for origin in sorted(by_origin):
        row, said = _naive_one(by_origin[origin], keys)
        rows.append(row)
        notes += [n for n in said if n not in notes]
    naive: dict[str, float | None] = dict.fromkeys(keys)
    for key in ("rmse", "mae", "mfe", "skill"):
        values = [v for r in rows if (v := r.get(key)) is not None]
        naive[key] = statistics.fmean(values) if values else None
    return naive, notes


def _naive_one(outcomes: list[RunOutcome], keys: Iterable[str]) -> tuple[dict[str, float | None], list[str]]:
    """The naive row of one split (RMSE from the runs' metrics, MAE/MFE from their test lists)."""
    values = [finite_or_none((o.metrics or Metrics()).naive_rmse) for o in outcomes]
    found = [v for v in values if v is not None]
    naive: dict[str, float | None] = dict.fromkeys(keys)
    naive.update(rmse=found[0] if found else None, skill=0.0 if found else None)
    notes = []
    if found and max(found) - min(found) > 1e-9 * max(1.0, abs(max(found))):
        notes.append("The naive RMSE differs between runs: the runs may not share one split.")
    for o in outcomes:
        actual, guess = (o.test.actual, o.test.naive) if o.test is not None else ((), ())
        pairs = [(finite_or_none(g), finite_or_none(a)) for g, a in zip(guess, actual, strict=False)]
        kept = [(g, a) for g, a in pairs if g is not None and a is not None]
        if kept and len(guess) == len(actual):
            g, a = np.array([p[0] for p in kept]), np.array([p[1] for p in kept])
            naive.update(mae=mae(g, a), mfe=mfe(g, a))
            break
    if naive.get("mae") is None:  # no usable test lists: the runs' own naive MAE
        own = (m for o in outcomes if (m := (o.metrics or Metrics()).naive_mae) is not None)
        naive.update(mae=finite_or_none(next(own, None)))
    return naive, notes
