"""The batched network: stacked LSTMs and a dense head with a leading run axis R.

Every weight has shape (R, ...) in the order of `build_model(spec, shape).get_weights()`:
per LSTM layer kernel (R, p, 4m), recurrent kernel (R, m, 4m), bias (R, 4m), gates in
Keras's order i, f, c, o; per Dense layer kernel (R, in, out), bias (R, out).

Activations may differ per run; each runs on its own slice of the run axis (`_acts`). The LSTM
layers are `_gemm_lstm`'s (input projections and weight gradients as large GEMMs, a
hand-written backward), except layers with recurrent dropout, which `_lstm` differentiates
by TensorFlow's autodiff.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from ..spec import ModelSpec
from ._acts import Segments
from ._acts import apply as _apply
from ._acts import segments as _segments
from ._gemm_lstm import project, recurrence

__all__ = ["UNROLL_LIMIT", "Plan", "forward", "head", "initial_weights", "stack", "uniform", "unstack"]

# With recurrent dropout (`_lstm`), sequences up to this many time steps are unrolled in the
# graph; longer ones run a `tf.scan` loop so the graph stays small.
UNROLL_LIMIT = 16


@dataclass(frozen=True)
class Plan:
    """The static structure of a group: shared shapes plus per-run activations and dropout.

    Per-layer fields are indexed [layer][run]; `between` and `dense_activation` by run
    (`"linear"` where a model has no activation layer between its LSTM layers).
    """

    input_shape: tuple[int, int]
    units: tuple[int, ...]
    dense: tuple[int, ...]
    activation: tuple[tuple[str, ...], ...]
    recurrent_activation: tuple[tuple[str, ...], ...]
    between: tuple[str, ...]
    dense_activation: tuple[str, ...]
    dropout: tuple[tuple[float, ...], ...]
    recurrent_dropout: tuple[tuple[float, ...], ...]
    outputs: int = 1  # the output layer's width: a direct model's horizon, else 1

    @classmethod
    def of(cls, models: Sequence[ModelSpec], input_shape: Sequence[int]) -> Plan:
        """The plan for `models` (one per run) fed windows of `input_shape` (steps, width)."""
        first = models[0]
        for model in models:
            if (model.units, model.dense, model.outputs) != (first.units, first.dense, first.outputs):
                raise ValueError(f"runs of one group need equal layer sizes, got {first.units}+{first.dense}"
                                 f"+{first.outputs} and {model.units}+{model.dense}+{model.outputs}")
        layers = range(len(first.layers))
        return cls(
            input_shape=(int(input_shape[0]), int(input_shape[1])),
            units=first.units,
            dense=first.dense,
            activation=tuple(tuple(m.layers[i].activation for m in models) for i in layers),
            recurrent_activation=tuple(tuple(m.layers[i].recurrent_activation for m in models) for i in layers),
            between=tuple(m.between or "linear" for m in models),
            dense_activation=tuple(m.dense_activation for m in models),
            dropout=tuple(tuple(float(m.layers[i].dropout) for m in models) for i in layers),
            recurrent_dropout=tuple(tuple(float(m.layers[i].recurrent_dropout) for m in models) for i in layers),
            outputs=first.outputs,
        )

    @property
    def runs(self) -> int:
        return len(self.between)

    def per_gate(self, layer: int) -> bool:
        """Whether the layer draws one dropout mask per gate (Keras's implementation 1, which
        Keras switches to when `recurrent_dropout` > 0)."""
        return any(rate > 0 for rate in self.recurrent_dropout[layer])

    def shapes(self) -> list[tuple[int, ...]]:
        """One run's weight shapes, in Keras's `get_weights()` order."""
        out: list[tuple[int, ...]] = []
        width = self.input_shape[1]
        for m in self.units:
            out += [(width, 4 * m), (m, 4 * m), (4 * m,)]
            width = m
        for units in (*self.dense, self.outputs):
            out += [(width, units), (units,)]
            width = units
        return out


def _per_gate_matmul(xs: Sequence[tf.Tensor], kernel: tf.Tensor, m: int) -> tf.Tensor:
    """Gate g's input `xs[g]` (R, K, p) times gate g's quarter of `kernel`, side by side: (R, K, 4m)."""
    return tf.concat([tf.matmul(x, kernel[:, :, g * m:(g + 1) * m]) for g, x in enumerate(xs)], axis=-1)


def _lstm(x: tf.Tensor, kernel: tf.Tensor, recurrent: tf.Tensor, bias: tf.Tensor, act: Segments,
          rec_act: Segments, sequences: bool, masks: tuple[tf.Tensor | None, tf.Tensor | None]) -> tf.Tensor:
    """One LSTM layer over (R, N, T, p) → (R, N, T, m) or (R, N, m); zero initial state."""
    runs, steps, width = x.shape[0], x.shape[2], x.shape[3]
    m = recurrent.shape[1]
    shape = tf.shape(x)
    in_mask, rec_mask = masks
    if in_mask is not None and in_mask.shape.rank == 4:  # one mask per gate, the same at every step
        xw = _per_gate_matmul([tf.reshape(x * in_mask[:, :, None, g, :], (runs, -1, width)) for g in range(4)],
                              kernel, m)
    else:
        if in_mask is not None:
            x = x * in_mask[:, :, None, :]
        xw = tf.matmul(tf.reshape(x, (runs, -1, width)), kernel)
    xw = tf.reshape(xw + bias[:, None, :], (runs, shape[1], steps, 4 * m))

    def recur(h: tf.Tensor) -> tf.Tensor:
        if rec_mask is None:
            return tf.matmul(h, recurrent)
        return _per_gate_matmul([h * rec_mask[:, :, g] for g in range(4)], recurrent, m)

    def cell(z: tf.Tensor, c: tf.Tensor | None) -> tuple[tf.Tensor, tf.Tensor]:
        # The gates' activation runs on all four quarters (one op instead of three); the
        # cell quarter's copy is unused, so its gradient is exactly zero.
        gates = _apply(rec_act, z)
        i, f, o = gates[..., :m], gates[..., m:2 * m], gates[..., 3 * m:]
        candidate = i * _apply(act, z[..., 2 * m:3 * m])
        c = candidate if c is None else f * c + candidate
        return o * _apply(act, c), c

    if steps <= UNROLL_LIMIT:
        # The state starts at zero, so the first step needs no recurrent product.
        h, c = cell(xw[:, :, 0], None)
        outputs = [h]
        for t in range(1, steps):
            h, c = cell(xw[:, :, t] + recur(h), c)
            outputs.append(h)
        return tf.stack(outputs, axis=2) if sequences else h

    def step(state: tuple[tf.Tensor, tf.Tensor], z: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return cell(z + recur(state[0]), state[1])

    zeros = tf.zeros((runs, shape[1], m), dtype=xw.dtype)
    hs, _ = tf.scan(step, tf.transpose(xw, (2, 0, 1, 3)), initializer=(zeros, zeros))
    return tf.transpose(hs, (1, 2, 0, 3)) if sequences else hs[-1]


def forward(plan: Plan, weights: Sequence[tf.Tensor | np.ndarray], x: tf.Tensor | np.ndarray, *,
            masks: Sequence[tuple[tf.Tensor | None, tf.Tensor | None]] | None = None,
            collect: list[tf.Tensor] | None = None) -> tf.Tensor:
    """Outputs (R, N, outputs) of every run for windows `x`: (N, T, p) shared by all runs, or
    (R, N, T, p) per run.

    `masks` holds per LSTM layer its input dropout mask ((R, N, p), or (R, N, 4, p) per
    gate) and recurrent dropout mask ((R, N, 4, m)) or None; pass them only in training.
    `collect`, when given, receives every LSTM layer's output and every between-layer output,
    in layer order (the between output is appended even when it is the identity).
    """
    x = tf.convert_to_tensor(x, dtype=tf.float32)
    # Layout (R, T, N, ·) between layers (see _gemm_lstm); windows shared by all runs keep R = 1.
    x = tf.transpose(x[None] if x.shape.rank == 3 else x, (0, 2, 1, 3))
    w = [tf.convert_to_tensor(v, dtype=tf.float32) for v in weights]
    last = len(plan.units) - 1
    between = _segments(plan.between)
    for i in range(len(plan.units)):
        kernel, recurrent, bias = w[3 * i: 3 * i + 3]
        in_mask, rec_mask = masks[i] if masks is not None else (None, None)
        act, rec = _segments(plan.activation[i]), _segments(plan.recurrent_activation[i])
        if rec_mask is None:
            xw = project(x if in_mask is None else x * in_mask[:, None], kernel, bias)
            x = recurrence(xw, recurrent, act, rec, i < last)
        else:  # recurrent dropout: Keras's per-gate masks, differentiated by TensorFlow
            x = tf.transpose(tf.tile(x, (plan.runs // x.shape[0], 1, 1, 1)), (0, 2, 1, 3))
            x = _lstm(x, kernel, recurrent, bias, act, rec, i < last, (in_mask, rec_mask))
            x = tf.transpose(x, (0, 2, 1, 3)) if i < last else x
        if collect is not None:
            collect.append(tf.transpose(x, (0, 2, 1, 3)) if i < last else x)
        if i < last:
            x = _apply(between, x)
            if collect is not None:
                collect.append(tf.transpose(x, (0, 2, 1, 3)))
    head = w[3 * len(plan.units):]
    dense = _segments(plan.dense_activation)
    for j in range(len(plan.dense) + 1):
        x = tf.matmul(x, head[2 * j]) + head[2 * j + 1][:, None, :]
        if j < len(plan.dense):
            x = _apply(dense, x)
    return x


def head(plan: Plan, outputs: tf.Tensor) -> tf.Tensor:
    """`forward`'s (R, N, outputs) as the targets are shaped: (R, N) for one output, else as is."""
    return outputs[..., 0] if plan.outputs == 1 else outputs


