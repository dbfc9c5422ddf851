"""Every forecast a model is judged against, behind one interface (`Forecaster`).

    fit(train)                   learn from the rows before the test period  → self
    predict_one_step(actual)     ŷ_t from the history up to t − 1, for each test value
    predict(h)                   the h-step forecast made at the end of `train`

A forecaster that cannot work on the rows it is given (too short, no season) raises
`errors.FitError` with the reason in words; the caller records "could not be fitted: <reason>".
Each one is scored through the same path as the LSTMs (`metrics.evaluate`), and its RMSE is
stored in a run's metrics under `<key>_rmse`. A new reference is one class added to
`FORECASTERS`: the stored metrics, the baselines' table rows and `results.json` pick it up.

`family` separates the simple baselines (naive, seasonal naive, drift: a model that cannot beat
them is not worth comparing) from statistical references, which a future model may join.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Protocol, Self

import numpy as np

from ..errors import FitError
from .references import Arima, Ets, Theta

__all__ = ["FORECASTERS", "Drift", "Family", "Forecaster", "Naive", "SeasonalNaive", "label",
           "one_step"]

Family = Literal["baseline", "reference"]


class Forecaster(Protocol):
    """Fit on the training rows, then forecast one step ahead from actual history or h steps
    ahead from the end of the training rows (arrays of floats in original units)."""

    name: ClassVar[str]  # as results.json names it
    key: ClassVar[str]  # the stored metric is `<key>_rmse`
    label: ClassVar[str]  # as the page writes it
    family: ClassVar[Family]

    def __init__(self, season: int | None = None) -> None: ...

    def fit(self, train: np.ndarray) -> Self: ...

    def predict_one_step(self, actual: np.ndarray) -> np.ndarray: ...

    def predict(self, h: int) -> np.ndarray: ...


@dataclass
class _History:
    """What the simple forecasters share: the season length and the rows they were fitted on."""

    season: int | None = None
    train: np.ndarray = field(default_factory=lambda: np.empty(0))

    def fit(self, train: np.ndarray) -> Self:
        values = np.asarray(train, dtype=float).reshape(-1)
        self._check(values)
        self.train = values
        return self

    def _check(self, train: np.ndarray) -> None:
        if train.size < 1:
            raise FitError("there are no training rows")

    def _with(self, actual: np.ndarray) -> np.ndarray:
        return np.concatenate([self.train, np.asarray(actual, dtype=float).reshape(-1)])


class Naive(_History):
    """The last observed value: ŷ_t = y_{t−1}."""

    name: ClassVar[str] = "naive"
    label: ClassVar[str] = "naive"
    key: ClassVar[str] = "naive"
    family: ClassVar[Family] = "baseline"

    def predict_one_step(self, actual: np.ndarray) -> np.ndarray:
        full = self._with(actual)
        return full[len(self.train) - 1: len(full) - 1].copy()

    def predict(self, h: int) -> np.ndarray:
        return np.full(h, self.train[-1])


class SeasonalNaive(_History):
    """The value one season ago: ŷ_t = y_{t−s} (needs a season and a whole season of history)."""

    name: ClassVar[str] = "seasonal naive"
    label: ClassVar[str] = "seasonal naive"
    key: ClassVar[str] = "seasonal"
    family: ClassVar[Family] = "baseline"

    def _check(self, train: np.ndarray) -> None:
        if self.season is None or self.season < 2:
            raise FitError("the series has no season (its time column has no daily, weekly, monthly or "
                            "quarterly spacing)")
        if train.size < self.season:
            raise FitError(f"it needs a whole season ({self.season} points) of history, got {train.size}")

    def predict_one_step(self, actual: np.ndarray) -> np.ndarray:
        s, start = int(self.season or 0), len(self.train)
        return self._with(actual)[start - s: start - s + len(actual)].copy()

    def predict(self, h: int) -> np.ndarray:
        s = int(self.season or 0)
        last = self.train[-s:]
        return np.array([last[k % s] for k in range(h)], dtype=float)


class Drift(_History):
    """The last value plus the average change from the first value to the last (Hyndman &
    Athanasopoulos): ŷ_t = y_{t−1} + (y_{t−1} − y_0) / (t − 1)."""

    name: ClassVar[str] = "drift"
    label: ClassVar[str] = "drift"
    key: ClassVar[str] = "drift"
    family: ClassVar[Family] = "baseline"

    def _check(self, train: np.ndarray) -> None:
        if train.size < 2:
            raise FitError(f"it needs at least 2 points of history, got {train.size}")

    def predict_one_step(self, actual: np.ndarray) -> np.ndarray:
        full = self._with(actual)
        t = np.arange(len(self.train), len(full))  # each test point's position; it sees 0..t-1
        out: np.ndarray = full[t - 1] + (full[t - 1] - full[0]) / (t - 1)
        return out

    def predict(self, h: int) -> np.ndarray:
        n = len(self.train)
        slope = (self.train[-1] - self.train[0]) / (n - 1)
        out: np.ndarray = self.train[-1] + slope * np.arange(1, h + 1)
        return out


# Every forecaster scored with each run, in the order the page lists them.
FORECASTERS: tuple[type[Forecaster], ...] = (Naive, SeasonalNaive, Drift, Ets, Arima, Theta)


def label(name: str) -> str:
    """How the page writes the forecaster called `name` ("ETS" for "ets"); `name` if unknown."""
    return next((cls.label for cls in FORECASTERS if cls.name == name), name)


def one_step(forecaster: type[Forecaster], train: Sequence[float] | np.ndarray, actual: np.ndarray,
             season: int | None = None) -> np.ndarray:
    """`forecaster` fitted on `train`, forecasting each `actual` value one step ahead (FitError
    when it cannot be fitted)."""
    return forecaster(season).fit(np.asarray(train, dtype=float)).predict_one_step(actual)
