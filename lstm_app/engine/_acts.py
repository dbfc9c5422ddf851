"""Activations per slice of the run axis, and their slopes, for the batched engine.

Activations may differ per run. Each activation runs on its own static slice of the run axis
(runs with equal names next to each other share one slice), so no run ever evaluates another
run's activation: selecting with `tf.where` after computing all of them would let one
activation's NaN gradient leak into runs that never used it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import groupby

import keras
import tensorflow as tf

__all__ = ["Segments", "apply", "from_value", "segments", "slope"]

Segments = tuple[tuple[str, int], ...]  # (activation name, number of consecutive runs)


def segments(names: Sequence[str]) -> Segments:
    """Consecutive equal names as (name, count) pairs."""
    return tuple((name, len(list(group))) for name, group in groupby(names))


def _function(name: str) -> Callable[[tf.Tensor], tf.Tensor]:
    return keras.activations.get(name)  # type: ignore[no-any-return]


def _per_segment(segs: Segments, fn: Callable[[str, tf.Tensor, tf.Tensor | None], tf.Tensor],
                 x: tf.Tensor, y: tf.Tensor | None) -> tf.Tensor:
    if len(segs) == 1:
        return fn(segs[0][0], x, y)
    sizes = [size for _, size in segs]
    xs = tf.split(x, sizes, axis=0)
    ys: list[tf.Tensor | None] = list(tf.split(y, sizes, axis=0)) if y is not None else [None] * len(segs)
    return tf.concat([fn(name, a, b) for (name, _), a, b in zip(segs, xs, ys, strict=True)], axis=0)


def _value(name: str, x: tf.Tensor, _: tf.Tensor | None) -> tf.Tensor:
    return x if name == "linear" else _function(name)(x)


def apply(segs: Segments, x: tf.Tensor) -> tf.Tensor:
    """Each activation on its own slice of the run axis (axis 0)."""
    return _per_segment(segs, _value, x, None)


# Slopes that follow from the activation's value y (no need to keep the input around).
_FROM_VALUE: dict[str, Callable[[tf.Tensor], tf.Tensor]] = {
    "tanh": lambda y: 1.0 - y * y,
    "sigmoid": lambda y: y * (1.0 - y),
    "relu": lambda y: tf.cast(y > 0.0, y.dtype),
    "linear": tf.ones_like,
}


def from_value(segs: Segments) -> bool:
    """Whether `slope` needs only the values (every activation of `segs` has a cheap slope)."""
    return all(name in _FROM_VALUE for name, _ in segs)


def _slope(name: str, x: tf.Tensor, y: tf.Tensor | None) -> tf.Tensor:
    if name in _FROM_VALUE:
        return _FROM_VALUE[name](y)
    with tf.GradientTape() as tape:  # elementwise, so the gradient of the sum is the slope
        tape.watch(x)
        value = _function(name)(x)
    return tape.gradient(value, x)


def slope(segs: Segments, x: tf.Tensor | None, y: tf.Tensor) -> tf.Tensor:
    """The activation's derivative at input `x` (value `y`), per slice of the run axis; `x` may
    be None when `from_value(segs)`."""
    if x is None:
        return _per_segment(segs, lambda name, a, _: _FROM_VALUE[name](a), y, None)
    return _per_segment(segs, _slope, x, y)
