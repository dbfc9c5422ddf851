"""A fused LSTM layer for the batched engine: the arithmetic in large GEMMs, the backward by hand.

Layout (R, T, N, ·): run, time step, sample. `project` computes the input projection of every
time step in one batched matmul before the time loop; its gradient (autodiff of one matmul)
is one GEMM for the input weights, one for dX and a reduction for the bias, over all steps
and samples at once. `recurrence` runs the time loop, which does only h_{t-1} @ U and the gate
nonlinearities; its `tf.custom_gradient` backward loop does only the recurrent part (dh →
dgates → dh_{t-1}, dc) from what the forward loop kept (gates, c_t, tanh(c_t)), and the
recurrent weights' gradient is one GEMM over all steps and samples after the loop. That is how
PyTorch's CPU LSTM and cuDNN work.

Gates in Keras's order i, f, c, o, zero initial state. Short sequences unroll in the graph;
longer ones run a `tf.while_loop` over `tf.TensorArray`s so the graph stays small.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import tensorflow as tf

from ._acts import Segments, apply, from_value, slope

__all__ = ["UNROLL_LIMIT", "looped", "project", "recurrence"]

# Up to this many time steps the loops are unrolled in the graph (LSTM 100→50 over 20 steps, 8
# runs: ~1.4x faster per epoch than a loop); longer ones use tf.while_loop (over 60 steps the
# unrolled graph was no faster and took ~3x as long to trace).
UNROLL_LIMIT = 32
_always_loop = False


@contextmanager
def looped() -> Iterator[None]:
    """Layers traced inside always run `tf.while_loop`s: XLA compiles a loop in seconds where an
    unrolled graph of 20 steps takes minutes."""
    global _always_loop
    before, _always_loop = _always_loop, True
    try:
        yield
    finally:
        _always_loop = before


def project(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor) -> tf.Tensor:
    """x (R or 1, T, N, p) @ kernel (R, p, 4m) + bias (R, 4m): (R, T, N, 4m), one batched matmul."""
    steps, n, width = x.shape[1], tf.shape(x)[2], x.shape[3]
    flat = tf.matmul(tf.reshape(x, (x.shape[0], -1, width)), kernel) + bias[:, None, :]
    return tf.reshape(flat, (kernel.shape[0], steps, n, kernel.shape[2]))


class _Cell:
    """One step forward and one step back, for static activations `act` and `rec`."""

    def __init__(self, recurrent: tf.Tensor, act: Segments, rec: Segments) -> None:
        self.u, self.act, self.rec = recurrent, act, rec
        self.m = int(recurrent.shape[1])
        # Pre-activations are kept only where a slope cannot be had from the value.
        self.keep_z = not (from_value(act) and from_value(rec))

    def forward(self, z: tf.Tensor, h: tf.Tensor | None, c: tf.Tensor | None) -> tuple[tf.Tensor, tf.Tensor,
                                                                                    tuple[tf.Tensor, ...]]:
        """(h_t, c_t, kept) from z = x_t W + b (R, N, 4m) and the previous state (None at t = 0)."""
        if h is not None:
            z = z + tf.matmul(h, self.u)
        zi, zf, zg, zo = tf.split(z, 4, axis=-1)
        i, f, o = apply(self.rec, zi), apply(self.rec, zf), apply(self.rec, zo)
        g = apply(self.act, zg)
        c = i * g if c is None else f * c + i * g
        ac = apply(self.act, c)
        kept = (i, f, g, o, c, ac, z) if self.keep_z else (i, f, g, o, c, ac)
        return o * ac, c, kept

    def backward(self, kept: tuple[tf.Tensor, ...], c_prev: tf.Tensor | None, dh: tf.Tensor,
                 dc: tf.Tensor | None) -> tuple[tf.Tensor, tf.Tensor]:
        """(dz_t (R, N, 4m), dc_{t-1}) from the upstream dh_t and dc_t (None: zero)."""
        i, f, g, o, c, ac = kept[:6]
        zi = zf = zg = zo = None
        if self.keep_z:
            zi, zf, zg, zo = tf.split(kept[6], 4, axis=-1)
        dc_t = dh * o * slope(self.act, c if self.keep_z else None, ac)
        if dc is not None:
            dc_t = dc_t + dc
        di = dc_t * g * slope(self.rec, zi, i)
        df = dc_t * c_prev * slope(self.rec, zf, f) if c_prev is not None else tf.zeros_like(dc_t)
        dg = dc_t * i * slope(self.act, zg, g)
        do = dh * ac * slope(self.rec, zo, o)
        return tf.concat([di, df, dg, do], axis=-1), dc_t * f


def _zero_state(xw: tf.Tensor, m: int) -> tf.Tensor:
    return tf.zeros((xw.shape[0], tf.shape(xw)[2], m), dtype=xw.dtype)


def _previous(hs: tf.Tensor) -> tf.Tensor:
    """h_{t-1} for every t (zero at t = 0), (R, T, N, m) from hs (R, T, N, m)."""
    return tf.concat([tf.zeros_like(hs[:, :1]), hs[:, :-1]], axis=1)


def _recurrent_gradient(hs: tf.Tensor, dz: tf.Tensor) -> tf.Tensor:
    """dU = Σ_t h_{t-1}ᵀ dz_t: one GEMM over all steps and samples, (R, m, 4m)."""
    runs, m = hs.shape[0], hs.shape[3]
    prev = tf.reshape(_previous(hs), (runs, -1, m))
    return tf.matmul(prev, tf.reshape(dz, (runs, -1, 4 * m)), transpose_a=True)


def _unrolled(cell: _Cell, xw: tf.Tensor, sequences: bool) -> tuple[tf.Tensor, Callable[..., Any]]:
    steps = xw.shape[1]
    h = c = None
    hs, kept = [], []
    for z in tf.unstack(xw, axis=1):
        h, c, k = cell.forward(z, h, c)
        hs.append(h)
        kept.append(k)
    all_h = tf.stack(hs, axis=1)

    def grad(upstream: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        ups = tf.unstack(upstream, axis=1) if sequences else [None] * (steps - 1) + [upstream]
        dzs: list[tf.Tensor] = []
        dh = dc = None
        for t in reversed(range(steps)):
            dh_t = ups[t] if dh is None else (dh if ups[t] is None else dh + ups[t])
            dz, dc = cell.backward(kept[t], kept[t - 1][4] if t else None, dh_t, dc)
            dzs.append(dz)
            if t:
                dh = tf.matmul(dz, cell.u, transpose_b=True)
        dz_all = tf.stack(dzs[::-1], axis=1)
        return dz_all, _recurrent_gradient(all_h, dz_all)

    return (all_h if sequences else hs[-1]), grad


def _looped(cell: _Cell, xw: tf.Tensor, sequences: bool) -> tuple[tf.Tensor, Callable[..., Any]]:
    steps, m = xw.shape[1], cell.m
    zs = tf.TensorArray(xw.dtype, size=steps).unstack(tf.transpose(xw, (1, 0, 2, 3)))
    parts = 7 if cell.keep_z else 6
    widths = [m] * 6 + [4 * m] * (parts - 6)

    def step(t: tf.Tensor, h: tf.Tensor, c: tf.Tensor, hs: tf.TensorArray,
             kept: tf.TensorArray) -> tuple[Any, ...]:
        h, c, k = cell.forward(zs.read(t), h, c)
        return t + 1, h, c, hs.write(t, h), kept.write(t, tf.concat(k, axis=-1))

    zero = _zero_state(xw, m)
    _, h, _, hs, kept = tf.while_loop(
        lambda t, *_: t < steps, step,
        (tf.constant(0), zero, zero, tf.TensorArray(xw.dtype, size=steps), tf.TensorArray(xw.dtype, size=steps)))
    all_h = tf.transpose(hs.stack(), (1, 0, 2, 3))
    kept_all = kept.stack()

    def grad(upstream: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        ups = tf.transpose(upstream, (1, 0, 2, 3)) if sequences else None

        def back(t: tf.Tensor, dh: tf.Tensor, dc: tf.Tensor, dzs: tf.TensorArray) -> tuple[Any, ...]:
            k = tuple(tf.split(kept_all[t], widths, axis=-1))
            # c_{-1} = 0: read step 0's and zero it rather than branch.
            c_prev = tf.split(kept_all[tf.maximum(t - 1, 0)], widths, axis=-1)[4] * tf.cast(t > 0, xw.dtype)
            dh_t = dh + ups[t] if ups is not None else dh
            dz, dc = cell.backward(k, c_prev, dh_t, dc)
            return t - 1, tf.matmul(dz, cell.u, transpose_b=True), dc, dzs.write(t, dz)

        start_dh = zero if sequences else upstream
        _, _, _, dzs = tf.while_loop(lambda t, *_: t >= 0, back,
                                     (tf.constant(steps - 1), start_dh, zero, tf.TensorArray(xw.dtype, size=steps)))
        dz_all = tf.transpose(dzs.stack(), (1, 0, 2, 3))
        return dz_all, _recurrent_gradient(all_h, dz_all)

    return (all_h if sequences else h), grad


def recurrence(xw: tf.Tensor, recurrent: tf.Tensor, act: Segments, rec: Segments, sequences: bool) -> tf.Tensor:
    """The LSTM time loop over projected inputs `xw` (R, T, N, 4m) with recurrent kernel (R, m, 4m):
    every h_t (R, T, N, m) when `sequences`, else the last (R, N, m)."""

    if xw.shape[1] == 1:  # one step from a zero state (lags as features): no recurrence to hand-write
        h, _, _ = _Cell(recurrent, act, rec).forward(xw[:, 0], None, None)
        return h[:, None] if sequences else h

    @tf.custom_gradient  # type: ignore[untyped-decorator]  # TensorFlow has no type hints
    def run(xw: tf.Tensor, u: tf.Tensor) -> tuple[tf.Tensor, Callable[..., Any]]:
        cell = _Cell(u, act, rec)
        unroll = xw.shape[1] <= UNROLL_LIMIT and not _always_loop
        return (_unrolled if unroll else _looped)(cell, xw, sequences)

    out: tf.Tensor = run(xw, recurrent)
    return out
