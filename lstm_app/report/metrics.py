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

import math

import numpy as np
import pandas as pd

from ..outcome import Metrics

__all__ = [
    "drift_forecast", "evaluate", "mae", "mda", "mfe", "naive_forecast", "rmse", "season_for",
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
    a = np.asarray(actual, dtype=float)
    return np.concatenate([[previous], a[:-1]])


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
    h = np.asarray(history, dtype=float)
    if season < 2 or len(h) < season:
        return None
    full = np.concatenate([h, np.asarray(actual, dtype=float)])
    start = len(h)
    return full[start - season: start - season + len(actual)]


def drift_forecast(history: np.ndarray, actual: np.ndarray) -> np.ndarray | None:
    """One-step drift forecast of each test point: the last value plus the average change from
    the first value to the last (Hyndman & Athanasopoulos); None with fewer than 2 history values."""
    h = np.asarray(history, dtype=float)
    if len(h) < 2:
        return None
    full = np.concatenate([h, np.asarray(actual, dtype=float)])
    t = np.arange(len(h), len(full))  # position of each test point; the forecast uses 0..t-1
    return full[t - 1] + (full[t - 1] - full[0]) / (t - 1)


def evaluate(forecast: np.ndarray, actual: np.ndarray, previous: float,
             history: np.ndarray | None = None, season: int | None = None) -> Metrics:
    """All metrics at once; `previous` is the actual value just before the test period; with
    `history` (the series before the test period) the seasonal-naive (`season` steps back) and
    drift baselines are scored too."""
    naive = naive_forecast(previous, actual)
    model_rmse, naive_rmse = rmse(forecast, actual), rmse(naive, actual)
    seasonal = seasonal_naive_forecast(history, actual, season) if history is not None and season else None
    drift = drift_forecast(history, actual) if history is not None else None
    return Metrics(
        rmse=model_rmse,
        mae=mae(forecast, actual),
        mfe=mfe(forecast, actual),
        mda=mda(forecast, actual),
        naive_rmse=naive_rmse,
        naive_mae=mae(naive, actual),
        skill=skill(model_rmse, naive_rmse),
        volatility_ratio=volatility_ratio(forecast, actual),
        seasonal_rmse=None if seasonal is None else rmse(seasonal, actual),
        drift_rmse=None if drift is None else rmse(drift, actual),
    )


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