def _sub_seed(seed: int, layer: int, k: int) -> int:
    """A 31-bit seed for one weight of one run, from the run's seed only."""
    return int(np.random.SeedSequence([seed, layer, k]).generate_state(1)[0] >> 1)


def _run_weights(plan: Plan, seed: int) -> list[np.ndarray]:
    glorot = keras.initializers.GlorotUniform
    out: list[np.ndarray] = []
    shapes = iter(plan.shapes())
    for i, m in enumerate(plan.units):
        out.append(np.asarray(glorot(seed=_sub_seed(seed, i, 0))(next(shapes))))
        out.append(np.asarray(keras.initializers.Orthogonal(seed=_sub_seed(seed, i, 1))(next(shapes))))
        next(shapes)
        bias = np.zeros(4 * m, dtype=np.float32)
        bias[m:2 * m] = 1.0  # unit_forget_bias
        out.append(bias)
    for j in range(len(plan.dense) + 1):
        out.append(np.asarray(glorot(seed=_sub_seed(seed, len(plan.units) + j, 0))(next(shapes))))
        out.append(np.zeros(next(shapes), dtype=np.float32))
    return [a.astype(np.float32) for a in out]


def initial_weights(plan: Plan, seeds: Sequence[int]) -> list[np.ndarray]:
    """Stacked initial weights, one run per seed, with Keras's initialisers (glorot-uniform
    kernels, orthogonal recurrent kernels, forget-gate bias 1, zero biases)."""
    return stack([_run_weights(plan, seed) for seed in seeds])


