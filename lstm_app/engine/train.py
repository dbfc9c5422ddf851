"""One training run, synchronous: build, fit with callbacks, forecast, evaluate (imports Keras).

A run is one model × one seed. It is seeded with `keras.utils.set_random_seed` and op
determinism, so the same seed on the same machine gives the same numbers. Divergence (a NaN,
inf or exploded loss) and cancellation end the run with a status, never an exception.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from ..horizons import by_horizon, experiment_horizon
from ..num import finite_or_none
from ..outcome import (
    Diagnostics,
    EpochRow,
    FutureForecast,
    Horizon,
    Label,
    Regions,
    RunOutcome,
    RunStatus,
    TestForecast,
)
from ..report import metrics
from ..spec import ExperimentSpec, ModelSpec, TrainingSpec
from ..windows import Prepared, Target, future_index, prepare
from .diagnostics import GradientProbe, layer_outputs
from .model import build_model

__all__ = ["horizon_of", "labels", "make_optimizer", "regions", "run_one", "seed_everything", "with_horizons"]

_determinism = False


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and make TensorFlow's ops deterministic."""
    global _determinism
    keras.utils.set_random_seed(seed)
    if not _determinism:
        tf.config.experimental.enable_op_determinism()
        _determinism = True


def make_optimizer(training: TrainingSpec) -> keras.optimizers.Optimizer:
    kwargs: dict[str, float] = {"learning_rate": training.learning_rate}
    if training.clipnorm is not None:
        kwargs["clipnorm"] = training.clipnorm
    return keras.optimizers.get({"class_name": training.optimizer, "config": kwargs})


class _Watch(keras.callbacks.Callback):  # type: ignore[misc]  # Keras has no type hints
    """Per-epoch rows, divergence detection and cooperative cancel (checked every batch)."""

    def __init__(self, training: TrainingSpec, probe: GradientProbe | None,
                 on_epoch: Callable[[EpochRow], None] | None,
                 should_stop: Callable[[], bool] | None) -> None:
        super().__init__()
        self.limit = training.divergence_loss
        self.probe, self.on_epoch, self.should_stop = probe, on_epoch, should_stop
        self.rows: list[EpochRow] = []
        self.cancelled = False
        self.diverged: str | None = None
        self.diverged_epoch: int | None = None
        self._epoch = 0
        self._start = 0.0

    def _bad(self, value: object) -> bool:
        number = finite_or_none(value)
        return number is None or number > self.limit

    def _diverge(self, what: str, value: object) -> None:
        if self.diverged is None:
            shown = "NaN" if finite_or_none(value) is None and value is not None else f"{float(value):.3g}"  # type: ignore[arg-type]
            self.diverged = (f"{what} became {shown} at epoch {self._epoch + 1} "
                             f"(limit {self.limit:g}, scaled units): the run diverged")
            self.diverged_epoch = self._epoch + 1
        self.model.stop_training = True

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and self._bad(loss):
            self._diverge("training loss", loss)
        elif self.should_stop is not None and self.should_stop():
            self.cancelled = True
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        seconds = time.perf_counter() - self._start
        if self.cancelled:
            return  # the epoch was cut short: not a finished epoch
        grads = self.probe.norms() if self.probe is not None and not self.diverged else ()
        row = EpochRow(epoch + 1, finite_or_none(logs.get("loss")), finite_or_none(logs.get("val_loss")),
                       round(seconds, 4), tuple(grads))
        self.rows.append(row)
        if self.on_epoch is not None:
            self.on_epoch(row)
        for key, what in (("loss", "training loss"), ("val_loss", "validation loss")):
            if key in logs and self._bad(logs[key]):
                self._diverge(what, logs[key])
                break
        if self.should_stop is not None and self.should_stop():
            self.cancelled = True
            self.model.stop_training = True


