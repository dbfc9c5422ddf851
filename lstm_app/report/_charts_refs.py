"""The forecasts the charts compare models with: each forecaster's one-step test forecast per
backtest origin, and how the charts draw them (dashed, thin, muted; only the best one shown
until its legend entry is clicked).

Runs store only each forecaster's RMSE (`Metrics.baselines`). The forecasts are computed here
from the actual series exactly as a worker scores them: `forecasters.one_step` fitted on every
value before an origin's test period, with the season the time axis implies. statsmodels runs
here, TensorFlow never; the fits are memoised per (history, test values, season), so a results
stamp that changes as runs finish does not refit an origin the page has already seen.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from threadpoolctl import threadpool_limits

from ..errors import FitError
from ..outcome import RunOutcome, RunStatus
from . import forecasters
from ._charts_look import Outcomes

__all__ = ["ReferenceLine", "by_origin", "label_of", "reference_forecasts", "reference_traces"]

_log = logging.getLogger(__name__)

# Muted, distinct from the model palette (which leaves out greys): one colour and dash per forecaster.
_LOOK: dict[str, tuple[str, str]] = {
    "naive": ("#555555", "dash"), "seasonal": ("#8c6d31", "dot"), "drift": ("#7f7f7f", "dashdot"),
    "ets": ("#5254a3", "dash"), "arima": ("#637939", "longdash"), "theta": ("#843c39", "dot"),
}


@dataclass(frozen=True)
class ReferenceLine:
    """One forecaster's one-step test forecasts over every origin's test period (`time`, as
    stored labels), and its RMSE pooled over all of them."""

    key: str
    label: str
    time: tuple[object, ...]
    forecast: tuple[float, ...]
    rmse: float


def label_of(key: str) -> str:
    """How the page writes the forecaster stored under `key` ("ETS" for "ets"); `key` if unknown."""
    return next((cls.label for cls in forecasters.FORECASTERS if key in (cls.key, cls.name)), key)


def by_origin(outcomes: Outcomes) -> dict[int, RunOutcome]:
    """The first finished run with a test forecast of each backtest origin (runs of one origin
    share its test period and its forecasters' scores), by origin."""
    out: dict[int, RunOutcome] = {}
    for key, o in sorted(outcomes.items(), key=lambda pair: tuple(pair[0])):
        if o is not None and o.status == RunStatus.DONE and o.test is not None and o.test.time:
            out.setdefault(key[2] if len(key) > 2 else 0, o)
    return out


def reference_forecasts(actual: pd.Series, outcomes: Outcomes, season: int | None, *, fit: bool = True
                        ) -> tuple[ReferenceLine, ...] | None:
    """Every forecaster that could be fitted at each origin with a finished run, best (lowest
    pooled RMSE) first; those that fail at some origin are left out. With `fit` False, None
    unless every origin's fits are memoised already (nothing is fitted)."""
    parts: dict[str, list[tuple[Sequence[object], np.ndarray, np.ndarray]]] = {}
    scored = 0  # origins whose test period lies in the series
    for o in by_origin(outcomes).values():
        assert o.test is not None
        first, values = _position(actual.index, o.test.time[0]), actual.to_numpy(dtype=float)
        # the series' own values (what the worker scored), so every experiment on one series and
        # split shares the fits
        test = np.ascontiguousarray(values[first:first + len(o.test.time)]) if first else np.empty(0)
        if first is None or first < 1 or len(test) != len(o.test.time) or not np.all(np.isfinite(test)):
            continue
        history = np.ascontiguousarray(values[:first])
        fitted = _one_steps(history.tobytes(), test.tobytes(), season, fit=fit)
        if fitted is None:
            return None
        scored += 1
        for key, forecast in fitted:
            parts.setdefault(key, []).append((o.test.time, np.asarray(forecast), test))
    lines = []
    for key, pieces in parts.items():
        if len(pieces) < scored:
            continue
        errors = np.concatenate([f - a for _, f, a in pieces])
        lines.append(ReferenceLine(key, label_of(key), tuple(t for times, _, _ in pieces for t in times),
                                   tuple(float(v) for _, f, _ in pieces for v in f),
                                   math.sqrt(float(np.mean(errors**2)))))
    return tuple(sorted(lines, key=lambda line: line.rmse))


def _position(index: pd.Index, label: object) -> int | None:
    """Where the stored time `label` sits in `index` (None when it is not there)."""
    wanted = pd.Timestamp(label) if isinstance(label, str) and isinstance(index, pd.DatetimeIndex) else label
    try:
        where = index.get_indexer(pd.Index([wanted]))[0]
    except (TypeError, ValueError):
        return None
    return int(where) if where >= 0 else None


_FITS: dict[tuple[bytes, bytes, int | None], tuple[tuple[str, tuple[float, ...]], ...]] = {}
_MAX_FITS = 64  # splits remembered (oldest forgotten first)


def _one_steps(history: bytes, test: bytes, season: int | None, *, fit: bool = True
               ) -> tuple[tuple[str, tuple[float, ...]], ...] | None:
    """(key, one-step forecasts) of every forecaster that fits this split, memoised; None when it
    is not memoised yet and `fit` is False."""
    key = (history, test, season)
    if key not in _FITS:
        if not fit:
            return None
        # One BLAS thread: statsmodels' many small optimisations run ~20× slower with OpenBLAS's
        # threads spinning on a busy 2-core machine (110 s → 5 s for airline's 3 origins, load 12).
        with threadpool_limits(limits=1):
            fitted = _fit_all(np.frombuffer(history), np.frombuffer(test), season)
        while len(_FITS) >= _MAX_FITS:
            _FITS.pop(next(iter(_FITS)), None)
        _FITS[key] = fitted
    return _FITS[key]


def _fit_all(train: np.ndarray, actual: np.ndarray, season: int | None) -> tuple[tuple[str, tuple[float, ...]], ...]:
    out = []
    for cls in forecasters.FORECASTERS:
        try:
            forecast = forecasters.one_step(cls, train, actual, season)
        except FitError:
            continue
        except Exception as exc:  # a library failing to fit must not break the page: the line is left out
            _log.warning("the %s reference failed (%s: %s); it is not drawn", cls.name, type(exc).__name__, exc)
            continue
        if forecast.shape == actual.shape and np.all(np.isfinite(forecast)):
            out.append((cls.key, tuple(float(v) for v in forecast)))
    return tuple(out)


def reference_traces(lines: Mapping[str, tuple[str, list[Any], Sequence[float | None]]], shown: Collection[str],
                     hover: str) -> list[go.Scatter]:
    """One dashed, thin, muted line per forecaster (key -> (label, x, y)), each in the legend;
    those not in `shown` (keys) hidden until their legend entry is clicked. `hover` formats y."""
    out = []
    for key, (label, x, y) in lines.items():
        color, dash = _LOOK.get(key, ("#8c8c8c", "dash"))
        out.append(go.Scatter(
            x=x, y=list(y), mode="lines", name=label, legendgroup=f"reference {key}",
            visible=True if key in shown else "legendonly",
            line={"color": color, "width": 1.6 if key in shown else 1.2, "dash": dash}, opacity=0.9,
            hovertemplate=f"{label}: {hover}<extra></extra>"))
    return out