def stack(runs: Sequence[Sequence[np.ndarray]]) -> list[np.ndarray]:
    """Per-run weight lists → one list of stacked (R, ...) arrays."""
    return [np.stack([np.asarray(r[k], dtype=np.float32) for r in runs]) for k in range(len(runs[0]))]


def unstack(stacked: Sequence[np.ndarray], run: int) -> list[np.ndarray]:
    """Run `run`'s weights out of stacked arrays."""
    return [np.array(a[run]) for a in stacked]


# Counter-based random numbers (murmur3's 32-bit finalizer): stateless, one stream per run
# key, so a run draws the same dropout masks alone or in any group.
_GOLDEN = 0x9E3779B9


def _fmix(x: tf.Tensor) -> tf.Tensor:
    x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, tf.constant(16, tf.uint32)))
    x = x * tf.constant(0x85EBCA6B, tf.uint32)
    x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, tf.constant(13, tf.uint32)))
    x = x * tf.constant(0xC2B2AE35, tf.uint32)
    return tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, tf.constant(16, tf.uint32)))


def uniform(keys: tf.Tensor, salt: tf.Tensor, shape: Sequence[int]) -> tf.Tensor:
    """Uniform [0, 1) floats of shape (R, *shape) from per-run uint32 `keys` and a uint32 `salt`."""
    base = _fmix(tf.bitwise.bitwise_xor(keys, _fmix(salt)))
    count = math.prod(shape)
    index = _fmix(tf.cast(tf.range(count), tf.uint32) * tf.constant(_GOLDEN, tf.uint32) + tf.constant(1, tf.uint32))
    bits = _fmix(base[:, None] + index[None, :])
    values = tf.cast(tf.bitwise.right_shift(bits, tf.constant(8, tf.uint32)), tf.float32) * (1.0 / (1 << 24))
    return tf.reshape(values, (-1, *shape))
