"""What the runner's supervisor enforces on running runs, besides starting and reaping workers
(see `runner.Runner`, which inherits this): cancels that a worker ignores, stalled runs (no
heartbeat for too long), and runs that no live worker holds any more. Store writes made while
settling a run are retried when the store is briefly unavailable (busy, disk full)."""

from __future__ import annotations

import contextlib
import logging
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from ..errors import StoreError
from ..outcome import RunStatus
from .schedule import Engine
from .store import RunRow, Store

__all__ = ["Enforcement", "retrying"]

log = logging.getLogger("lstm_app.runs.runner")
T = TypeVar("T")
Worker = tuple["subprocess.Popen[bytes]", Path]


def retrying(write: Callable[[], T], what: str, tries: int = 5, pause: float = 0.2) -> T | None:
    """Run a store write, retrying a StoreError (busy, disk full) with growing pauses; None (and a
    log line) when it still fails — the supervisor's next tick tries to settle the run again."""
    for attempt in range(tries):
        try:
            return write()
        except StoreError as exc:
            if attempt == tries - 1:
                log.warning("%s failed after %d tries: %s", what, tries, exc)
                return None
            time.sleep(pause * 2**attempt)
    return None


class Enforcement:
    """Cancel, stall and orphan enforcement; needs the attributes `Runner` sets."""

    store: Store
    grace_seconds: float
    stall_seconds: float
    stall_limit_seconds: float
    on_stall: str
    _workers: dict[int, Worker]
    _lock: threading.Lock

    def _release(self, pid: int, code: int | None, log_path: Path, interrupted: str | None, *,
                 killed_for_cancel: bool = False, stalled: float | None = None) -> None:
        raise NotImplementedError  # Runner's

    def _freeze_if_holding(self, pid: int, still: Callable[[RunRow], bool], run_id: int) -> Worker | None:
        """Take worker `pid` out of the pool frozen (SIGSTOP) if run `run_id` still satisfies
        `still`; otherwise leave it running and return None. A worker may move on at any moment,
        so the check is made after freezing it."""
        with self._lock:
            worker = self._workers.pop(pid, None)
        if worker is None:
            return None
        proc = worker[0]
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGSTOP)
        run = self.store.run(run_id)
        if run.status == RunStatus.RUNNING and run.worker_pid == pid and still(run):
            return worker
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGCONT)
        with self._lock:
            self._workers[pid] = worker
        return None

    def _enforce_cancel(self) -> None:
        for run_id, pid, waited in self.store.cancel_pending():
            if pid is None or waited < self.grace_seconds:
                continue
            # A group checks its cancel flags once per epoch: give it two of its epochs (the
            # first epoch, which includes tracing the graph, is left out of the estimate).
            if self.store.run(run_id).engine is Engine.BATCHED:
                later = sorted(e.seconds for e in self.store.history(run_id)[1:])
                if waited < self.grace_seconds + 2 * (later[len(later) // 2] if later else 0.0):
                    continue
            worker = self._freeze_if_holding(pid, lambda run: True, run_id)
            if worker is None:
                continue
            proc, log_path = worker
            log.info("run %s ignored its cancel for %.1f s; killing worker %s", run_id, waited, pid)
            proc.kill()
            proc.wait()
            self._release(pid, proc.returncode, log_path, None, killed_for_cancel=True)

    def _enforce_stalls(self) -> None:
        """Kill the worker of a run with no heartbeat for `stall_limit_seconds` and fail (or, with
        `on_stall="requeue"`, re-queue) its runs."""
        now = time.time()
        for run in self.store.runs(status=RunStatus.RUNNING):
            silent = now - (run.heartbeat_at or run.started_at or now)
            if silent < self.stall_limit_seconds or run.worker_pid is None:
                continue
            worker = self._freeze_if_holding(run.worker_pid, partial(self._still_stalled, run.attempt), run.id)
            if worker is None:
                continue
            proc, log_path = worker
            log.warning("run %s made no progress for %.0f s; killing worker %s", run.id, silent, run.worker_pid)
            proc.kill()
            proc.wait()
            self._release(run.worker_pid, proc.returncode, log_path, None, stalled=silent)

    def _still_stalled(self, attempt: int, run: RunRow) -> bool:
        silent = time.time() - (run.heartbeat_at or run.started_at or 0.0)
        return run.attempt == attempt and silent >= self.stall_limit_seconds

    def _settle_orphans(self) -> None:
        """Settle runs left running by a worker that is no longer alive (one whose settlement
        failed when it exited, e.g. on a full disk): cancelled if that was asked for, else failed."""
        with self._lock:
            pids = set(self._workers)
        for run in self.store.runs(status=RunStatus.RUNNING):
            if run.worker_pid in pids:
                continue
            if run.cancel_requested:
                write = partial(self.store.mark_cancelled, run.id, "cancelled; its worker was already gone",
                                attempt=run.attempt)
            else:
                write = partial(self.store.fail, run.id, "its worker exited and the run could not be settled "
                                "then (the run store was unavailable)", attempt=run.attempt)
            retrying(write, f"settling run {run.id}", tries=1)  # the next tick tries again

    def stall_note(self, run: RunRow, now: float | None = None) -> str:
        """'no progress for 75 s' for a running run silent longer than `stall_seconds`, else ''."""
        if run.status != RunStatus.RUNNING:
            return ""
        silent = (now or time.time()) - (run.heartbeat_at or run.started_at or now or time.time())
        return f"no progress for {silent:.0f} s" if silent >= self.stall_seconds else ""
