"""One real (tiny) Keras training run: seeded, observable, cancellable, divergence-safe."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstm_app import params
from lstm_app.outcome import EpochRow, LayerKind, RunOutcome, RunStatus
from lstm_app.spec import DataSpec, ExperimentSpec, LayerSpec, ModelSpec, SplitSpec, TrainingSpec, WindowSpec

train = pytest.importorskip("lstm_app.engine.train")


def series(n: int = 70, features: int = 0) -> pd.DataFrame:
    t = np.arange(n, dtype=float)
    data = {"y": 50 + 10 * np.sin(t / 4) + t * 0.3}
    for k in range(features):
        data[f"x{k}"] = np.cos(t / (k + 2))
    return pd.DataFrame(data, index=pd.date_range("2020-01-01", periods=n, freq="D"))


def experiment(*models: ModelSpec, framing: str = "steps", **training: object) -> ExperimentSpec:
    settings = {"epochs": 3, "batch_size": 8, "seeds": (0,), "patience": 0, **training}
    return ExperimentSpec(
        "t", DataSpec("x.csv", "y"), models, WindowSpec(5, framing, future_steps=4), SplitSpec(8),
        TrainingSpec(**settings),  # type: ignore[arg-type]
    )


TANH = ModelSpec("tanh", (LayerSpec(4), LayerSpec(3)))
RELU_BETWEEN = ModelSpec("relu between", (LayerSpec(4), LayerSpec(3)), between="relu")


def test_a_run_reports_epochs_metrics_forecasts_and_diagnostics(tmp_path) -> None:
    rows: list[EpochRow] = []
    exp = experiment(TANH, RELU_BETWEEN)
    out = train.run_one(exp, series(), 1, 0, on_epoch=rows.append, save_path=tmp_path / "m.keras")
    assert out.status == "done", out.message
    assert [r.epoch for r in rows] == [1, 2, 3] and out.epochs == rows
    assert all(len(r.grad_norms) == 2 and r.grad_norms[0] >= 0 for r in rows)
    assert out.params == params.total(RELU_BETWEEN, 1, 5, "steps")
    assert out.metrics is not None and out.test is not None and out.future is not None
    assert all(out.metrics.get(k) is not None for k in ("rmse", "mae", "mfe", "mda", "naive_rmse", "skill",
                                                        "volatility_ratio"))
    assert len(out.test.forecast) == len(out.test.actual) == 8
    assert out.test.actual == tuple(series()["y"].tolist()[-8:])
    assert len(out.future.forecast) == 4 and out.future.time[0] == "2020-03-11T00:00:00"
    layers = out.diagnostics.layers
    assert [d.kind for d in layers] == [LayerKind.LSTM, LayerKind.BETWEEN, LayerKind.LSTM]
    assert layers[0].max_abs is not None and layers[0].max_abs < 1.0  # tanh output stays inside (−1, 1)
    assert layers[1].min is not None and layers[1].min >= 0.0  # after ReLU nothing is negative
    assert out.regions is not None and out.regions.n_test == 8
    assert RunOutcome.from_dict(out.to_dict()) == out
    import keras

    assert keras.models.load_model(tmp_path / "m.keras").count_params() == out.params


def test_the_same_seed_gives_the_same_numbers() -> None:
    exp = experiment(TANH)
    a = train.run_one(exp, series(), 0, 7, probe_gradients=False)
    b = train.run_one(exp, series(), 0, 7, probe_gradients=False)
    c = train.run_one(exp, series(), 0, 8, probe_gradients=False)
    assert a.test is not None and b.test is not None and c.test is not None
    assert a.test.forecast == b.test.forecast
    assert a.test.forecast != c.test.forecast


def test_features_framing_and_extra_inputs() -> None:
    exp = experiment(ModelSpec("m", (LayerSpec(3),)), framing="features")
    out = train.run_one(exp, series(features=2), 0, 0)
    assert out.status == "done"
    assert out.params == 4 * 3 * (3 + 15 + 1) + 4
    assert out.future is None  # extra inputs have no known future: no recursive forecast


def test_cancel_hook_stops_the_run_and_keeps_history() -> None:
    seen: list[EpochRow] = []
    exp = experiment(TANH, epochs=50)
    out = train.run_one(exp, series(), 0, 0, on_epoch=seen.append, should_stop=lambda: len(seen) >= 2)
    assert out.status is RunStatus.CANCELLED
    assert len(out.epochs) == 2 and out.metrics is None and out.test is None


def test_relu_with_a_huge_learning_rate_diverges_without_raising() -> None:
    relu = ModelSpec("relu", (LayerSpec(8, "relu"), LayerSpec(8, "relu")))
    exp = experiment(relu, epochs=5, learning_rate=5.0)
    out = train.run_one(exp, series(), 0, 0)
    assert out.status is RunStatus.DIVERGED
    assert out.diverged_epoch == 1 and "diverged" in out.message and out.metrics is None


def test_early_stopping_restores_best_weights() -> None:
    exp = experiment(TANH, epochs=40, patience=2, learning_rate=0.05)
    out = train.run_one(exp, series(), 0, 0)
    assert out.status == "done"
    if len(out.epochs) < 40:
        assert "early stopping" in out.message
    assert out.seconds_per_epoch is not None and out.seconds_per_epoch > 0
