"""What to forecast, from the data: the target transform and lookback that give an LSTM a fair
chance (Hyndman & Athanasopoulos), each with the sentence that says why.

- a seasonal difference when the time axis has a season (`report.metrics.season_for`) and it is
  strong (STL seasonal strength ≥ `references.STRONG_SEASON`, as ARIMA's choice);
- else a difference when the series has a unit root: ADF p ≥ 0.05 (no evidence against one)
  or KPSS p < 0.05 (level-stationarity rejected);
- else the level;
- a lookback of one whole season when the season is longer than the lookback.

A transform or lookback is advised only when the split and the backtest origins still fit the
rows it leaves (`windows.check_origins`). statsmodels is imported by `advise`, so the page
process loads it only when it reads new data.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, SpecError
from ..report.metrics import season_for
from ..report.references import STRONG_SEASON, season_strength
from ..spec import SplitSpec
from ..windows import check_origins, suggest_origins
from .forms import Settings, build_specs
from .labels import plural

__all__ = ["ALPHA", "Advice", "advise"]

ALPHA = 0.05  # the tests' significance level
_MIN_TEST_POINTS = 16  # fewer values than this make ADF and KPSS say little
_UNITS = {4: "quarters", 7: "days", 12: "months", 24: "hours", 52: "weeks"}


@dataclass(frozen=True)
class Advice:
    """The advised `target` for the series `column`, a longer `lookback` (None: keep the one
    set) and the `reason`, one or two sentences for the Models page."""

    column: str
    target: str = "level"
    lookback: int | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "target": self.target, "lookback": self.lookback, "reason": self.reason}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Advice:
        lookback = raw.get("lookback")
        return cls(str(raw["column"]), str(raw.get("target") or "level"), None if lookback is None else int(lookback),
                   str(raw.get("reason") or ""))


def _fits(n: int, settings: Settings, lookback: int, lag: int) -> bool:
    """Whether the split and every backtest origin fit the `n − lag` rows a transform leaves,
    the earliest origin with at least half the last one's training windows (as
    `windows.suggest_origins` asks of a default origin count)."""
    try:
        window, split, training = build_specs(settings)
        window, fixed = dataclasses.replace(window, lookback=lookback), SplitSpec(split.test_points(n))
        check_origins(n - lag, window, fixed, training.validation_share, settings.origins)
    except (DataError, SpecError, ValueError):
        return False
    return suggest_origins(n - lag, window, fixed, training.validation_share, settings.origins) >= settings.origins


def _unit_root(y: np.ndarray) -> tuple[bool, str]:
    """Whether ADF or KPSS (level) finds a unit root, and the words that say which."""
    from statsmodels.tsa.stattools import adfuller, kpss

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # KPSS warns when p lies outside its table (0.01–0.10)
        adf = float(adfuller(y, autolag="AIC")[1])
        kp = float(kpss(y, regression="c", nlags="auto")[1])
    by_adf, by_kpss = adf >= ALPHA, kp < ALPHA
    if by_adf and by_kpss:
        return True, f"the series has a unit root (ADF p = {adf:.2f}, KPSS p = {kp:.2f})"
    if by_adf:
        return True, f"the series has a unit root by ADF (p = {adf:.2f}; KPSS p = {kp:.2f} does not reject a level)"
    if by_kpss:
        return True, f"the series is not level-stationary by KPSS (p = {kp:.2f}; ADF p = {adf:.2f})"
    return False, f"neither ADF (p = {adf:.2f}) nor KPSS (p = {kp:.2f}) finds a unit root"


def _span(season: int) -> str:
    return f"{season} {_UNITS.get(season, 'steps')}"


def _values(frame: pd.DataFrame | pd.Series) -> tuple[str, np.ndarray]:
    column = frame if isinstance(frame, pd.Series) else frame.iloc[:, 0]
    values = column.to_numpy(dtype=float)
    return str(column.name), values[np.isfinite(values)]


def advise(frame: pd.DataFrame | pd.Series, settings: Settings) -> Advice:
    """The target transform and lookback for the series (the first column of `frame`, indexed
    by time) under the page's `settings`; see the module docstring."""
    column, y = _values(frame)
    n = len(frame)
    if y.size < _MIN_TEST_POINTS or np.ptp(y) == 0:
        return Advice(column, reason="Level: the series is too short or too flat to test for a unit root.")
    season = season_for(frame.index)
    strength = season_strength(y, season) if season and y.size >= 2 * season else None
    few = f"too few training windows for {plural(settings.origins, 'backtest origin')}"
    target, lag, lead, unfit = "level", 0, "", ""  # unfit: a strong season no seasonal difference fits
    if season and strength is not None and strength >= STRONG_SEASON:
        strong = f"the season of {_span(season)} is strong (STL seasonal strength {strength:.2f})"
        if _fits(n, settings, settings.lookback, season):
            target, lag, lead = "seasonal difference", season, f"Seasonally differenced: {strong}."
        else:
            unfit = strong[0].upper() + strong[1:]
    if not lead:
        root, why = _unit_root(y)
        if root and _fits(n, settings, settings.lookback, 1):
            target, lag, lead = "difference", 1, f"Differenced: {why}."
        elif root:
            lead = f"Level: {why}, but a difference leaves {few}."
        else:
            lead = f"Level: {why}" + ("." if unfit else "; no season in its time axis." if not season else
                                      f"; the season is weak (STL seasonal strength {strength:.2f})." if strength
                                      is not None else "; too few rows to measure the season.")
    notes, lookback = [lead], None
    if season:
        short = settings.lookback < season
        if short and _fits(n, settings, season, lag):
            lookback = season
        if unfit:
            what = "a seasonal difference or a lookback of a whole season" if short and not lookback else (
                "a seasonal difference")
            notes.append(f"{unfit}, but {what} leaves {few}.")
        elif short and not lookback:
            notes.append(f"The lookback stays {settings.lookback}: a whole season ({season}) leaves {few}.")
        if lookback:
            notes.append(f"Lookback {season}: one whole season of {_span(season)}.")
    return Advice(column, target, lookback, " ".join(notes))