def run_one(exp: ExperimentSpec, frame: pd.DataFrame, model_index: int, seed: int, *,
            on_epoch: Callable[[EpochRow], None] | None = None,
            should_stop: Callable[[], bool] | None = None,
            save_path: Path | None = None, probe_gradients: bool = True) -> RunOutcome:
    """Train model `model_index` of `exp` with `seed` on `frame` (target first, then features)."""
    spec, training = exp.models[model_index], exp.training
    data = prepare(frame, exp.window, exp.split, training, target_of(spec, frame), spec.outputs)
    seed_everything(seed)
    model = build_model(spec, data.input_shape)
    model.compile(optimizer=make_optimizer(training), loss=training.loss)
    probe = GradientProbe(model, data.x_train, data.y_train, training.loss) if probe_gradients else None
    watch = _Watch(training, probe, on_epoch, should_stop)
    has_val = len(data.y_val) > 0
    callbacks: list[keras.callbacks.Callback] = [watch]
    if training.patience > 0:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor="val_loss" if has_val else "loss", patience=training.patience,
            restore_best_weights=True))
    model.fit(
        data.x_train, data.y_train,
        validation_data=(data.x_val, data.y_val) if has_val else None,
        epochs=training.epochs, batch_size=training.batch_size, shuffle=True,
        callbacks=callbacks, verbose=0,
    )
    outcome = RunOutcome(status=RunStatus.DONE, epochs=watch.rows, params=int(model.count_params()),
                         regions=regions(data))
    outcome.seconds_per_epoch = median_epoch_seconds(watch.rows)
    if watch.diverged:
        outcome.status, outcome.message = RunStatus.DIVERGED, watch.diverged
        outcome.diverged_epoch = watch.diverged_epoch
        return outcome
    if watch.cancelled:
        outcome.status = RunStatus.CANCELLED
        outcome.message = f"cancelled after {len(watch.rows)} of {training.epochs} epochs"
        return outcome
    if should_stop is not None:
        should_stop()  # a heartbeat before scoring (fitting the references takes seconds); the answer is moot now
    test = model.predict(data.x_test, verbose=0).reshape(len(data.x_test), -1)
    horizon = horizon_of(exp, frame, data)
    if not score(outcome, test[:, 0], data, frame, horizon):
        return outcome
    if spec.strategy == "direct":
        outcome.future = _direct_future(model.predict(data.last_window()[None].reshape(1, *data.input_shape),
                                                      verbose=0)[0], data, exp.window.future_steps)
        with_horizons(outcome, test[:, :horizon], data, frame, horizon)
    else:
        outcome.future = _future(model, data, exp.window.future_steps)
        with_horizons(outcome, _from_every_window(model, data, horizon), data, frame, horizon)
    outcome.diagnostics = Diagnostics(tuple(layer_outputs(model, data.x_test)))
    outcome.message = _summary(watch.rows, training.epochs)
    if save_path is not None:
        save_path.parent.mkdir(parents=True, exist_ok=True)
        model.save(save_path)
    return outcome


def _summary(rows: list[EpochRow], epochs: int) -> str:
    if len(rows) < epochs:
        return f"early stopping after {len(rows)} of {epochs} epochs (best weights restored)"
    return f"trained {len(rows)} epochs"


def median_epoch_seconds(rows: Sequence[EpochRow]) -> float | None:
    """Median wall seconds per epoch; the first epoch includes graph tracing, so it counts only
    when it is the only one."""
    seconds = [r.seconds for r in rows]
    return float(np.median(seconds[1:] if len(seconds) > 1 else seconds)) if seconds else None


def target_of(model: ModelSpec, frame: pd.DataFrame) -> Target:
    """The target transform of `model` on this series (its season from the time axis unless given)."""
    return Target.of(model.target, model.season or metrics.season_for(frame.index))


def score(outcome: RunOutcome, scaled_forecast: np.ndarray, data: Prepared, frame: pd.DataFrame,
          horizon: int = 0) -> bool:
    """Fill `outcome`'s metrics and test forecast from a one-step test forecast in scaled units;
    a forecast that is not finite marks the run diverged instead (returns False)."""
    forecast = data.one_step(scaled_forecast)
    if not np.all(np.isfinite(forecast)):
        outcome.status, outcome.diverged_epoch = RunStatus.DIVERGED, len(outcome.epochs)
        outcome.message = "the trained model forecasts NaN or infinite values: the run diverged"
        return False
    target = frame.iloc[:, 0].to_numpy(dtype=float)
    first = len(target) - data.split.n_test
    previous = float(target[first - 1])
    outcome.metrics = metrics.evaluate(forecast, data.y_test, previous, history=target[:first],
                                       season=metrics.season_for(frame.index), horizon=horizon)
    outcome.test = TestForecast(tuple(labels(frame.index[first:])), tuple(data.y_test.tolist()),
                                tuple(forecast.tolist()), tuple(metrics.naive_forecast(previous, data.y_test).tolist()))
    return True


def labels(index: pd.Index) -> list[Label]:
    """Time labels as stored: ISO strings for a DatetimeIndex, else integer positions."""
    if isinstance(index, pd.DatetimeIndex):
        return [t.isoformat() for t in index]
    return [int(i) for i in index]


