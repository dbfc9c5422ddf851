"""`GroupTrainer`: the variables of R runs and one compiled function per epoch.

An epoch is one `tf.function` call: a `tf.while_loop` over the batches (every shape in the
graph static), then the validation loss and the gradient-norm probe. The host sees each
epoch once, never a step.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from ..spec import TrainingSpec
from ..windows import Prepared
from ._batched_net import Plan, forward, head, initial_weights, uniform
from ._batched_opt import advance_u_product, clip, per_run_loss, rule_for
from ._gemm_lstm import looped
from .diagnostics import PROBE_SIZE

__all__ = ["EpochResult", "GroupTrainer", "compiles", "permutations"]

# XLA compiles a group's epoch when the group is overhead-bound and trains long enough to repay
# the compile. The graph executor pays ~8 µs per op (~40 ops per time step and layer); XLA fuses
# each step's elementwise ops into a few kernels but runs its small matmuls on one core. Measured
# on 2 cores (bench/bench_compute.py, tests' shapes): LSTM 100→50 over 20 steps, batch 32, 1 run
# trains ~1.6x faster per epoch with XLA; 8 runs (R·N·m = 25,600) ~3x slower; 15 runs of 32→16 over
# 60 steps, batch 64 (R·N·m = 30,720) the same. Compiling costs a few seconds, which short
# trainings such as the hotel replication (1,600 units of work, 1.3 s to compile) never repay.
XLA_WORK = 30_000  # epochs × batches per epoch × time steps × LSTM layers
XLA_WIDTH = 8_000  # runs × batch × widest LSTM layer: above it the matmuls repay the executor


def compiles(plan: Plan, training: TrainingSpec, n: int) -> bool:
    """Whether XLA compiles this group's epoch (see `XLA_WORK`, `XLA_WIDTH`)."""
    batch = min(training.batch_size, n)
    work = training.epochs * -(-n // batch) * plan.input_shape[0] * len(plan.units)
    return work >= XLA_WORK and plan.runs * batch * max(plan.units) <= XLA_WIDTH


def permutations(seeds: Sequence[int], epoch: int, n: int) -> np.ndarray:
    """(R, n) sample orders for `epoch`: each run's depends only on its seed and the epoch."""
    return np.stack([np.random.default_rng([seed, epoch]).permutation(n) for seed in seeds]).astype(np.int32)


def _dropout_key(seed: int) -> int:
    return int(np.random.SeedSequence([seed, 0xD50]).generate_state(1)[0])


@dataclass(frozen=True)
class EpochResult:
    """One epoch of every run: mean training loss (as Keras reports it), whether the
    running loss went bad and its value then, validation loss, probe gradient norms (R, L)."""

    loss: np.ndarray
    bad: np.ndarray
    bad_value: np.ndarray
    val_loss: np.ndarray | None
    grad_norms: np.ndarray


class GroupTrainer:
    """Trains the R runs of `plan` on `data`, run r seeded with `seeds[r]`.

    Runs listed as inactive in an epoch are frozen: neither weights nor optimizer state change.
    Inside an epoch a run also freezes after the step where its running loss (Keras's `loss`
    log) becomes NaN, infinite or exceeds `training.divergence_loss`.
    """

    def __init__(self, plan: Plan, training: TrainingSpec, data: Prepared, seeds: Sequence[int],
                 weights: Sequence[np.ndarray] | None = None) -> None:
        if len(seeds) != plan.runs:
            raise ValueError(f"expected {plan.runs} seeds, got {len(seeds)}")
        self.plan, self.training, self.seeds = plan, training, tuple(int(s) for s in seeds)
        self.rule = rule_for(training)
        start = list(weights) if weights is not None else initial_weights(plan, self.seeds)
        # One flat (R, P) variable per kind (weights, best weights, each optimizer slot): the
        # optimizer then runs a handful of ops per step however many layers the model has.
        self._shapes = [tuple(a.shape[1:]) for a in start]
        self._sizes = [int(np.prod(shape)) for shape in self._shapes]
        flat = np.concatenate([np.reshape(a, (plan.runs, -1)) for a in start], axis=1).astype(np.float32)
        self._flat = tf.Variable(flat)
        self._best = tf.Variable(flat, trainable=False)
        self._state = [tf.Variable(tf.zeros_like(flat), trainable=False) for _ in range(self.rule.slots)]
        self._step = tf.Variable(0.0, trainable=False)
        self._u_product = tf.Variable(1.0, trainable=False)
        self._x = tf.constant(data.x_train, tf.float32)
        self._y = tf.constant(data.y_train, tf.float32)
        self._xv = tf.constant(data.x_val, tf.float32)
        self._yv = tf.constant(np.broadcast_to(data.y_val, (plan.runs, *data.y_val.shape)), tf.float32)
        probe = min(PROBE_SIZE, len(data.x_train))
        self._px = self._x[:probe]
        self._py = tf.constant(np.broadcast_to(data.y_train[:probe], (plan.runs, *data.y_train[:probe].shape)),
                               tf.float32)
        self._keys = tf.constant([_dropout_key(s) for s in self.seeds], tf.uint32)
        self._rates = [tf.constant(r, tf.float32) for r in plan.dropout]
        self._rec_rates = [tf.constant(r, tf.float32) for r in plan.recurrent_dropout]
        self.n = len(data.x_train)
        runs = plan.runs
        self.jit = compiles(plan, training, self.n)
        self.epoch_function = tf.function(self._traced_epoch, jit_compile=self.jit, autograph=False,
                                          input_signature=[tf.TensorSpec((runs, self.n), tf.int32),
                                                           tf.TensorSpec((), tf.int32),
                                                           tf.TensorSpec((runs,), tf.bool)])
        mask = [tf.TensorSpec((runs,), tf.bool)]
        self._keep_best = tf.function(self._copy_into_best, input_signature=mask, autograph=False)
        self._restore = tf.function(self._copy_from_best, input_signature=mask, autograph=False)
        self._zero_bad = tf.function(self._sanitize, input_signature=mask, autograph=False)

    # --- one epoch, in the graph ---------------------------------------------------------

    def _masks(self, epoch: tf.Tensor, step: tf.Tensor, batch: int) -> list[tuple[tf.Tensor | None, tf.Tensor | None]]:
        """Dropout masks per LSTM layer for one batch (input, recurrent; None where a layer has
        none): the same at every time step, scaled by 1/(1 − rate), drawn from (run seed, epoch,
        step, layer)."""
        out: list[tuple[tf.Tensor | None, tf.Tensor | None]] = []
        salt_base = tf.bitwise.bitwise_xor(
            tf.cast(epoch, tf.uint32) * tf.constant(0x9E3779B9, tf.uint32),
            tf.cast(step, tf.uint32) * tf.constant(16, tf.uint32))
        width = self.plan.input_shape[1]
        for i, m in enumerate(self.plan.units):
            gates = (4,) if self.plan.per_gate(i) else ()
            masks: list[tf.Tensor | None] = []
            for kind, (rates, size, wanted) in enumerate((
                    (self._rates[i], width, any(self.plan.dropout[i])),
                    (self._rec_rates[i], m, bool(gates)))):
                if not wanted:
                    masks.append(None)
                    continue
                shape = (batch, *gates, size)
                u = uniform(self._keys, salt_base + tf.constant(2 * i + kind, tf.uint32), shape)
                rate = tf.reshape(rates, (-1, *[1] * len(shape)))
                masks.append(tf.cast(u >= rate, tf.float32) / (1.0 - rate))
            out.append((masks[0], masks[1]))
            width = m
        return out

    def _views(self, flat: tf.Tensor) -> list[tf.Tensor]:
        """The flat (R, P) weights as Keras-ordered (R, ...) tensors."""
        parts = tf.split(flat, self._sizes, axis=1)
        return [tf.reshape(part, (-1, *shape)) for part, shape in zip(parts, self._shapes, strict=True)]

    @property
    def weights(self) -> list[tf.Tensor]:
        """The current stacked weights, (R, ...) each, in Keras's order."""
        return self._views(self._flat.value())

    def _apply(self, grads: Sequence[tf.Tensor], live: tf.Tensor) -> None:
        grad = tf.concat([tf.reshape(clip(g, self.training.clipnorm), (self.plan.runs, -1)) for g in grads], axis=1)
        step = self._step.assign_add(1.0)
        u_product = self._u_product
        if self.rule.name == "nadam":
            u_product = self._u_product.assign(advance_u_product(self._u_product, step))
        w = self._flat.value()
        new_w, new_state = self.rule.update(w, grad, [s.value() for s in self._state], step, u_product)
        keep = live[:, None]
        self._flat.assign(tf.where(keep, new_w, w))
        for s, value in zip(self._state, new_state, strict=True):
            s.assign(tf.where(keep, value, s))

    def _train_step(self, idx: tf.Tensor, weight: tf.Tensor, epoch: tf.Tensor, step: tf.Tensor, active: tf.Tensor,
                    carry: tuple[tf.Tensor, ...]) -> tuple[tf.Tensor, ...]:
        sums, counts, bad, bad_value = carry
        live = tf.logical_and(active, tf.logical_not(bad))
        x, y = tf.gather(self._x, idx), tf.gather(self._y, idx)
        masks = self._masks(epoch, step, idx.shape[1]) if self._uses_dropout() else None
        with tf.GradientTape() as tape:
            views = self.weights
            tape.watch(views)
            pred = head(self.plan, forward(self.plan, views, x, masks=masks))
            loss = per_run_loss(self.training.loss, y, pred, weight)
            total = tf.reduce_sum(loss)  # a sum, so each run's gradient is its own loss's
        self._apply(tape.gradient(total, views, unconnected_gradients=tf.UnconnectedGradients.ZERO), live)
        # Keras's `loss` log: the batch losses' mean weighted by batch size, so far this epoch.
        size = tf.reduce_sum(weight)
        sums = tf.where(live, sums + loss * size, sums)
        counts = tf.where(live, counts + size, counts)
        running = tf.math.divide_no_nan(sums, counts)
        limit = self.training.divergence_loss
        newly = tf.logical_and(live, tf.logical_or(tf.logical_not(tf.math.is_finite(running)), running > limit))
        return sums, counts, tf.logical_or(bad, newly), tf.where(newly, running, bad_value)

    def _traced_epoch(self, perm: tf.Tensor, epoch: tf.Tensor, active: tf.Tensor) -> dict[str, tf.Tensor]:
        with looped() if self.jit else nullcontext():
            return self._epoch(perm, epoch, active)

    def _uses_dropout(self) -> bool:
        return any(any(r > 0 for r in rates) for rates in (*self.plan.dropout, *self.plan.recurrent_dropout))

    def _epoch(self, perm: tf.Tensor, epoch: tf.Tensor, active: tf.Tensor) -> dict[str, tf.Tensor]:
        runs, batch = self.plan.runs, min(self.training.batch_size, self.n)
        steps = -(-self.n // batch)
        # Keras's last batch is partial and its loss the mean over its own samples. Padding it
        # with weight-0 samples keeps one static batch shape, so the step is traced only once.
        padding = steps * batch - self.n
        perm = tf.pad(perm, [[0, 0], [0, padding]])
        weights = tf.constant(np.r_[np.ones(self.n), np.zeros(padding)], tf.float32)
        zeros = tf.zeros((runs,), tf.float32)
        carry = (zeros, zeros, tf.zeros((runs,), tf.bool), zeros)

        def body(s: tf.Tensor, *carry: tf.Tensor) -> tuple[tf.Tensor, ...]:
            idx = tf.slice(perm, tf.stack([0, s * batch]), [runs, batch])
            weight = tf.slice(weights, tf.reshape(s * batch, (1,)), [batch])
            return (s + 1, *self._train_step(idx, weight, epoch, s, active, carry))

        _, *carry = tf.while_loop(lambda s, *_: s < steps, body, (tf.constant(0), *carry), parallel_iterations=1)
        sums, counts, bad, bad_value = carry
        out = {"loss": tf.math.divide_no_nan(sums, counts), "bad": bad, "bad_value": bad_value}
        if self._xv.shape[0]:
            pred = head(self.plan, forward(self.plan, self.weights, self._xv))
            out["val_loss"] = per_run_loss(self.training.loss, self._yv, pred)
        out["grad_norms"] = self._probe()
        return out

    def _probe(self) -> tf.Tensor:
        """Gradient norm per run and LSTM layer on the first `PROBE_SIZE` training windows."""
        views = self.weights
        lstm = views[: 3 * len(self.plan.units)]
        with tf.GradientTape() as tape:
            tape.watch(lstm)
            pred = head(self.plan, forward(self.plan, views, self._px))
            total = tf.reduce_sum(per_run_loss(self.training.loss, self._py, pred))
        grads = tape.gradient(total, lstm, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        squares = [tf.reduce_sum(tf.square(g), axis=list(range(1, g.shape.rank))) for g in grads]
        return tf.stack([tf.sqrt(tf.add_n(squares[3 * i: 3 * i + 3])) for i in range(len(self.plan.units))], axis=1)

    # --- masks over runs -------------------------------------------------------------------

    def _copy_into_best(self, mask: tf.Tensor) -> None:
        self._best.assign(tf.where(mask[:, None], self._flat, self._best))

    def _copy_from_best(self, mask: tf.Tensor) -> None:
        self._flat.assign(tf.where(mask[:, None], self._best, self._flat))

    def _sanitize(self, mask: tf.Tensor) -> None:
        """Non-finite weights of the masked (diverged) runs become 0, so they stay harmless."""
        w = self._flat.value()
        keep = tf.logical_or(tf.math.is_finite(w), tf.logical_not(mask[:, None]))
        self._flat.assign(tf.where(keep, w, tf.zeros_like(w)))

    # --- host side -------------------------------------------------------------------------

    def run_epoch(self, epoch: int, active: np.ndarray) -> EpochResult:
        """Train every active run one epoch (0-based `epoch`), each in its own sample order."""
        out = self.epoch_function(tf.constant(permutations(self.seeds, epoch, self.n)), tf.constant(epoch, tf.int32),
                                  tf.constant(np.asarray(active, dtype=bool)))
        out = {k: v.numpy() for k, v in out.items()}
        return EpochResult(out["loss"], out["bad"], out["bad_value"], out.get("val_loss"), out["grad_norms"])

    def keep_best(self, mask: np.ndarray) -> None:
        self._keep_best(tf.constant(mask, tf.bool))

    def restore_best(self, mask: np.ndarray) -> None:
        self._restore(tf.constant(mask, tf.bool))

    def sanitize(self, mask: np.ndarray) -> None:
        self._zero_bad(tf.constant(mask, tf.bool))

    def get_weights(self) -> list[np.ndarray]:
        """The stacked weights now, (R, ...) each, in Keras's order."""
        return [w.numpy() for w in self._views(self._flat.value())]
