"""The statistical references a forecaster judges a new model against, from statsmodels: ETS
with an automatic model choice, ARIMA with an automatic order, and the Theta method.

Each is a `forecasters.Forecaster`: fitted once on the rows before the test period, then
forecasting each test value one step ahead from the actual history with the fitted parameters
held fixed (the state is updated with each new value, never refitted), so they stand on the
same footing as the LSTMs' one-step forecasts. statsmodels is imported when one is fitted, not
when this module is imported (the page fits them only to draw their forecasts, once per split:
`report._charts_refs`).

- ETS: `ETSModel` (additive error: no trend, additive, additive damped trend; with a season of
  at most 24 steps also additive season and, on positive series, multiplicative error and
  season), the lowest AICc wins; one-step forecasts from `ETSModel(all values).smooth(fitted params)`.
- ARIMA: a seasonal difference when the season is strong (STL strength ≥ 0.64, as in Hyndman &
  Athanasopoulos), `d` (0–2) by KPSS tests, then p, q ∈ {0, 1, 2} by AICc; one-step forecasts
  from `results.append(test, refit=False)`, the seasonal difference undone from actual values.
- Theta: `ThetaModel` (θ = 2, deseasonalised when its test finds a season); one-step forecasts
  from its SES level updated with each deseasonalised value and its fixed drift b0.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Self, TypeVar

import numpy as np

from ..errors import FitError

__all__ = ["STRONG_SEASON", "Arima", "Ets", "Theta", "preload", "season_strength"]

_K = TypeVar("_K")
MIN_POINTS = 8  # fewer training values than this fit nothing worth calling a reference
# ETS models a season of at most this many steps, as R's forecast::ets (one state per step of the
# season: a weekly series' 52 make the fit slow and over-parameterised); a longer one is left to
# ARIMA's seasonal difference and Theta's deseasonalising.
MAX_ETS_SEASON = 24
STRONG_SEASON = 0.64  # STL seasonal strength above which ARIMA takes a seasonal difference


def preload() -> None:
    """Import the statsmodels modules the references fit with (about 1.5 s): a worker calls it
    at start, beside TensorFlow's import, so a warm worker's first run does not wait for it."""
    import statsmodels.tsa.arima.model
    import statsmodels.tsa.exponential_smoothing.ets
    import statsmodels.tsa.forecasting.theta
    import statsmodels.tsa.seasonal
    import statsmodels.tsa.stattools  # noqa: F401


@contextmanager
def _fitting(name: str) -> Iterator[None]:
    """statsmodels' convergence and frequency warnings stay inside the fit; a numerical failure
    becomes FitError with its reason."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            try:
                yield
            except FitError:
                raise
            except (ValueError, np.linalg.LinAlgError, ZeroDivisionError, IndexError) as exc:
                raise FitError(f"{name} failed to fit: {exc}") from None


def _aicc(res: Any) -> float:
    value = float(getattr(res, "aicc", math.nan))
    return value if math.isfinite(value) else math.inf


def _lowest_aicc(what: str, candidates: Iterable[_K], fit: Callable[[_K], Any]) -> tuple[_K, Any]:
    """The candidate whose fit has the lowest finite AICc, and that fit (FitError when none has one)."""
    best: tuple[float, _K, Any] | None = None
    for key in candidates:
        res = fit(key)
        if best is None or _aicc(res) < best[0]:
            best = (_aicc(res), key, res)
    if best is None or not math.isfinite(best[0]):
        raise FitError(f"no {what} could be fitted")
    return best[1], best[2]


@dataclass
class _Reference:
    """What the references share: the season, the training values and the length checks."""

    name: ClassVar[str]
    key: ClassVar[str]
    label: ClassVar[str]
    family: ClassVar[Literal["baseline", "reference"]] = "reference"

    season: int | None = None
    train: np.ndarray = field(default_factory=lambda: np.empty(0))

    def _values(self, train: np.ndarray) -> np.ndarray:
        values = np.asarray(train, dtype=float).reshape(-1)
        if values.size < MIN_POINTS:
            raise FitError(f"it needs at least {MIN_POINTS} points of history, got {values.size}")
        if not np.all(np.isfinite(values)):
            raise FitError("the history has missing or infinite values")
        self.train = values
        return values

    def _seasonal(self, n: int) -> int | None:
        """The season to model: one with at least two whole seasons of history."""
        s = self.season
        return s if s is not None and s >= 2 and n >= 2 * s else None


