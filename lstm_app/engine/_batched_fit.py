"""The epoch loop on the host: per-run early stopping, divergence and cancel, like `train.run_one`.

Per run it mirrors `train._Watch` followed by `keras.callbacks.EarlyStopping(
restore_best_weights=True)`: an epoch's row is recorded, then divergence is checked, then
early stopping. Cancel is checked once per epoch, before it starts (not per batch).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ..num import finite_or_none
from ..outcome import EpochRow, RunStatus
from ._batched_loop import GroupTrainer

__all__ = ["RunLog", "fit"]


@dataclass
class RunLog:
    """One run's history: rows, and how it ended (done, "stopped" early, diverged, cancelled;
    "active" while it trains)."""

    rows: list[EpochRow] = field(default_factory=list)
    status: RunStatus | Literal["active", "stopped"] = "active"
    message: str = ""
    diverged_epoch: int | None = None
    best: float | None = None  # EarlyStopping's best monitored value
    has_best: bool = False  # EarlyStopping has kept weights
    wait: int = 0


def _bad(value: float | None, limit: float) -> bool:
    number = finite_or_none(value)
    return number is None or number > limit


def _diverged(what: str, value: float, epoch: int, limit: float) -> str:
    shown = "NaN" if finite_or_none(value) is None else f"{float(value):.3g}"
    return f"{what} became {shown} at epoch {epoch} (limit {limit:g}, scaled units): the run diverged"


def fit(trainer: GroupTrainer, *, on_epoch: Callable[[int, EpochRow], None] | None = None,
        should_stop: Callable[[int], bool] | None = None) -> list[RunLog]:
    """Train every run of `trainer` for up to `training.epochs` epochs; runs are indexed as in the trainer.

    Each row's `seconds` is the whole group's wall time for that epoch (shared by its runs).
    With patience > 0, every run ends with its best weights restored (Keras restores them at
    the end of training whether or not it stopped early).
    """
    training = trainer.training
    runs, limit, patience = trainer.plan.runs, training.divergence_loss, training.patience
    logs = [RunLog() for _ in range(runs)]
    active = np.ones(runs, dtype=bool)
    for epoch in range(training.epochs):
        if should_stop is not None:
            for r in np.flatnonzero(active):
                if should_stop(int(r)):
                    active[r] = False
                    logs[r].status = RunStatus.CANCELLED
                    logs[r].message = f"cancelled after {len(logs[r].rows)} of {training.epochs} epochs"
        if not active.any():
            break
        start = time.perf_counter()
        result = trainer.run_epoch(epoch, active)
        seconds = round(time.perf_counter() - start, 4)
        keep, broken = np.zeros(runs, dtype=bool), np.zeros(runs, dtype=bool)
        for r in np.flatnonzero(active):
            log = logs[r]
            loss = float(result.loss[r])
            val = float(result.val_loss[r]) if result.val_loss is not None else None
            grads = () if result.bad[r] else tuple(
                float(g) if np.isfinite(g) else float("nan") for g in result.grad_norms[r])
            row = EpochRow(epoch + 1, finite_or_none(loss), finite_or_none(val), seconds, grads)
            log.rows.append(row)
            if on_epoch is not None:
                on_epoch(int(r), row)
            if result.bad[r]:
                log.message = _diverged("training loss", float(result.bad_value[r]), epoch + 1, limit)
            elif val is not None and _bad(val, limit):
                log.message = _diverged("validation loss", val, epoch + 1, limit)
            if log.message:
                log.status, log.diverged_epoch = RunStatus.DIVERGED, epoch + 1
                active[r], broken[r] = False, True
            if patience > 0:
                keep[r] = _early_stopping(log, val if val is not None else loss, epoch, patience)
                if log.status == "stopped":
                    active[r] = False
        if broken.any():
            trainer.sanitize(broken)
        if keep.any():
            trainer.keep_best(keep)
    for r in np.flatnonzero(active):
        logs[r].status = RunStatus.DONE
    if patience > 0:
        trainer.restore_best(np.array([log.has_best for log in logs]))
        trainer.sanitize(np.array([log.status == RunStatus.DIVERGED for log in logs]))
    return logs


def _early_stopping(log: RunLog, current: float, epoch: int, patience: int) -> bool:
    """`keras.callbacks.EarlyStopping.on_epoch_end` for one run (min_delta 0, mode min);
    True when the run's current weights become its best."""
    keep = not log.has_best  # Keras keeps the first epoch's weights before comparing anything
    log.has_best = True
    log.wait += 1
    if log.best is None or current < log.best:  # a NaN never improves (the comparison is False)
        log.best, log.wait = current, 0
        return True
    if log.wait >= patience and epoch > 0 and log.status == "active":
        log.status = "stopped"
    return keep