def regions(data: Prepared) -> Regions:
    """The bounds of the chronological split as time labels, and the window counts."""
    names, s = labels(data.index), data.split
    return Regions(train_start=names[0], val_start=names[s.val_start] if s.n_val else None,
                   test_start=names[s.test_start], end=names[-1], n_train=s.n_train, n_val=s.n_val,
                   n_test=s.n_test)


def _recursive(model: keras.Model, data: Prepared, window: np.ndarray, steps: int) -> np.ndarray | None:
    """Recursive forecast of `steps` points after `window` (scaled rows), in scaled units; None
    when extra input columns (with no known future values) make it impossible."""
    if steps <= 0 or data.n_features != 1:
        return None
    window = window.astype("float32").copy()
    out: list[float] = []
    shape = (1, *data.input_shape)
    for _ in range(steps):
        value = float(model(window.reshape(shape), training=False).numpy().reshape(-1)[0])
        out.append(value)
        window = np.concatenate([window[1:], [[value]]]).astype("float32")
    return np.array(out)


def _future(model: keras.Model, data: Prepared, steps: int) -> FutureForecast | None:
    """Recursive forecast of `steps` points past the end (only when the target is the only
    input: extra input columns have no known future values)."""
    scaled = _recursive(model, data, data.last_window(), steps)
    if scaled is None:
        return None
    forecast = data.path(scaled, at_end=True)
    if not np.all(np.isfinite(forecast)):
        return None
    return FutureForecast(tuple(future_index(data.index, steps)), tuple(forecast.tolist()))


def horizon_of(exp: ExperimentSpec, frame: pd.DataFrame, data: Prepared) -> int:
    """The horizon the runs of `exp` are scored to on this split (`horizons.experiment_horizon`)."""
    return experiment_horizon(exp.models, metrics.season_for(frame.index), data.split.n_test)


def _from_every_window(model: keras.Model, data: Prepared, steps: int) -> np.ndarray | None:
    """Recursive forecasts of `steps` points from every test window at once (scaled, (n_test,
    steps)): `steps` batched calls, each forecast fed back as the newest input; None with extra
    input columns."""
    if steps <= 0 or data.n_features != 1:
        return None
    window = data.x_test.reshape(len(data.x_test), -1).astype("float32")
    out = []
    for _ in range(steps):
        called = model(window.reshape(len(window), *data.input_shape), training=False)
        value = np.asarray(called).reshape(len(window), -1)[:, 0]
        out.append(value)
        window = np.concatenate([window[:, 1:], value[:, None]], axis=1).astype("float32")
    return np.stack(out, axis=1)


def _direct_future(scaled: np.ndarray, data: Prepared, steps: int) -> FutureForecast | None:
    """A direct model's future: its Dense(H) output from the last window, capped at H steps
    (it feeds nothing back)."""
    steps = min(steps, len(scaled))
    forecast = data.path(np.asarray(scaled[:steps], dtype=float), at_end=True)
    if steps <= 0 or not np.all(np.isfinite(forecast)):
        return None
    return FutureForecast(tuple(future_index(data.index, steps)), tuple(forecast.tolist()))


def with_horizons(outcome: RunOutcome, scaled: np.ndarray | None, data: Prepared, frame: pd.DataFrame,
                  horizon: int) -> None:
    """Score the (n_test, H) forecasts from every test window (scaled; None when they cannot be
    made) at each horizon, beside the baselines', and keep the path from the test period's
    start as `TestForecast.recursive` when it is finite (the one-step metrics stand either way)."""
    if outcome.test is None:
        return
    target = frame.iloc[:, 0].to_numpy(dtype=float)
    first = len(target) - data.split.n_test
    baselines = metrics.horizon_baselines(target[:first], data.y_test, metrics.season_for(frame.index), horizon)
    if scaled is None:  # no model forecast beyond one step: the baselines' still count
        outcome.test = dataclasses.replace(outcome.test, recursive=(), horizon=Horizon((), (), baselines))
        return
    with np.errstate(over="ignore", invalid="ignore"):
        values = data.paths(np.asarray(scaled, dtype=float))
    scored = dataclasses.replace(by_horizon(values, data.y_test), baselines=baselines)
    start = tuple(values[0].tolist()) if len(values) and np.all(np.isfinite(values[0])) else ()
    outcome.test = dataclasses.replace(outcome.test, recursive=start, horizon=scored)
