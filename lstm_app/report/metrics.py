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

from ..outcome import Metrics

__all__ = ["evaluate", "mae", "mda", "mfe", "naive_forecast", "rmse", "skill", "volatility_ratio"]


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


def evaluate(forecast: np.ndarray, actual: np.ndarray, previous: float) -> Metrics:
    """All metrics at once; `previous` is the actual value just before the test period."""
    naive = naive_forecast(previous, actual)
    model_rmse, naive_rmse = rmse(forecast, actual), rmse(naive, actual)
    return Metrics(
        rmse=model_rmse,
        mae=mae(forecast, actual),
        mfe=mfe(forecast, actual),
        mda=mda(forecast, actual),
        naive_rmse=naive_rmse,
        naive_mae=mae(naive, actual),
        skill=skill(model_rmse, naive_rmse),
        volatility_ratio=volatility_ratio(forecast, actual),
    )
