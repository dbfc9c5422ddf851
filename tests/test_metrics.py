"""Metrics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lstm_app.report import metrics

ACTUAL = np.array([10.0, 12.0, 11.0, 15.0])
FORECAST = np.array([11.0, 11.0, 13.0, 14.0])


def test_errors_by_hand() -> None:
    # errors ŷ − y: 1, −1, 2, −1
    assert metrics.rmse(FORECAST, ACTUAL) == pytest.approx(math.sqrt((1 + 1 + 4 + 1) / 4))
    assert metrics.mae(FORECAST, ACTUAL) == pytest.approx(5 / 4)
    assert metrics.mfe(FORECAST, ACTUAL) == pytest.approx(1 / 4)


def test_directional_accuracy_by_hand() -> None:
    # actual moves: +, −, +   forecast moves: 0, +, +   → agree only on the last
    assert metrics.mda(FORECAST, ACTUAL) == pytest.approx(1 / 3)
    assert metrics.mda(ACTUAL, ACTUAL) == 1.0
    assert metrics.mda(np.array([1.0]), np.array([2.0])) is None


def test_naive_forecast_and_skill_by_hand() -> None:
    naive = metrics.naive_forecast(9.0, ACTUAL)
    assert naive.tolist() == [9.0, 10.0, 12.0, 11.0]
    naive_rmse = math.sqrt((1 + 4 + 1 + 16) / 4)
    out = metrics.evaluate(FORECAST, ACTUAL, previous=9.0)
    assert out.naive_rmse == pytest.approx(naive_rmse)
    assert out.skill == pytest.approx(1 - math.sqrt(7 / 4) / naive_rmse)
    assert out.naive_mae == pytest.approx((1 + 2 + 1 + 4) / 4)
    assert metrics.skill(1.0, 0.0) is None


def test_volatility_ratio() -> None:
    assert metrics.volatility_ratio(ACTUAL, ACTUAL) == 1.0
    flat = np.full(4, ACTUAL.mean())
    assert metrics.volatility_ratio(flat, ACTUAL) == 0.0
    assert metrics.volatility_ratio(ACTUAL, flat) is None
    assert metrics.volatility_ratio(ACTUAL * 0.5, ACTUAL) == pytest.approx(0.5)


def test_shape_mismatch_is_a_bug_not_a_silent_number() -> None:
    with pytest.raises(ValueError, match="equal-length"):
        metrics.rmse(np.ones(3), np.ones(4))
