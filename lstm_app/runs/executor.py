"""Where run groups train: the executor interface and the choice between its two implementations.

    local  the default: worker processes on this machine (`runner.Runner` starts and supervises
           them; they read and write the SQLite store themselves). No extra dependency.
    ray    opt-in: each run group is one Ray task (`runs._ray.RayExecutor`), on a local Ray
           started here or on a cluster (`ray://HOST:PORT`, or `auto` for `ray start`'s
           cluster on this machine). Workers never open the store: progress comes back to this
           process, which writes it with the run's attempt.

The choice comes from `$LSTM_LAB_EXECUTOR` (the page, the runner) or the CLI's
`--executor ray[=ADDRESS]`. `import ray` happens only inside `runs._ray`, and only when the Ray
executor is chosen.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol

from ..errors import LabError

__all__ = ["EXECUTOR_ENV", "MAX_RETRIES_ENV", "Executor", "ExecutorChoice", "LocalExecutor", "parse_executor"]

EXECUTOR_ENV = "LSTM_LAB_EXECUTOR"
MAX_RETRIES_ENV = "LSTM_LAB_MAX_RETRIES"  # attempts started again after a worker or node died


@dataclass(frozen=True)
class ExecutorChoice:
    """`kind` is "local" or "ray"; `address` is a Ray address (None: start a local Ray here)."""

    kind: str = "local"
    address: str | None = None

    def __str__(self) -> str:
        return self.kind if self.address is None else f"{self.kind}={self.address}"


def parse_executor(text: str | None = None) -> ExecutorChoice:
    """Read an executor choice: "local", "ray", "ray=ADDRESS" or a bare "ray://HOST:PORT";
    None or "" reads `$LSTM_LAB_EXECUTOR` (unset: local)."""
    raw = (os.environ.get(EXECUTOR_ENV, "") if text is None else text).strip()
    if raw in ("", "local"):
        return ExecutorChoice()
    if raw == "ray":
        return ExecutorChoice("ray")
    if raw.startswith("ray://"):
        return ExecutorChoice("ray", raw)
    if raw.startswith("ray=") and raw[4:].strip():
        return ExecutorChoice("ray", raw[4:].strip())
    raise LabError(f"Received an invalid executor, expected 'local', 'ray', 'ray=ADDRESS' or 'ray://HOST:PORT' "
                   f"(from {EXECUTOR_ENV} or --executor), got {raw!r}.")


class Executor(Protocol):
    """What the runner's supervisor thread drives, once per tick: start work for queued runs,
    collect progress and outcomes into the store, enforce cancels, settle dead workers."""

    kind: str

    def tick(self) -> None:
        """One supervision step; never raises for one bad run (the runner logs what escapes)."""

    def where(self) -> str:
        """One phrase for the page and CLI, e.g. "local: up to 3 worker processes" or
        "Ray at ray://10.0.0.5:10001: 4 nodes, 64 CPUs, 4 GPUs"."""
        ...

    def busy_pids(self) -> list[int]:
        """Process ids of live local workers (empty for Ray)."""
        ...

    def shutdown(self, timeout: float) -> None:
        """Stop every worker or task; runs still training end interrupted."""


class LocalExecutor:
    """Worker processes on this machine, as `runner.Runner` has always run them (the default)."""

    kind = "local"

    def __init__(self, runner: _LocalRunner) -> None:
        self.runner = runner

    def tick(self) -> None:
        self.runner._local_tick()

    def where(self) -> str:
        n = self.runner.concurrency
        return f"local: up to {n} worker process{'es' * (n != 1)} on this machine"

    def busy_pids(self) -> list[int]:
        return self.runner.worker_pids()

    def shutdown(self, timeout: float) -> None:
        self.runner._stop_workers(timeout)


class _LocalRunner(Protocol):
    concurrency: int

    def _local_tick(self) -> None: ...

    def worker_pids(self) -> list[int]: ...

    def _stop_workers(self, timeout: float) -> None: ...
