"""Chronological split, train-only scaling, both framings, no test leakage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstm_app import windows
from lstm_app.errors import DataError
from lstm_app.spec import SplitSpec, TrainingSpec, WindowSpec


def frame(n: int, features: int = 0) -> pd.DataFrame:
    index = pd.date_range("2020-01-05", periods=n, freq="W-SUN")
    data = {"y": np.arange(n, dtype=float) * 2 + 1}
    for k in range(features):
        data[f"x{k}"] = np.arange(n, dtype=float) * (k + 3)
    return pd.DataFrame(data, index=index)


def test_hotel_replication_split_is_80_20_of_the_first_100_windows() -> None:
    plan = windows.plan_split(115, WindowSpec(5, "features"), SplitSpec(10), 0.2)
    assert (plan.n_train, plan.n_val, plan.n_test) == (80, 20, 10)
    assert (plan.val_start, plan.test_start) == (85, 105)


def test_windows_hold_the_lags_before_each_target_in_both_framings() -> None:
    df = frame(40, features=1)
    steps = windows.prepare(df, WindowSpec(4, "steps"), SplitSpec(5), TrainingSpec(validation_share=0.2))
    feats = windows.prepare(df, WindowSpec(4, "features"), SplitSpec(5), TrainingSpec(validation_share=0.2))
    assert steps.x_train.shape[1:] == (4, 2) and feats.x_train.shape[1:] == (1, 8)
    assert steps.input_shape == (4, 2)
    # first training target is row 4, predicted from rows 0..3
    np.testing.assert_allclose(steps.x_train[0], steps.scaled[0:4])
    assert steps.y_train[0] == steps.scaled[4, 0]
    np.testing.assert_allclose(feats.x_train[0, 0], steps.scaled[0:4].reshape(-1))
    # test targets are the last 5 rows in original units, inputs are actual history
    np.testing.assert_allclose(steps.y_test, df["y"].to_numpy()[-5:])
    np.testing.assert_allclose(steps.x_test[-1], steps.scaled[-5:-1])
    assert len(steps.y_train) + len(steps.y_val) + len(steps.y_test) == 40 - 4


def test_scaling_uses_training_rows_only() -> None:
    df = frame(50)
    df.iloc[-10:, 0] = 1e6  # a wild test period must not move the scaler
    prepared = windows.prepare(df, WindowSpec(5), SplitSpec(10), TrainingSpec(validation_share=0.25))
    train_rows = df["y"].to_numpy()[: prepared.split.val_start]
    assert prepared.scaler.offset[0] == train_rows.min()
    assert prepared.scaler.scale[0] == train_rows.max() - train_rows.min()
    assert prepared.x_train.max() <= 1.0 and prepared.y_train.max() <= 1.0
    assert prepared.y_val.max() > 1.0  # validation is scaled with training statistics, not its own


def test_standard_scaling_and_inverse() -> None:
    df = frame(60)
    prepared = windows.prepare(df, WindowSpec(5, scaling="standard"), SplitSpec(10), TrainingSpec())
    rows = df["y"].to_numpy()[: prepared.split.val_start]
    assert prepared.scaler.offset[0] == pytest.approx(rows.mean())
    back = prepared.scaler.inverse_target(prepared.scaled[:, 0])
    np.testing.assert_allclose(back, df["y"].to_numpy())


def test_too_short_series_is_one_sentence() -> None:
    with pytest.raises(DataError) as info:
        windows.plan_split(20, WindowSpec(12), SplitSpec(5), 0.2)
    message = str(info.value)
    assert "20 rows" in message and "lookback 12" in message and "\n" not in message


def test_future_index_continues_the_calendar() -> None:
    monthly = pd.date_range("1960-01-01", periods=12, freq="MS")
    assert windows.future_index(monthly, 2) == ["1961-01-01T00:00:00", "1961-02-01T00:00:00"]
    assert windows.future_index(pd.RangeIndex(10), 3) == [10, 11, 12]


@pytest.mark.parametrize("n", [60, 115, 144, 309, 5000])
def test_suggested_defaults_fit_the_series(n: int) -> None:
    window, split, training = windows.suggest(n)
    plan = windows.plan_split(n, window, split, training.validation_share)
    assert plan.n_train >= windows.MIN_TRAIN_WINDOWS
    assert training.batch_size <= max(8, plan.n_train // 4)
    assert training.learning_rate == (0.0001 if n < 300 else 0.001), "short series learn slowly (bench_answers)"
