"""After a group has trained: forecasts, layer statistics and one `RunOutcome` per run.

The outcome is built field by field as `train.run_one` builds it, so a run reads the same
whichever path trained it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from .. import params
from ..outcome import Diagnostics, FutureForecast, LayerKind, LayerStats, RunOutcome, RunStatus
from ..spec import ExperimentSpec, ModelSpec
from ..windows import Prepared, future_index
from ._batched_fit import RunLog
from ._batched_net import Plan, forward
from .diagnostics import layer_stats as _stats
from .train import median_epoch_seconds, score, with_horizons
from .train import regions as _regions

__all__ = ["Forecasts", "forecast", "outcome"]


@dataclass(frozen=True)
class Forecasts:
    """Every run's scaled forecasts: one step ahead on the test windows (R, n_test), the
    future (R, steps) or None, the H-step forecasts from every test window (R, n_test, H) or
    None, the layer outputs on the test windows, and the horizon H the runs are scored to."""

    test: np.ndarray
    future: np.ndarray | None
    layers: list[np.ndarray]
    horizons: np.ndarray | None = None
    horizon: int = 0


def _recursive(plan: Plan, weights: Sequence[tf.Tensor], window: np.ndarray, steps: int) -> np.ndarray:
    """Each run's forecast of `steps` points, each fed back as the newest input (univariate)."""
    runs, shape = plan.runs, plan.input_shape

    @tf.function(autograph=False)  # type: ignore[untyped-decorator]  # TensorFlow has no type hints
    def run() -> tf.Tensor:
        def body(i: tf.Tensor, win: tf.Tensor, out: tf.TensorArray) -> tuple[Any, ...]:
            value = forward(plan, weights, tf.reshape(win, (runs, 1, *shape)))[:, 0, 0]
            return i + 1, tf.concat([win[:, 1:], value[:, None]], axis=1), out.write(i, value)

        start = tf.broadcast_to(tf.constant(window.reshape(1, -1), tf.float32), (runs, window.size))
        _, _, out = tf.while_loop(lambda i, *_: i < steps, body,
                                  (tf.constant(0), start, tf.TensorArray(tf.float32, size=steps)))
        return tf.transpose(out.stack())

    forecast: np.ndarray = run().numpy()
    return forecast


def _from_every_window(plan: Plan, weights: Sequence[tf.Tensor], x: np.ndarray, steps: int) -> np.ndarray:
    """Each run's recursive forecasts of `steps` points from every window of `x` at once,
    (R, N, steps): `steps` batched calls, each forecast fed back as the newest input (univariate)."""
    runs, shape, n = plan.runs, plan.input_shape, len(x)

    @tf.function(autograph=False)  # type: ignore[untyped-decorator]  # TensorFlow has no type hints
    def run() -> tf.Tensor:
        def body(i: tf.Tensor, win: tf.Tensor, out: tf.TensorArray) -> tuple[Any, ...]:
            value = forward(plan, weights, tf.reshape(win, (runs, n, *shape)))[:, :, 0]
            return i + 1, tf.concat([win[:, :, 1:], value[:, :, None]], axis=2), out.write(i, value)

        start = tf.broadcast_to(tf.constant(x.reshape(1, n, -1), tf.float32), (runs, n, x[0].size))
        _, _, out = tf.while_loop(lambda i, *_: i < steps, body,
                                  (tf.constant(0), start, tf.TensorArray(tf.float32, size=steps)))
        return tf.transpose(out.stack(), (1, 2, 0))

    forecast: np.ndarray = run().numpy()
    return forecast


def forecast(plan: Plan, weights: Sequence[tf.Tensor], data: Prepared, future_steps: int,
             horizon: int = 0) -> Forecasts:
    """Test forecasts, layer outputs, H-step forecasts from every test window and the future
    (a recursive model's only when the target is the only input; a direct model's from its
    head, capped at H)."""
    layers: list[tf.Tensor] = []
    out = forward(plan, weights, data.x_test, collect=layers).numpy()
    future = paths = None
    if plan.outputs > 1:
        paths = out[:, :, :horizon]
        if future_steps > 0:
            future = forward(plan, weights, data.last_window()[None].reshape(1, *plan.input_shape)).numpy()
            future = future[:, 0, :future_steps]
    elif data.n_features == 1:
        if future_steps > 0:
            future = _recursive(plan, weights, data.last_window(), future_steps)
        if horizon > 0:
            paths = _from_every_window(plan, weights, data.x_test, horizon)
    return Forecasts(out[:, :, 0], future, [v.numpy() for v in layers], paths, horizon)


def _activation(name: str) -> str:
    return str(keras.activations.serialize(keras.activations.get(name)))


def _layers(model: ModelSpec, values: Sequence[np.ndarray]) -> tuple[LayerStats, ...]:
    """`diagnostics.layer_outputs` for one run: LSTM outputs, and between outputs where the model has them."""
    out: list[LayerStats] = []
    names = iter(params.layer_names(model))
    for i, layer in enumerate(model.layers):
        out.append(_stats(next(names), LayerKind.LSTM, _activation(layer.activation), values[2 * i]))
        if i < len(model.layers) - 1 and model.between:
            out.append(_stats(next(names), LayerKind.BETWEEN, _activation(model.between), values[2 * i + 1]))
    return tuple(out)


def outcome(exp: ExperimentSpec, model: ModelSpec, frame: pd.DataFrame, data: Prepared, log: RunLog,
            run: int, forecasts: Forecasts) -> RunOutcome:
    """Run `run`'s `RunOutcome`, as `train.run_one` would have made it."""
    epochs = exp.training.epochs
    out = RunOutcome(status=RunStatus.DONE, epochs=list(log.rows), regions=_regions(data),
                     params=params.total(model, data.n_features, exp.window.lookback, exp.window.framing))
    out.seconds_per_epoch = median_epoch_seconds(log.rows)
    if log.status in (RunStatus.DIVERGED, RunStatus.CANCELLED):
        out.status, out.message, out.diverged_epoch = RunStatus(log.status), log.message, log.diverged_epoch
        return out
    if not score(out, forecasts.test[run], data, frame, forecasts.horizon):
        return out
    if forecasts.future is not None:
        future = data.path(forecasts.future[run], at_end=True)
        if np.all(np.isfinite(future)):
            out.future = FutureForecast(tuple(future_index(data.index, len(future))), tuple(future.tolist()))
    paths = None if forecasts.horizons is None else forecasts.horizons[run]
    with_horizons(out, paths, data, frame, forecasts.horizon)
    out.diagnostics = Diagnostics(_layers(model, [v[run] for v in forecasts.layers]))
    if len(log.rows) < epochs:
        out.message = f"early stopping after {len(log.rows)} of {epochs} epochs (best weights restored)"
    else:
        out.message = f"trained {len(log.rows)} epochs"
    return out
