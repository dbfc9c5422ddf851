"""Inside-the-network diagnostics: layer output distributions and gradient norms (imports Keras)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from ..outcome import Histogram, LayerKind, LayerStats
from .model import lstm_layers

__all__ = ["DEAD_THRESHOLD", "HISTOGRAM_BINS", "PROBE_SIZE", "GradientProbe", "layer_outputs", "layer_stats"]

PROBE_SIZE = 64
HISTOGRAM_BINS = 40
# A unit whose |output| never exceeds this on any test window and step is "dead".
DEAD_THRESHOLD = 1e-6


class GradientProbe:
    """Gradient norm per LSTM layer on a fixed probe batch: the first `PROBE_SIZE` training
    windows, in order, so the numbers are comparable across epochs and models."""

    def __init__(self, model: keras.Model, x: np.ndarray, y: np.ndarray, loss: str) -> None:
        n = min(PROBE_SIZE, len(x))
        self._x = tf.constant(x[:n], dtype=tf.float32)
        self._y = tf.constant(np.asarray(y[:n]).reshape(n, -1), dtype=tf.float32)  # (n, 1), or (n, H) for a direct head
        self._loss = keras.losses.get(loss)
        self._groups = [layer.trainable_variables for layer in lstm_layers(model)]
        self._model = model
        self._fn = tf.function(self._norms, reduce_retracing=True)

    def _norms(self) -> list[tf.Tensor]:
        with tf.GradientTape() as tape:
            pred = self._model(self._x, training=False)
            loss = tf.reduce_mean(self._loss(self._y, pred))
        flat = [v for group in self._groups for v in group]
        grads = tape.gradient(loss, flat)
        out, i = [], 0
        for group in self._groups:
            out.append(tf.linalg.global_norm(grads[i: i + len(group)]))
            i += len(group)
        return out

    def norms(self) -> tuple[float, ...]:
        values = [float(v) for v in self._fn()]
        return tuple(v if np.isfinite(v) else float("nan") for v in values)


def layer_stats(name: str, kind: LayerKind, activation: str, values: np.ndarray) -> LayerStats:
    """Statistics of one layer's outputs `values` (..., units) over their finite entries."""
    units = int(values.shape[-1])
    flat = values.reshape(-1, units)
    finite = flat[np.isfinite(flat)]
    if finite.size == 0:
        return LayerStats(name, kind, activation, units, finite=False)
    counts, edges = np.histogram(finite, bins=HISTOGRAM_BINS)
    per_unit = np.nanmax(np.abs(flat), axis=0)
    return LayerStats(
        name, kind, activation, units,
        finite=bool(finite.size == flat.size),
        min=float(finite.min()),
        max=float(finite.max()),
        max_abs=float(np.abs(finite).max()),
        mean=float(finite.mean()),
        share_outside_unit=float(np.mean(np.abs(finite) > 1.0)),
        dead_units=int(np.sum(per_unit <= DEAD_THRESHOLD)),
        dead_share=float(np.mean(per_unit <= DEAD_THRESHOLD)),
        histogram=Histogram(tuple(int(c) for c in counts), tuple(float(e) for e in edges)),
    )


def layer_outputs(model: keras.Model, x: np.ndarray) -> list[LayerStats]:
    """Output statistics of every LSTM layer (and activation layer between them) on `x`."""
    picked = [
        layer for layer in model.layers
        if isinstance(layer, (keras.layers.LSTM, keras.layers.Activation))
    ]
    if not picked or len(x) == 0:
        return []
    probe = keras.Model(model.inputs, [layer.output for layer in picked])
    values = probe.predict(x.astype("float32"), verbose=0)
    if len(picked) == 1:
        values = [values]
    out = []
    for layer, value in zip(picked, values, strict=True):
        kind = LayerKind.LSTM if isinstance(layer, keras.layers.LSTM) else LayerKind.BETWEEN
        activation = keras.activations.serialize(layer.activation)
        out.append(layer_stats(layer.name, kind, str(activation), np.asarray(value)))
    return out
