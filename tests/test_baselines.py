"""Baselines first: series with a known answer (a random walk no model beats, a seasonal series
whose seasonal naive is the baseline to beat), real tiny training where it matters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from factories import make_outcome
from lstm_app.report import metrics
from lstm_app.report.compare import summarize
from lstm_app.spec import DataSpec, ExperimentSpec, LayerSpec, ModelSpec, SplitSpec, TrainingSpec, WindowSpec


def test_baseline_forecasts_follow_their_definitions() -> None:
    history, actual = np.array([1.0, 2.0, 4.0, 3.0]), np.array([5.0, 6.0])
    assert metrics.naive_forecast(history[-1], actual).tolist() == [3.0, 5.0]
    assert metrics.seasonal_naive_forecast(history, actual, 2).tolist() == [4.0, 3.0]  # one season back
    assert metrics.seasonal_naive_forecast(history, actual, 5) is None  # not a whole season of history
    # drift: last value + (last − first) / (t − 1)
    assert metrics.drift_forecast(history, actual).tolist() == pytest.approx([3 + 2 / 3, 5 + 4 / 4])
    assert [metrics.season_for(pd.date_range("2020-01-01", periods=30, freq=f)) for f in ("h", "D", "W-SUN", "MS",
                                                                                          "QS", "YS")] == \
        [24, 7, 52, 12, 4, None]
    assert metrics.season_for(pd.RangeIndex(30)) is None


def test_on_a_seasonal_series_the_seasonal_naive_is_the_baseline_to_beat() -> None:
    index = pd.date_range("2010-01-01", periods=96, freq="MS")
    rng = np.random.default_rng(1)
    y = 100 + 30 * np.sin(2 * np.pi * np.arange(96) / 12) + rng.normal(0, 1, 96)
    history, actual = y[:84], y[84:]
    season = metrics.season_for(index)
    assert season == 12
    outcomes = {}
    for seed in range(3):  # models close to the seasonal naive, one a little better, one worse
        for i, noise in enumerate((0.4, 6.0)):
            forecast = actual + rng.normal(0, noise, len(actual))
            m = metrics.evaluate(forecast, actual, history[-1], history=history, season=season)
            outcomes[(i, seed)] = make_outcome(actual=actual, forecast=forecast, previous=history[-1], metrics=m)
    m0 = next(iter(outcomes.values())).metrics
    assert m0 is not None and {"naive", "seasonal", "drift", "ets", "arima", "theta"} <= set(m0.baselines)
    seasonal, naive, drift = (m0.baselines[k] for k in ("seasonal", "naive", "drift"))
    assert seasonal < naive / 5 and seasonal < drift
    spec = ExperimentSpec("s", DataSpec("sample:x.csv", "y"), (ModelSpec("good", (LayerSpec(4),)),
                                                               ModelSpec("poor", (LayerSpec(4, "relu"),))),
                          training=TrainingSpec(seeds=(0, 1, 2)))
    comparison = summarize(spec, outcomes)
    assert comparison.baselines is not None and comparison.baselines.best == "seasonal naive"
    assert [m.beats_naive for m in comparison.models] == [True, False]
    assert comparison.headline.startswith("good beats the best baseline, seasonal naive (RMSE ")
    assert "lies entirely below 0. good beats the best statistical reference, ETS (RMSE " in comparison.headline
    data = comparison.to_dict()
    assert [m["beats_naive"] for m in data["models"]] == [True, False]
    assert data["baselines"]["best"] == "seasonal naive"
    assert "seasonal naive (baseline)" in comparison.table().index


@pytest.mark.slow
def test_on_a_random_walk_no_model_beats_the_naive_forecast_and_the_verdict_says_so_first() -> None:
    from lstm_app.engine import batched

    rng = np.random.default_rng(7)
    walk = 100 + np.cumsum(rng.normal(0, 1, 240))
    frame = pd.DataFrame({"y": walk}, index=pd.RangeIndex(240))
    spec = ExperimentSpec(
        "walk", DataSpec("walk.csv", "y"),
        (ModelSpec("tanh", (LayerSpec(4),)), ModelSpec("relu", (LayerSpec(4, "relu"),))),
        WindowSpec(lookback=8, future_steps=0), SplitSpec(30),
        TrainingSpec(epochs=4, batch_size=32, seeds=(0, 1, 2), patience=0),
    )
    members = [(i, s) for i in range(2) for s in spec.training.seeds]
    results = batched.train_group(spec, frame, members)
    outcomes = {m: r.outcome for m, r in zip(members, results, strict=True)}
    comparison = summarize(spec, outcomes)
    assert comparison.baselines is not None and comparison.baselines.best in ("naive", "drift")
    assert [m.beats_naive for m in comparison.models] == [False, False]
    assert comparison.headline.startswith("No model beats the best baseline, ")
    assert "every model's RMSE is higher" in comparison.headline


def test_two_identical_models_are_not_called_different_while_a_planted_difference_is() -> None:
    rng = np.random.default_rng(3)
    actual = 50 + rng.normal(0, 5, 40)
    previous = 50.0
    base_errors = [rng.normal(0, 1, 40) for _ in range(5)]

    def outcome(errors: np.ndarray) -> object:
        return make_outcome(actual=actual, forecast=actual + errors, previous=previous)

    spec = ExperimentSpec("p", DataSpec("sample:x.csv", "y"),
                          tuple(ModelSpec(n, (LayerSpec(4),)) for n in ("a", "same as a", "degraded")),
                          training=TrainingSpec(seeds=(0, 1, 2, 3, 4)))
    outcomes = {}
    for s, e in enumerate(base_errors):
        outcomes[(0, s)] = outcome(e)
        outcomes[(1, s)] = outcome(e.copy())
        outcomes[(2, s)] = outcome(2.5 * e + 1.0)  # planted: larger and biased errors
    comparison = summarize(spec, outcomes)
    same, degraded = comparison.models[1], comparison.models[2]
    assert same.vs_reference is not None and not same.vs_reference.rmse.excludes_zero
    assert "no difference" in same.verdict
    assert degraded.vs_reference is not None and degraded.vs_reference.rmse.excludes_zero
    assert degraded.verdict.endswith("— a real deterioration on this data.")