class Ets(_Reference):
    """Exponential smoothing (ETS) with the error, trend and season chosen by AICc."""

    name: ClassVar[str] = "ets"
    key: ClassVar[str] = "ets"
    label: ClassVar[str] = "ETS"

    def fit(self, train: np.ndarray) -> Self:
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        y = self._values(train)
        season = self._seasonal(len(y))
        season = season if season is not None and season <= MAX_ETS_SEASON else None
        with _fitting("ETS"):
            self.spec, self.result = _lowest_aicc("ETS model", self._candidates(season, bool(np.all(y > 0))),
                                                  lambda spec: ETSModel(y, **spec).fit(disp=False))
        return self

    @staticmethod
    def _candidates(season: int | None, positive: bool) -> list[dict[str, Any]]:
        trends: list[dict[str, Any]] = [{"trend": None}, {"trend": "add"}, {"trend": "add", "damped_trend": True}]
        out = [{"error": "add", **t} for t in trends]
        if season:
            out += [{"error": "add", "seasonal": "add", "seasonal_periods": season, **t} for t in trends]
            if positive:
                out += [{"error": "mul", "seasonal": "mul", "seasonal_periods": season, **t} for t in trends[:2]]
        return out

    @property
    def description(self) -> str:
        """`ETS(A,Ad,M)` in the usual notation."""
        e = "M" if self.spec.get("error") == "mul" else "A"
        t = "N" if not self.spec.get("trend") else "Ad" if self.spec.get("damped_trend") else "A"
        s = {"add": "A", "mul": "M"}.get(self.spec.get("seasonal") or "", "N")
        return f"ETS({e},{t},{s})"

    def predict_one_step(self, actual: np.ndarray) -> np.ndarray:
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        full = np.concatenate([self.train, np.asarray(actual, dtype=float)])
        with _fitting("ETS"):
            fitted = ETSModel(full, **self.spec).smooth(self.result.params).fittedvalues
        return np.asarray(fitted, dtype=float)[len(self.train):]

    def predict(self, h: int) -> np.ndarray:
        with _fitting("ETS"):
            return np.asarray(self.result.forecast(h), dtype=float)


class Arima(_Reference):
    """ARIMA with d by KPSS tests, a seasonal difference for a strong season, p and q by AICc."""

    name: ClassVar[str] = "arima"
    key: ClassVar[str] = "arima"
    label: ClassVar[str] = "ARIMA"

    def fit(self, train: np.ndarray) -> Self:
        from statsmodels.tsa.arima.model import ARIMA

        y = self._values(train)
        season = self._seasonal(len(y))
        with _fitting("ARIMA"):
            # A seasonal difference without seasonal AR/MA terms is taken by hand: the same model
            # as SARIMA (0,1,0)[s], without s states in the filter (a weekly season has 52).
            self.lag = season if season and season_strength(y, season) >= STRONG_SEASON else 0
            w = self._changes(y)
            if w.size < MIN_POINTS:
                raise FitError(f"a seasonal difference of {self.lag} leaves {w.size} points, fewer than {MIN_POINTS}")
            d = _kpss_diffs(w)
            trend = "c" if d == 0 else "t" if d == 1 else "n"
            orders = [(p, d, q) for p, q in itertools.product(range(3), range(3))]
            self.order, self.result = _lowest_aicc("ARIMA order", orders,
                                                   lambda order: ARIMA(w, order=order, trend=trend).fit())
        return self

    def _changes(self, y: np.ndarray) -> np.ndarray:
        return y[self.lag:] - y[: len(y) - self.lag] if self.lag else y

    @property
    def description(self) -> str:
        p, d, q = self.order
        return f"ARIMA({p},{d},{q})" + (f"(0,1,0)[{self.lag}]" if self.lag else "")

    def predict_one_step(self, actual: np.ndarray) -> np.ndarray:
        full = np.concatenate([self.train, np.asarray(actual, dtype=float)])
        n, k = len(self.train), len(actual)
        with _fitting("ARIMA"):
            res = self.result.append(self._changes(full)[n - self.lag:], refit=False)
        changes = np.asarray(res.fittedvalues, dtype=float)[n - self.lag:]
        out: np.ndarray = changes + (full[n - self.lag: n - self.lag + k] if self.lag else 0.0)
        return out

    def predict(self, h: int) -> np.ndarray:
        with _fitting("ARIMA"):
            changes = np.asarray(self.result.forecast(h), dtype=float)
        if not self.lag:
            return changes
        path = list(self.train)
        for step in changes:
            path.append(path[-self.lag] + step)
        return np.array(path[len(self.train):], dtype=float)


