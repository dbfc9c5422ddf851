"""The references, origins and runaways on the forecast and RMSE-by-horizon charts, and the
Compare view's per-origin table (synthetic outcomes on a real monthly series; the references are
fitted for real by statsmodels)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from factories import make_outcome, make_regions
from lstm_app.outcome import Metrics, RunOutcome
from lstm_app.report import charts, metrics
from lstm_app.report._charts_backtest import horizon_cap
from lstm_app.report._charts_refs import reference_forecasts
from lstm_app.report.backtest import NAIVE, Backtest
from lstm_app.report.compare import summarize
from lstm_app.report.compare_view import CompareView, origin_table
from lstm_app.spec import BacktestSpec, DataSpec, ExperimentSpec, LayerSpec, ModelSpec, RunKey, TrainingSpec

N, TEST, SEASON = 60, 6, 12
TIMES = pd.date_range("2015-01-01", periods=N, freq="MS")
LABELS = [t.isoformat() for t in TIMES]
_RNG = np.random.default_rng(7)
VALUES = 100 + np.cumsum(_RNG.normal(0, 1, N)) + 10 * np.sin(np.arange(N) * 2 * np.pi / SEASON)
ACTUAL = pd.Series(VALUES, index=TIMES, name="y")
MODELS = (ModelSpec("tanh", (LayerSpec(4),)), ModelSpec("relu", (LayerSpec(4, "relu"),)))


def spec(origins: int = 2, features: tuple[str, ...] = ()) -> ExperimentSpec:
    return ExperimentSpec("refs", DataSpec("sample:x.csv", "y", "date", features=features), MODELS,
                          training=TrainingSpec(seeds=(0, 1)), backtest=BacktestSpec(origins=origins))


def run(origin: int, offset: float, baselines: dict[str, float] | None = None, rmse: float | None = None
        ) -> RunOutcome:
    """A finished run at `origin` (0: test 48–53, 1: test 54–59) forecasting actual + `offset`."""
    end = N - (1 - origin) * TEST
    first = end - TEST
    actual = VALUES[first:end]
    out = make_outcome(time=LABELS[first:end], actual=actual, forecast=actual + offset, previous=VALUES[first - 1],
                       regions=make_regions(LABELS[:end], first - 12, first))
    if baselines is not None:
        out.metrics = Metrics(rmse=rmse, baselines=baselines)
    return out


def two_origins(offset: float = 1.0) -> dict[RunKey, RunOutcome | None]:
    return {RunKey(m, s, o): run(o, offset * (1 + m + s)) for m in range(2) for s in range(2) for o in range(2)}


def test_reference_forecasts_are_the_workers_one_step_forecasts_best_first() -> None:
    lines = reference_forecasts(ACTUAL, two_origins(), SEASON)
    assert lines is not None and reference_forecasts(ACTUAL, two_origins(), SEASON, fit=False) == lines
    assert reference_forecasts(ACTUAL + 1, two_origins(), SEASON, fit=False) is None  # not fitted: not fitted now
    keys = [line.key for line in lines]
    assert {"naive", "seasonal", "drift", "ets", "arima", "theta"} == set(keys)
    assert [line.rmse for line in lines] == sorted(line.rmse for line in lines)
    naive = next(line for line in lines if line.key == "naive")
    assert naive.time == tuple(LABELS[48:60])
    assert naive.forecast == pytest.approx(VALUES[47:59])  # the last value, over both test periods
    for origin, first in ((0, 48), (1, 54)):  # per origin, the very RMSE a worker stores
        scored = metrics.baseline_rmse(VALUES[:first], VALUES[first:first + TEST], SEASON)
        for line in lines:
            part = np.array(line.forecast[origin * TEST:(origin + 1) * TEST])
            assert math.sqrt(np.mean((part - VALUES[first:first + TEST]) ** 2)) == pytest.approx(scored[line.key])


def test_forecast_chart_draws_references_dashed_with_only_the_best_visible_and_marks_origins() -> None:
    outcomes = two_origins()
    view = CompareView(spec(), ACTUAL, outcomes, summarize(spec(), outcomes))
    fig = view.forecast
    assert fig is not None
    refs = [t for t in fig.data if t.legendgroup and t.legendgroup.startswith("reference ")]
    assert [t.name for t in refs] == [line.label for line in view.references]
    assert all(t.line.dash and t.line.width < 2 for t in refs)  # thinner than the models' 2 px
    assert [t.visible for t in refs] == [True] + ["legendonly"] * (len(refs) - 1)
    assert refs[0].name == view.references[0].label
    marks = {s.name: s.x0 for s in fig.layout.shapes if (s.name or "").startswith("origin")}
    assert marks == {"origin 1": LABELS[48], "origin 2": LABELS[54]}
    assert {a.text for a in fig.layout.annotations if (a.name or "").startswith("origin")} == {"origin 1", "origin 2"}


def test_a_runaway_test_forecast_is_clipped_and_named_in_the_legend() -> None:
    outcomes = two_origins()
    wild = run(1, 0.0)
    assert wild.test is not None
    forecast = list(wild.test.forecast)
    forecast[5] = -2.0e5
    wild.test = dataclasses.replace(wild.test, forecast=tuple(forecast))
    outcomes[RunKey(1, 0, 1)] = wild
    fig = charts.forecast_overlay(spec(), ACTUAL, outcomes)
    low, high = fig.layout.yaxis.range
    assert VALUES.min() - 10 < low < VALUES.min() and VALUES.max() < high < VALUES.max() + 10
    names = [t.name for t in fig.data if t.showlegend is not False]
    assert "relu (clipped: runs away to −2.0e5)" in names and "tanh" in names
    notes = [a.text for a in fig.layout.annotations if a.name == "clipped"]
    assert notes == ["clipped: the test forecast runs away (relu reaches −2.0e5)"]
    assert charts.forecast_overlay(spec(), ACTUAL, two_origins()).layout.yaxis.range is None


def horizon_comparison(table: dict[str, list[float | None]], horizons: int) -> object:
    outcomes = two_origins()
    comparison = summarize(spec(), outcomes)
    return dataclasses.replace(comparison, backtest=Backtest(2, (), horizons, table, {k: 4 for k in table}))


def test_rmse_by_horizon_stops_at_a_season_clips_a_runaway_and_toggles_references() -> None:
    h = 343
    table: dict[str, list[float | None]] = {
        "tanh": [1.0 + 0.01 * k for k in range(h)], "relu": [1.0 * 10 ** min(k, 12) for k in range(h)],
        NAIVE: [2.0] * h, "ets": [1.5] * h, "theta": [1.8] * h}
    fig = charts.rmse_by_horizon(spec(), horizon_comparison(table, h), season=SEASON)
    assert all(len(t.x) == 12 for t in fig.data) and list(fig.data[0].x) == list(range(1, 13))
    by_name = {t.name: t for t in fig.data}
    assert set(by_name) == {"tanh", "relu (clipped: runs away to 1.0e11)", NAIVE, "ETS", "Theta"}
    assert fig.layout.yaxis.range[1] < 3  # fits tanh and the references, not 1e11
    assert (by_name[NAIVE].visible, by_name["ETS"].visible, by_name["Theta"].visible) == (True, True, "legendonly")
    assert all(by_name[k].line.dash for k in (NAIVE, "ETS", "Theta")) and by_name["tanh"].line.dash is None
    calm = charts.rmse_by_horizon(spec(), horizon_comparison({**table, "relu": table["tanh"]}, h), season=None)
    assert calm.layout.yaxis.range is None and len(calm.data[0].x) == 12


@pytest.mark.parametrize(("horizons", "season", "cap"),
                         [(343, 52, 12), (343, 12, 12), (343, 4, 8), (343, 7, 14), (343, 24, 24), (343, None, 12),
                          (5, 12, 5), (0, None, 0)])
def test_horizon_cap(horizons: int, season: int | None, cap: int) -> None:
    assert horizon_cap(spec().models, horizons, season) == cap


def test_per_origin_table_from_known_outcomes() -> None:
    base0 = {"naive": 3.0, "seasonal": 2.5, "drift": 2.8, "ets": 1.2, "arima": 1.4}
    base1 = {"naive": 4.0, "drift": 3.5, "theta": 2.2}
    outcomes: dict[RunKey, RunOutcome | None] = {
        RunKey(0, 0, 0): run(0, 1.0, base0, 1.0), RunKey(0, 1, 0): run(0, 1.0, base0, 2.0),
        RunKey(1, 0, 0): run(0, 1.0, base0, 5.0), RunKey(1, 1, 0): None,
        RunKey(0, 0, 1): run(1, 1.0, base1, 3.0), RunKey(0, 1, 1): run(1, 1.0, base1, 4.0),
        RunKey(1, 0, 1): run(1, 1.0, base1, 6.0), RunKey(1, 1, 1): run(1, 1.0, base1, 7.0)}
    table = origin_table(spec(), outcomes)
    assert table.to_dict("records") == [
        {"Origin": 1, "Test period": "2019-01-01 – 2019-06-01", "tanh": 1.5, "relu": 5.0,
         "Best baseline": "seasonal naive", "Baseline RMSE": 2.5, "Best reference": "ETS", "Reference RMSE": 1.2},
        {"Origin": 2, "Test period": "2019-07-01 – 2019-12-01", "tanh": 3.5, "relu": 6.5,
         "Best baseline": "drift", "Baseline RMSE": 3.5, "Best reference": "Theta", "Reference RMSE": 2.2}]
    view = CompareView(spec(1), ACTUAL, outcomes, summarize(spec(), outcomes))
    assert view.origins is None  # no backtest, no table


def test_extra_input_columns_say_why_there_are_no_multi_step_forecasts() -> None:
    outcomes = two_origins()
    assert CompareView(spec(), ACTUAL, outcomes, summarize(spec(), outcomes)).no_multistep is None
    one, two = spec(features=("temp",)), spec(features=("temp", "rain"))
    assert CompareView(one, ACTUAL, outcomes, summarize(one, outcomes)).no_multistep == (
        "No multi-step forecasts: the extra input column temp has no known future values, so there is no "
        "RMSE-by-horizon chart and no future forecast.")
    said = CompareView(two, ACTUAL, outcomes, summarize(two, outcomes)).no_multistep
    assert said is not None and "extra input columns temp, rain have no known future values" in said


def test_an_origin_outside_the_series_leaves_the_other_origins_references_drawn() -> None:
    outcomes = two_origins()
    stray = run(1, 0.0)
    assert stray.test is not None
    later = [t.isoformat() for t in pd.date_range("2030-01-01", periods=TEST, freq="MS")]
    stray.test = dataclasses.replace(stray.test, time=tuple(later))
    outcomes[RunKey(0, 0, 2)] = stray  # a third origin the loaded series does not reach
    lines = reference_forecasts(ACTUAL, outcomes, SEASON)
    assert lines == reference_forecasts(ACTUAL, two_origins(), SEASON) and lines
