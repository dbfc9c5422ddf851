"""Target transforms (`ModelSpec.target`): a model learns the level, the change, the seasonal
change or the log; its forecasts come back in the series' units before any metric. Exact
inversion by hand, refusals in one sentence, and real tiny training on a trend."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstm_app.errors import DataError, SpecError
from lstm_app.spec import (
    DataSpec,
    ExperimentSpec,
    LayerSpec,
    ModelSpec,
    SplitSpec,
    TrainingSpec,
    WindowSpec,
)
from lstm_app.windows import Target, prepare

SERIES = pd.DataFrame({"y": 50 + np.arange(40.0) * 2 + 5 * np.sin(np.arange(40) * np.pi / 2)},
                      index=pd.date_range("2020-01-01", periods=40, freq="QS"))


@pytest.mark.parametrize("kind", ["level", "difference", "seasonal difference", "log", "log difference"])
def test_the_forecast_of_the_true_transformed_value_gives_back_the_true_series(kind: str) -> None:
    data = prepare(SERIES, WindowSpec(4), SplitSpec(8), TrainingSpec(), Target.of(kind, 4))
    truth = data.scaled[data.split.test_start:, 0]  # the scaled transformed test values themselves
    assert data.one_step(truth) == pytest.approx(SERIES["y"].to_numpy()[-8:])
    assert data.path(truth) == pytest.approx(SERIES["y"].to_numpy()[-8:])  # a path built on exact steps
    assert len(data.y_test) == 8 and data.y_test == pytest.approx(SERIES["y"].to_numpy()[-8:])
    assert list(data.index[data.split.test_start:]) == list(SERIES.index[-8:])  # the same test times


def test_one_step_undoes_the_change_from_actual_history_and_a_path_from_its_own_steps() -> None:
    target = Target.of("difference")
    before, known = np.array([10.0]), np.array([12.0, 15.0])
    assert target.invert(np.array([1.0, 1.0]), before, known).tolist() == [11.0, 13.0]  # 10+1, then 12+1
    assert target.invert(np.array([1.0, 1.0]), before).tolist() == [11.0, 12.0]  # 10+1, then 11+1
    seasonal = Target.of("seasonal difference", 2)
    assert seasonal.invert(np.array([1.0, 1.0, 1.0]), np.array([5.0, 7.0])).tolist() == [6.0, 8.0, 7.0]


def test_transforms_that_cannot_apply_are_one_sentence() -> None:
    negative = SERIES - 100
    with pytest.raises(DataError, match=r"^The log target needs every value of the target to be positive"):
        prepare(negative, WindowSpec(4), SplitSpec(8), TrainingSpec(), Target.of("log"))
    with pytest.raises(DataError, match=r"^A seasonal difference needs a season"):
        Target.of("seasonal difference", None)
    with pytest.raises(SpecError, match="target"):
        ModelSpec("m", (LayerSpec(4),), target="cube root")
    spec = ModelSpec("m", (LayerSpec(4),), target="seasonal difference", season=12)
    assert spec.describe().endswith(", on the seasonal difference (lag 12)")


def test_files_without_a_target_keep_todays_meaning_and_the_target_round_trips() -> None:
    exp = ExperimentSpec("t", DataSpec("x.csv", "y"), (ModelSpec("d", (LayerSpec(4),), target="difference"),))
    raw = exp.to_dict()
    assert ExperimentSpec.from_json(exp.to_json()) == exp
    del raw["models"][0]["target"], raw["models"][0]["season"]
    assert ExperimentSpec.from_dict(raw).models[0].target == "level"


@pytest.mark.slow
def test_on_a_linear_trend_the_differenced_model_follows_it_where_the_level_model_cannot() -> None:
    from lstm_app.engine import batched

    y = 100 + 3.0 * np.arange(120) + np.random.default_rng(0).normal(0, 0.5, 120)
    frame = pd.DataFrame({"y": y}, index=pd.RangeIndex(120))
    models = (ModelSpec("level", (LayerSpec(8),)), ModelSpec("difference", (LayerSpec(8),), target="difference"))
    spec = ExperimentSpec("trend", DataSpec("trend.csv", "y"), models, WindowSpec(lookback=6, future_steps=0),
                          SplitSpec(20), TrainingSpec(epochs=30, batch_size=16, seeds=(0,), patience=0,
                                                      learning_rate=0.01))
    level, diff = (batched.train_group(spec, frame, [(i, 0)])[0].outcome for i in range(2))
    assert level.test is not None and diff.test is not None and diff.metrics is not None
    # the level model's scaled inputs leave the training range: its path flattens and falls behind
    # (the path from the test period's start runs to the horizon, 12 steps here: no season)
    end = 100 + len(level.test.recursive) - 1
    assert len(level.test.recursive) == len(diff.test.recursive) == 12
    level_gap = abs(level.test.recursive[-1] - y[end])
    diff_gap = abs(diff.test.recursive[-1] - y[end])
    assert diff_gap < 10 < level_gap
    # and from every test window: the differenced model's RMSE over 1–12 steps is far below the level one's
    level_h, diff_h = level.test.horizon, diff.test.horizon
    assert level_h is not None and diff_h is not None
    assert (diff_h.pooled() or np.inf) < 5 < (level_h.pooled() or 0)
    assert diff.metrics.rmse is not None and diff.metrics.rmse < 2.0