class Theta(_Reference):
    """The Theta method (θ = 2: SES plus half the linear trend), deseasonalised when its test
    finds a season."""

    name: ClassVar[str] = "theta"
    key: ClassVar[str] = "theta"
    label: ClassVar[str] = "Theta"

    def fit(self, train: np.ndarray) -> Self:
        from statsmodels.tsa.forecasting.theta import ThetaModel

        y = self._values(train)
        season = self._seasonal(len(y))
        with _fitting("Theta"):
            positive = bool(np.all(y > 0))
            model = ThetaModel(y, period=season or 1, deseasonalize=bool(season),
                               method="multiplicative" if positive else "additive")
            self.result = model.fit()
        return self

    def predict(self, h: int) -> np.ndarray:
        with _fitting("Theta"):
            return np.asarray(self.result.forecast(h), dtype=float)

    def predict_one_step(self, actual: np.ndarray) -> np.ndarray:
        """ŷ_{T+1} = b0 / 2 · (1/α − (1 − α)^T / α) + ℓ_T, reseasonalised, where the SES level
        ℓ_T is updated with each new deseasonalised value (statsmodels' forecast formula with
        its fitted α and b0 held fixed)."""
        res = self.result
        alpha, b0 = float(res.params["alpha"]), float(res.params["b0"])
        factor = _season_factors(res)
        level, n = float(np.asarray(res._one_step).reshape(-1)[0]), len(self.train)  # statsmodels keeps no public copy
        out = []
        for k, value in enumerate(np.asarray(actual, dtype=float)):
            t = n + k
            trend = 0.5 * b0 * ((1 - (1 - alpha) ** t) / alpha if alpha > 0 else 0.0)
            out.append(factor.combine(level + trend, t))
            level = alpha * factor.remove(value, t) + (1 - alpha) * level
        return np.array(out, dtype=float)


@dataclass(frozen=True)
class _Factors:
    """A Theta fit's seasonal factors, applied and removed by position."""

    values: np.ndarray
    multiplicative: bool

    def combine(self, x: float, t: int) -> float:
        if not self.values.size:
            return x
        s = float(self.values[t % self.values.size])
        return x * s if self.multiplicative else x + s

    def remove(self, x: float, t: int) -> float:
        if not self.values.size:
            return x
        s = float(self.values[t % self.values.size])
        return x / s if self.multiplicative else x - s


def _season_factors(res: Any) -> _Factors:
    model = res.model
    seasonal = np.asarray(res._seasonal if model.deseasonalize else (), dtype=float)  # no public accessor
    return _Factors(seasonal[: model.period] if seasonal.size else seasonal, model.method.startswith("mul"))


def _kpss_diffs(y: np.ndarray, most: int = 2) -> int:
    """How many differences make `y` level-stationary by KPSS at 5% (at most `most`)."""
    from statsmodels.tsa.stattools import kpss

    for d in range(most + 1):
        series = np.diff(y, n=d) if d else y
        if series.size < MIN_POINTS or np.ptp(series) == 0:
            return d
        if kpss(series, regression="c", nlags="auto")[1] >= 0.05:
            return d
    return most


def season_strength(y: np.ndarray, season: int) -> float:
    """Hyndman & Athanasopoulos' seasonal strength max(0, 1 − Var(R) / Var(S + R)) from STL."""
    from statsmodels.tsa.seasonal import STL

    fit = STL(y, period=season, robust=True).fit()
    remainder, seasonal = np.asarray(fit.resid), np.asarray(fit.seasonal)
    total = float(np.var(seasonal + remainder))
    return max(0.0, 1.0 - float(np.var(remainder)) / total) if total > 0 else 0.0
