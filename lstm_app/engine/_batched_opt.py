"""Per-run losses, gradient clipping and optimizers on stacked (R, ...) tensors.

The update rules copy Keras 3's (`keras/src/optimizers/*.py`) operation by operation, with
Keras's defaults, so a run's step equals `model.fit`'s to float32 rounding. Everything is
elementwise, so runs never mix; `clipnorm` clips each run's gradient of each variable by
that tensor's own norm, as Keras's TensorFlow backend does with `tf.clip_by_norm`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import tensorflow as tf

from ..spec import TrainingSpec

__all__ = ["Rule", "advance_u_product", "clip", "per_run_loss", "rule_for"]

BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7  # Adam, AdamW and Nadam defaults
RHO = 0.9  # RMSprop default
ADAMW_WEIGHT_DECAY = 0.004  # AdamW's default weight_decay
NADAM_DECAY = 0.96


def per_run_loss(kind: str, y: tf.Tensor, pred: tf.Tensor, weight: tf.Tensor | None = None) -> tf.Tensor:
    """Each run's loss, the mean over its batch: y and pred (R, N) → (R,); with `weight` (N,)
    of ones and zeros, the mean over the samples weighted 1. For (R, N, H) (a direct head), a
    sample's loss is the mean over its H outputs first, as Keras's losses take it."""
    error = pred - y
    if kind == "mse":
        values = tf.square(error)
    elif kind == "mae":
        values = tf.abs(error)
    elif kind == "huber":  # Keras's default delta 1
        absolute = tf.abs(error)
        values = tf.where(absolute <= 1.0, 0.5 * tf.square(error), absolute - 0.5)
    else:
        raise ValueError(f"Received an invalid value for argument `loss`, expected mse, mae or huber, got {kind!r}.")
    if values.shape.rank == 3:
        values = tf.reduce_mean(values, axis=2)
    if weight is None:
        return tf.reduce_mean(values, axis=1)
    return tf.reduce_sum(values * weight, axis=1) / tf.reduce_sum(weight)


def clip(gradient: tf.Tensor, clipnorm: float | None) -> tf.Tensor:
    """Keras's `clipnorm`, per run: each run's slice scaled to norm ≤ `clipnorm`."""
    if clipnorm is None:
        return gradient
    return tf.clip_by_norm(gradient, clipnorm, axes=list(range(1, gradient.shape.rank)))


@dataclass(frozen=True)
class Rule:
    """One optimizer: how many state tensors it keeps per variable, and its update.

    `step` is Keras's `iterations + 1` (float32); `u_product` is Nadam's running product
    of momentum factors, already advanced for this step (ignored by the others).
    """

    name: str
    learning_rate: float
    slots: int

    def update(self, w: tf.Tensor, g: tf.Tensor, state: Sequence[tf.Tensor], step: tf.Tensor,
               u_product: tf.Tensor) -> tuple[tf.Tensor, list[tf.Tensor]]:
        lr = tf.constant(self.learning_rate, tf.float32)
        if self.name == "sgd":
            return w - g * lr, []
        if self.name == "rmsprop":
            velocity = RHO * state[0] + (1 - RHO) * tf.square(g)
            return w - (lr * g) / tf.sqrt(velocity + EPSILON), [velocity]
        m = state[0] + (g - state[0]) * (1 - BETA_1)
        v = state[1] + (tf.square(g) - state[1]) * (1 - BETA_2)
        if self.name == "nadam":
            u_t = BETA_1 * (1.0 - 0.5 * tf.pow(NADAM_DECAY, step))
            u_t_1 = BETA_1 * (1.0 - 0.5 * tf.pow(NADAM_DECAY, step + 1))
            m_hat = (u_t_1 * m) / (1 - u_product * u_t_1) + ((1 - u_t) * g) / (1 - u_product)
            v_hat = v / (1 - tf.pow(BETA_2, step))
            return w - (m_hat * lr) / (tf.sqrt(v_hat) + EPSILON), [m, v]
        if self.name == "adamw":  # Keras decays the variable first, then takes the Adam step
            w = w - w * ADAMW_WEIGHT_DECAY * lr
        alpha = lr * tf.sqrt(1 - tf.pow(BETA_2, step)) / (1 - tf.pow(BETA_1, step))
        return w - (m * alpha) / (tf.sqrt(v) + EPSILON), [m, v]


def rule_for(training: TrainingSpec) -> Rule:
    """The update rule for `training.optimizer` at `training.learning_rate`."""
    slots = {"sgd": 0, "rmsprop": 1, "adam": 2, "adamw": 2, "nadam": 2}
    if training.optimizer not in slots:
        raise ValueError(f"Received an invalid value for argument `optimizer`, expected one of "
                         f"{', '.join(slots)}, got {training.optimizer!r}.")
    return Rule(training.optimizer, float(training.learning_rate), slots[training.optimizer])


def advance_u_product(u_product: tf.Tensor, step: tf.Tensor) -> tf.Tensor:
    """Nadam's product of momentum factors after step `step` (Keras keeps it in a variable)."""
    return u_product * BETA_1 * (1.0 - 0.5 * tf.pow(NADAM_DECAY, step))
