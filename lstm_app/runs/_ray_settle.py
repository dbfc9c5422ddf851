"""What the Ray executor writes to the store when a task ends without its own outcome (stalled,
hard-cancelled) or with one: store writes only, no Ray import (`runs._ray` drives them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._process import START_LIMIT_ENV
from ._ray_parts import Task
from ._ray_task import RunResult
from .store import Store

if TYPE_CHECKING:
    from .runner import Runner

__all__ = ["settle_killed", "settle_stalled", "store_result"]


def settle_stalled(runner: Runner, task: Task, silent: float, *, started: bool = True) -> None:
    """A task silent for `silent` seconds since its last exchange (or, not `started`, that had
    not reached the hub `silent` seconds after its submit) was stopped: its runs fail, or go back
    to the queue with `on_stall="requeue"`; a run whose cancel was asked for ends cancelled."""
    store = runner.store
    if started:
        what, limit = f"no progress for {silent:.0f} s", f"the limit is {runner.stall_limit_seconds:g} s"
    else:
        what, limit = (f"not started after {silent:.0f} s", f"the limit is {runner.start_limit_seconds:g} s; "
                       f"raise {START_LIMIT_ENV} for a busy cluster")
    requeue = {}
    for run_id, attempt in task.attempts.items():
        if store.run(run_id).cancel_requested:
            store.mark_cancelled(run_id, "cancelled; its Ray task had stopped responding", attempt=attempt)
        elif runner.on_stall == "requeue":
            requeue[run_id] = attempt
        else:
            store.fail(run_id, f"{what} ({limit}), so its Ray task was stopped", attempt=attempt)
    store.requeue_attempts(requeue, f"{what}, so its Ray task was stopped and the run queued again")


def store_result(store: Store, result: RunResult) -> None:
    """A run's outcome with the attempt its task held (a lone run's `.keras` file next to the
    store, a batched run's weights in it)."""
    run_id, attempt = result.run_id, result.attempt
    if result.outcome is None:
        store.fail(run_id, result.error or "the Ray task returned no outcome", attempt=attempt)
        return
    path = None
    if result.keras_file is not None:
        path = store.model_path(run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(result.keras_file)
    if result.weights is not None and not store.put_weights(run_id, result.weights, attempt=attempt):
        return
    store.finish(run_id, result.outcome, path, attempt=attempt)


def settle_killed(runner: Runner, task: Task) -> None:
    """A task hard-cancelled for one run's cancel: that run ends cancelled, the others of its
    group are innocent and go back to the queue."""
    store = runner.store
    innocent = {}
    for run_id, attempt in task.attempts.items():
        if store.run(run_id).cancel_requested:
            store.mark_cancelled(run_id, "cancelled; its Ray task was killed after it did not stop within "
                                 f"{runner.grace_seconds:g} s", attempt=attempt)
        else:
            innocent[run_id] = attempt
    store.requeue_attempts(innocent, "its Ray task was stopped to cancel another run of its group")
