"""The `Forecaster` interface: every forecaster follows its definition one step ahead and h steps
ahead, says in words why it cannot be fitted, and is scored and stored through the same path
as the LSTMs (a run's metrics → the store's rows → the comparison's baselines)."""

from __future__ import annotations

import numpy as np
import pytest

from factories import make_outcome
from lstm_app.errors import FitError
from lstm_app.outcome import Metrics
from lstm_app.report import forecasters, metrics
from lstm_app.report.compare import summarize
from lstm_app.report.forecasters import FORECASTERS, Drift, Naive, SeasonalNaive
from lstm_app.spec import DataSpec, ExperimentSpec, LayerSpec, ModelSpec, TrainingSpec

TRAIN, ACTUAL = np.array([1.0, 2.0, 4.0, 3.0]), np.array([5.0, 6.0, 2.0])


def test_each_forecaster_follows_its_definition_one_step_and_h_steps_ahead() -> None:
    assert Naive().fit(TRAIN).predict_one_step(ACTUAL).tolist() == [3.0, 5.0, 6.0]
    assert Naive().fit(TRAIN).predict(2).tolist() == [3.0, 3.0]
    seasonal = SeasonalNaive(2).fit(TRAIN)
    assert seasonal.predict_one_step(ACTUAL).tolist() == [4.0, 3.0, 5.0]  # one season back
    assert seasonal.predict(3).tolist() == [4.0, 3.0, 4.0]  # the last season, repeated
    drift = Drift().fit(TRAIN)  # last value + (last − first) / (t − 1), t = each point's position
    assert drift.predict_one_step(ACTUAL).tolist() == pytest.approx([3 + 2 / 3, 5 + 4 / 4, 6 + 5 / 5])
    assert drift.predict(2).tolist() == pytest.approx([3 + 2 / 3, 3 + 4 / 3])


def test_one_step_forecasts_use_only_the_history_before_each_point() -> None:
    rng = np.random.default_rng(3)
    train = 50 + 10 * np.sin(np.arange(40) * np.pi / 2) + np.cumsum(rng.normal(0, 1, 40))  # season 4
    actual = np.array([55.0, 48.0, 52.0])
    for cls in FORECASTERS:
        model = cls(4).fit(train)
        first = model.predict_one_step(actual)
        changed = model.predict_one_step(np.array([55.0, 48.0, 999.0]))  # only the last actual differs
        assert first.tolist() == pytest.approx(changed.tolist()), cls.name
        assert model.predict_one_step(actual[:1]) == pytest.approx(model.predict(1)), cls.name
        assert np.all(np.isfinite(model.predict(5))), cls.name


@pytest.mark.parametrize(("cls", "season", "train", "reason"), [
    (SeasonalNaive, None, TRAIN, "has no season"),
    (SeasonalNaive, 12, TRAIN, r"needs a whole season \(12 points\) of history, got 4"),
    (Drift, None, TRAIN[:1], "needs at least 2 points of history, got 1"),
    (Naive, None, TRAIN[:0], "no training rows"),
])
def test_a_forecaster_that_cannot_be_fitted_says_why(cls: type[forecasters.Forecaster], season: int | None,
                                                     train: np.ndarray, reason: str) -> None:
    with pytest.raises(FitError, match=reason):
        cls(season).fit(train)


def test_every_forecaster_is_scored_stored_and_compared_by_its_key() -> None:
    history = np.array([10.0, 12.0, 11.0, 13.0, 12.0, 14.0])
    actual = np.array([13.0, 15.0, 14.0])
    m = metrics.evaluate(actual + 0.1, actual, history[-1], history=history, season=2)
    assert set(m.baselines) == {"naive", "seasonal", "drift"}  # too short a history for the references
    for cls in FORECASTERS[:3]:
        assert m.baselines[cls.key] == pytest.approx(metrics.rmse(cls(2).fit(history).predict_one_step(actual), actual))
    assert m.naive_rmse == m.baselines["naive"] and m.skill == pytest.approx(1 - 0.1 / m.baselines["naive"])
    stored = m.as_dict()  # the store's rows and results.json keep the flat `<key>_rmse` names
    assert {"naive_rmse", "seasonal_rmse", "drift_rmse"} <= set(stored)
    assert Metrics.from_dict(stored) == m and Metrics.from_dict(m.to_dict()) == m
    no_season = metrics.evaluate(actual, actual, history[-1], history=history, season=None)
    assert "seasonal" not in no_season.baselines and "seasonal_rmse" not in no_season.to_dict()
    spec = ExperimentSpec("f", DataSpec("x.csv", "y"), (ModelSpec("m", (LayerSpec(4),)),),
                          training=TrainingSpec(seeds=(0, 1, 2)))
    outcomes = {(0, s): make_outcome(actual=actual, forecast=actual + 0.1, previous=history[-1], metrics=m)
                for s in range(3)}
    base = summarize(spec, outcomes).baselines
    assert base is not None and base.rmse == {f.name: m.baselines[f.key] for f in FORECASTERS[:3]}
    assert base.best_reference is None and "best_reference" not in base.to_dict()


def test_results_written_before_the_forecasters_load_unchanged() -> None:
    old = {"rmse": 1.0, "mae": 0.5, "mfe": 0.1, "mda": 0.5, "naive_rmse": 2.0, "naive_mae": 1.5, "skill": 0.5,
           "volatility_ratio": 0.9}
    m = Metrics.from_dict(old)
    assert m.naive_rmse == 2.0 and m.baselines == {"naive": 2.0} and m.to_dict() == old
    assert Metrics.from_dict({**old, "naive_rmse": None}).to_dict() == {**old, "naive_rmse": None}
