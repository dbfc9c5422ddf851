"""The Ray executor's plain parts (`runs._ray` makes them remote and uses them): the progress
hub that tasks report to, the record of a submitted task and the judgement of a task in flight,
and the token rule for `ray://` clients. Nothing here imports Ray at import time.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from ..outcome import EpochRow
from ._ray_task import Job
from .schedule import Engine

__all__ = ["KILLED", "Hub", "Task", "Verdict", "client_token", "judge"]

KILLED = 30.0  # seconds a hard-cancelled task may take to end before it is given up
Verdict = Literal["killed", "lost", "stalled", "unstarted"]


class Hub:
    """The progress hub (a Ray actor on the head node): tasks leave epoch rows and learn which of
    their runs to stop; the executor drains the rows and sets the stops."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, EpochRow]] = []
        self.stops: set[int] = set()
        self.pids: dict[int, int] = {}
        self.contacts: dict[tuple[int, int], tuple[int, str]] = {}  # (run, attempt) → (exchanges, node)

    def exchange(self, pid: int, node: str, runs: list[tuple[int, int]],
                 rows: list[tuple[int, int, EpochRow]]) -> list[int]:
        self.rows.extend(rows)
        for run in runs:
            self.pids[run[0]] = pid
            self.contacts[run] = (self.contacts.get(run, (0, node))[0] + 1, node)
        return [run_id for run_id, _ in runs if run_id in self.stops]

    def drain(self, stops: list[int], live: list[tuple[int, int]]) -> tuple[
            list[tuple[int, int, EpochRow]], dict[int, int], dict[tuple[int, int], tuple[int, str]]]:
        rows, self.rows = self.rows, []
        self.stops = set(stops)
        self.contacts = {run: self.contacts[run] for run in live if run in self.contacts}
        return rows, dict(self.pids), dict(self.contacts)


@dataclass
class Task:
    """A submitted group: its runs' current attempts and what it takes to submit it again."""

    job: Job
    content: Any  # the dataset's ObjectRef
    num_cpus: float
    num_gpus: float
    attempts: dict[int, int]
    engine: Engine
    submitted: float = field(default_factory=time.monotonic)  # the executor's clock at submit
    killed_at: float | None = None
    epochs_seen: dict[int, list[float]] = field(default_factory=dict)
    contact: float | None = None  # the executor's clock at the last exchange seen; None before the first
    contact_read: int = 0  # how many node lists the executor had read before the first exchange
    exchanges: int = 0
    node: str | None = None  # the node it runs on, once it has reached the hub
    beat: bool = True  # reached the hub since the last heartbeat

    def runs(self) -> list[tuple[int, int]]:
        return list(self.attempts.items())


def judge(task: Task, now: float, alive: set[str], reads: int, stall_limit: float,
          start_limit: float) -> tuple[Verdict, float] | None:
    """What to do with a task in flight at `now` (the executor's clock), given the live nodes of
    the executor's `reads`-th node list: ("lost", 0) when that list, read after the task's first
    exchange, lacks its node; ("stalled", silent) after `stall_limit` s without an exchange,
    counted from the first one; ("unstarted", waited) when it has not reached the hub within
    `start_limit` s of its submit (a new Ray worker imports TensorFlow first, slowly on a busy
    machine, and a busy cluster queues it); ("killed", 0) for a hard-cancelled task whose node was
    lost or that has not ended within `KILLED` s; else None."""
    lost = task.node is not None and reads > task.contact_read and task.node not in alive
    if task.killed_at is not None:
        return ("killed", 0.0) if lost or now - task.killed_at >= KILLED else None
    if lost:
        return ("lost", 0.0)
    if task.contact is None:
        waited = now - task.submitted
        return ("unstarted", waited) if waited >= start_limit else None
    silent = now - task.contact
    return ("stalled", silent) if silent >= stall_limit else None


def client_token(address: str) -> None:
    """Send the cluster's token from a `ray://` client: Ray 2.60 clusters require one by default,
    and its client sends the token it has (~/.ray/auth_token, RAY_AUTH_TOKEN[_PATH]) only in token
    mode, which a driver on the head turns on by itself and a client does not."""
    if not address.startswith("ray://") or "RAY_AUTH_MODE" in os.environ:
        return
    try:  # Ray's own rule for a driver (private: a Ray without it sends no token, as before)
        from ray._private.authentication.authentication_token_setup import (
            maybe_enable_token_auth_if_token_available,
        )
    except ImportError:
        return
    with contextlib.suppress(Exception):
        maybe_enable_token_auth_if_token_available(warn_if_disabled=False)
