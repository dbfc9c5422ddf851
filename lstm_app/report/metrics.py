"""Forecast metrics over the test period, in original units (ŷ = forecast, y = actual).

    RMSE  = √mean((ŷ − y)²)
    MAE   = mean|ŷ − y|
    MFE   = mean(ŷ − y)                  positive = over-forecast
    MDA   = mean(sign(y_t − y_{t−1}) = sign(ŷ_t − ŷ_{t−1}))   over consecutive test points
    naive = the last observed value: ŷ_t = y_{t−1}
    skill = 1 − RMSE / RMSE_naive        > 0 beats the naive forecast
    volatility ratio = std(ŷ) / std(y)   < 1 means the forecast is flatter than the series
"""

from __future__ import annotations

import functools
import logging
import math

import numpy as np
import pandas as pd

from ..errors import FitError
from ..horizons import by_horizon
from ..outcome import Horizon, Metrics
from . import forecasters

_log = logging.getLogger(__name__)

__all__ = [
    "baseline_rmse", "drift_forecast", "evaluate", "horizon_baselines", "mae", "mda", "mfe", "naive_forecast", "rmse",
    "season_for",
    "seasonal_naive_forecast", "skill", "volatility_ratio",
]


def _pair(forecast: np.ndarray, actual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f, a = np.asarray(forecast, dtype=float), np.asarray(actual, dtype=float)
    if f.shape != a.shape or f.ndim != 1 or f.size == 0:
        raise ValueError(f"forecast and actual must be equal-length 1-d arrays, got {f.shape} and {a.shape}")
    return f, a


def rmse(forecast: np.ndarray, actual: np.ndarray) -> float:
    f, a = _pair(forecast, actual)
    return float(np.sqrt(np.mean((f - a) ** 2)))


def mae(forecast: np.ndarray, actual: np.ndarray) -> float:
    f, a = _pair(forecast, actual)
    return float(np.mean(np.abs(f - a)))


def mfe(forecast: np.ndarray, actual: np.ndarray) -> float:
    f, a = _pair(forecast, actual)
    return float(np.mean(f - a))


def mda(forecast: np.ndarray, actual: np.ndarray) -> float | None:
    """Share of consecutive steps where forecast and actual move the same way (None for < 2 points)."""
    f, a = _pair(forecast, actual)
    if f.size < 2:
        return None
    return float(np.mean(np.sign(np.diff(a)) == np.sign(np.diff(f))))


def naive_forecast(previous: float, actual: np.ndarray) -> np.ndarray:
    """Last-value forecast for each test point: the actual value one step before it."""
    return forecasters.Naive().fit(np.array([previous])).predict_one_step(actual)


def skill(model_rmse: float, naive_rmse: float) -> float | None:
    """1 − RMSE/RMSE_naive, or None when the naive forecast is perfect."""
    if naive_rmse <= 0 or not math.isfinite(naive_rmse):
        return None
    return float(1.0 - model_rmse / naive_rmse)


def volatility_ratio(forecast: np.ndarray, actual: np.ndarray) -> float | None:
    """std(ŷ)/std(y) over the test period (None when the actual series is flat there)."""
    f, a = _pair(forecast, actual)
    sd = float(np.std(a))
    return float(np.std(f)) / sd if sd > 0 else None


def seasonal_naive_forecast(history: np.ndarray, actual: np.ndarray, season: int) -> np.ndarray | None:
    """One-step seasonal-naive forecast of each test point: the actual value `season` steps
    before it (`history` is the series before the test period); None when history is too short."""
    return _one_step_or_none(forecasters.SeasonalNaive, history, actual, season)


def drift_forecast(history: np.ndarray, actual: np.ndarray) -> np.ndarray | None:
    """One-step drift forecast of each test point: the last value plus the average change from
    the first value to the last (Hyndman & Athanasopoulos); None with fewer than 2 history values."""
    return _one_step_or_none(forecasters.Drift, history, actual)


def _one_step_or_none(cls: type[forecasters.Forecaster], history: np.ndarray, actual: np.ndarray,
                      season: int | None = None) -> np.ndarray | None:
    try:
        return forecasters.one_step(cls, history, actual, season)
    except FitError:
        return None


def evaluate(forecast: np.ndarray, actual: np.ndarray, previous: float,
             history: np.ndarray | None = None, season: int | None = None, horizon: int = 0) -> Metrics:
    """All metrics at once; `previous` is the actual value just before the test period. Every
    forecaster of `forecasters.FORECASTERS` is fitted on `history` (the series before the test
    period; `previous` alone without it) and scored on the same test values; those that cannot
    be fitted there are left out. `horizon`: the steps `horizon_baselines` will ask for next
    (the fits are shared through one cache)."""
    train = np.asarray(history, dtype=float) if history is not None else np.array([previous], dtype=float)
    scored = baseline_rmse(train, actual, season, horizon)
    naive = naive_forecast(previous, actual)
    model_rmse = rmse(forecast, actual)
    scored["naive"] = rmse(naive, actual)  # from `previous`, which a caller may give apart from history
    return Metrics(
        rmse=model_rmse,
        mae=mae(forecast, actual),
        mfe=mfe(forecast, actual),
        mda=mda(forecast, actual),
        naive_mae=mae(naive, actual),
        skill=skill(model_rmse, scored["naive"]),
        volatility_ratio=volatility_ratio(forecast, actual),
        baselines=scored,
    )


def baseline_rmse(train: np.ndarray, actual: np.ndarray, season: int | None, horizon: int = 0) -> dict[str, float]:
    """Each forecaster fitted on `train` and scored one step ahead over `actual`: RMSE by key
    (those that cannot be fitted on these rows are left out). The runs of one split share the
    answer, so a worker fits the statistical references once per split, not once per run."""
    return {key: value for key, value, _ in _scored(*_keys(train, actual), season, horizon)}


def horizon_baselines(train: np.ndarray, actual: np.ndarray, season: int | None, horizon: int) -> dict[str, Horizon]:
    """Each forecaster's RMSE at horizons 1..`horizon` over `actual`: the simple baselines
    forecast from every test window (refitted on the history before it, as cheap as arithmetic);
    the statistical references, fitted once on `train`, from the test period's start only. The
    runs of one split share the answer (cached, as `baseline_rmse`)."""
    return dict(_horizons(*_keys(train, actual), season, horizon))


@functools.lru_cache(maxsize=16)
def _horizons(train_bytes: bytes, actual_bytes: bytes, season: int | None,
              horizon: int) -> tuple[tuple[str, Horizon], ...]:
    train, a = np.frombuffer(train_bytes), np.frombuffer(actual_bytes)
    out: dict[str, Horizon] = {}
    for key, _, path in _scored(train_bytes, actual_bytes, season, horizon):
        if path:
            out[key] = by_horizon(np.array([path]), a)
    history = np.concatenate([np.asarray(train, dtype=float), a])
    for cls in (c for c in forecasters.FORECASTERS if c.family == "baseline"):
        try:
            rows = [cls(season).fit(history[: len(history) - len(a) + k]).predict(horizon) for k in range(len(a))]
        except FitError:
            continue
        out[cls.key] = by_horizon(np.array(rows), a)
    return tuple(out.items())


def _keys(train: np.ndarray, actual: np.ndarray) -> tuple[bytes, bytes]:
    return (np.ascontiguousarray(train, dtype=float).tobytes(), np.ascontiguousarray(actual, dtype=float).tobytes())


@functools.lru_cache(maxsize=16)
def _scored(train: bytes, actual: bytes, season: int | None,
            horizon: int) -> tuple[tuple[str, float, tuple[float, ...]], ...]:
    """(key, one-step RMSE, `horizon`-step path from the end of `train` or ()) per forecaster."""
    t, a = np.frombuffer(train), np.frombuffer(actual)
    scored = []
    for cls in forecasters.FORECASTERS:
        try:
            fitted = cls(season).fit(t)
            forecast = fitted.predict_one_step(a)
            path = np.asarray(fitted.predict(horizon), dtype=float) if horizon else np.empty(0)
        except FitError:
            continue
        except Exception as exc:  # a reference's library failing must never fail the model's run
            _log.warning("the %s reference failed on this split (%s: %s); it is left out", cls.name,
                         type(exc).__name__, exc)
            continue
        if forecast.shape == a.shape and np.all(np.isfinite(forecast)):
            kept = tuple(path.tolist()) if path.shape == (horizon,) and np.all(np.isfinite(path)) else ()
            scored.append((cls.key, rmse(forecast, a), kept))
    return tuple(scored)


# Season length by the typical spacing of the time axis, in days: (low, high, periods per season).
_SEASONS = ((1 / 24 * 0.9, 1 / 24 * 1.1, 24), (0.9, 1.1, 7), (6.5, 7.5, 52), (27.5, 31.5, 12), (88.0, 93.0, 4))


def season_for(index: pd.Index) -> int | None:
    """The season length the spacing of a time index implies: hourly 24, daily 7, weekly 52,
    monthly 12, quarterly 4; None for yearly, irregular or position-indexed series."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 3:
        return None
    seconds = index.to_numpy().astype("datetime64[s]").astype(np.int64)  # any resolution, no overflow
    steps = np.diff(seconds.astype(np.float64)) / 86_400  # days between points
    if not steps.size:
        return None
    step = float(np.median(steps))
    return next((season for low, high, season in _SEASONS if low <= step <= high), None)
