"""The Ray executor's plain parts (`runs._ray` makes them remote and uses them): the progress
hub that tasks report to, the record of a submitted task, and the token rule for `ray://`
clients. Nothing here imports Ray at import time.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from typing import Any

from ..outcome import EpochRow
from ._ray_task import Job
from .schedule import Engine

__all__ = ["Hub", "Task", "client_token"]


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
    killed_at: float | None = None
    epochs_seen: dict[int, list[float]] = field(default_factory=dict)
    contact: float = field(default_factory=time.monotonic)  # the last exchange seen (or the submit)
    exchanges: int = 0
    node: str | None = None  # the node it runs on, once it has reached the hub
    beat: bool = True  # reached the hub since the last heartbeat

    def runs(self) -> list[tuple[int, int]]:
        return list(self.attempts.items())


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
