"""Batched training: many runs of one shape trained as one TensorFlow computation (imports TensorFlow).

A *group* is runs that share the prepared data and every shape (`group_key`); per run they
may differ in activations, dropout and seed. Every weight carries a leading run axis, each
run has its own initial weights (Keras's initialisers, seeded from the run's seed), its own
sample order per epoch, optimizer state, early stopping, divergence and cancel; a run's
numbers do not depend on which other runs share its group.

What matches Keras 3 (`train.run_one`), and how:
- forward pass: `keras.layers.LSTM`'s cell (gates i, f, c, o; zero initial state), the
  between activation, the dense head, all from the registry's `keras.activations.get`;
- optimizers adam, adamw, nadam, rmsprop, sgd with Keras's defaults, operation by
  operation; `clipnorm` per run per variable (`tf.clip_by_norm`, like Keras's TF backend);
- the epoch `loss` is Keras's: the batch losses' mean weighted by batch size (the partial
  last batch's loss is the mean over its own samples); `val_loss` is the mean over all
  validation windows;
- early stopping: `EarlyStopping(patience, restore_best_weights=True)` with min_delta 0
  on val_loss (loss without a validation set); as in Keras the best weights are restored at
  the end of training whether or not the run stopped early;
- divergence: the running epoch loss is checked after every step (as `train._Watch` checks
  Keras's batch logs), the validation loss after every epoch.

What differs: sample orders and dropout masks come from the engine's own stateless streams
(same distribution as Keras's, not the same draws); cancel is checked once per epoch, not
per batch; an EpochRow's `seconds` is the group's wall time for that epoch, shared by all
its runs; gradient norms are probed after every epoch in the same compiled call. A stopped
run is frozen (its updates are masked) but still rides along in the computation, so a
group's epoch costs the same until every run has stopped.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import dataclasses
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from ..outcome import EpochRow, RunOutcome
from ..spec import ExperimentSpec, ModelSpec, TrainingSpec, WindowSpec
from ..windows import prepare
from ._batched_fit import fit
from ._batched_loop import GroupTrainer
from ._batched_net import Plan, forward, initial_weights, stack, unstack
from ._batched_report import forecast, outcome
from .model import build_model
from .train import horizon_of, target_of

__all__ = [
    "GroupResult",
    "GroupTrainer",
    "Plan",
    "can_batch",
    "forward",
    "group_key",
    "initial_weights",
    "stack",
    "to_keras",
    "train_group",
    "unstack",
    "weights_from_bytes",
    "weights_to_bytes",
]

_determinism = False


def _deterministic() -> None:
    global _determinism
    if not _determinism:
        tf.config.experimental.enable_op_determinism()
        _determinism = True


def group_key(model: ModelSpec, training: TrainingSpec, window: WindowSpec) -> tuple[object, ...]:
    """What runs must share to train as one graph: the window, layer and head sizes (a direct
    model's Dense(H) head too: it changes the targets), which layers use recurrent dropout (Keras
    then uses per-gate masks), the target transform (it changes the data), and every training
    setting but the seeds. Activations, dropout rates and seeds may differ."""
    settings = dataclasses.asdict(training)
    del settings["seeds"]
    return (window, model.units, tuple(layer.recurrent_dropout > 0 for layer in model.layers), model.dense,
            tuple(sorted(settings.items())), model.target, model.season, model.outputs)


def can_batch(model: ModelSpec) -> tuple[bool, str]:
    """Whether the batched engine can train `model`, and why (every `ModelSpec` can today:
    any registry activation, dropout and recurrent dropout)."""
    del model
    return True, "the batched engine supports every activation, dropout and recurrent dropout setting"


@dataclass(frozen=True)
class GroupResult:
    """One run of a group: its outcome, and its trained weights in `build_model(...).get_weights()`
    order (for a diverged run, non-finite values are replaced by 0)."""

    outcome: RunOutcome
    weights: list[np.ndarray]


def _signature(model: ModelSpec) -> tuple[object, ...]:
    """Sort key that puts runs with the same activations next to each other."""
    return (tuple(layer.activation for layer in model.layers),
            tuple(layer.recurrent_activation for layer in model.layers),
            model.between or "linear", model.dense_activation)


def train_group(exp: ExperimentSpec, frame: pd.DataFrame, members: Sequence[tuple[int, int]], *,
                on_epoch: Callable[[int, EpochRow], None] | None = None,
                should_stop: Callable[[int], bool] | None = None) -> list[GroupResult]:
    """Train `members`, (model index, seed) pairs of `exp` sharing one `group_key`, on `frame`
    (target first, then features) as one batched computation; results in `members`' order.

    `on_epoch(i, row)` follows every finished epoch of member i; `should_stop(i)` is asked
    before every epoch of member i still training, and True cancels it.
    """
    if not members:
        return []
    keys = {group_key(exp.models[i], exp.training, exp.window) for i, _ in members}
    if len(keys) != 1:
        raise ValueError(f"Received an invalid value for argument `members`, expected runs that share one "
                         f"group_key, got {len(keys)} different keys.")
    _deterministic()
    first = exp.models[members[0][0]]
    data = prepare(frame, exp.window, exp.split, exp.training, target_of(first, frame), first.outputs)
    order = sorted(range(len(members)), key=lambda k: (_signature(exp.models[members[k][0]]), k))
    models = [exp.models[members[k][0]] for k in order]
    trainer = GroupTrainer(Plan.of(models, data.input_shape), exp.training, data,
                           [members[k][1] for k in order])
    logs = fit(
        trainer,
        on_epoch=(lambda r, row: on_epoch(order[r], row)) if on_epoch is not None else None,
        should_stop=(lambda r: should_stop(order[r])) if should_stop is not None else None,
    )
    def beat(k: int) -> None:  # a heartbeat while scoring (fitting the references takes seconds); its answer is moot
        if should_stop is not None:
            should_stop(k)

    beat(0)
    finals = forecast(trainer.plan, trainer.weights, data, exp.window.future_steps, horizon_of(exp, frame, data))
    weights = trainer.get_weights()
    results: list[GroupResult | None] = [None] * len(members)
    for r, k in enumerate(order):
        beat(k)
        results[k] = GroupResult(outcome(exp, models[r], frame, data, logs[r], r, finals), unstack(weights, r))
    return results  # type: ignore[return-value]


def to_keras(model: ModelSpec, input_shape: tuple[int, int], weights: Sequence[np.ndarray]) -> keras.Model:
    """The Keras model of `model` (`lstm_app.model.build_model`) holding `weights`."""
    built = build_model(model, tuple(input_shape))  # type: ignore[arg-type]
    built.set_weights([np.asarray(w) for w in weights])
    return built


def weights_to_bytes(weights: Sequence[np.ndarray]) -> bytes:
    """A run's weights as compact bytes (an `.npz` archive), order kept."""
    buffer = io.BytesIO()
    np.savez(buffer, *[np.asarray(w) for w in weights])
    return buffer.getvalue()


def weights_from_bytes(blob: bytes) -> list[np.ndarray]:
    """The weights `weights_to_bytes` stored, in their order."""
    with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
        return [archive[f"arr_{k}"] for k in range(len(archive.files))]
