"""Run lifecycle in the run store: claim, progress, cancel, fail, interrupt, re-queue.

`Store` (in `store`) inherits these; they are split out only to keep modules small.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import QueueFullError, StoreError
from ..num import finite_or_none
from ..outcome import ACTIVE, REQUEUEABLE, EpochRow, RunStatus, in_order
from ._schema import RUN_COLUMNS, RunRow, StoreBase, dumps, run_row

__all__ = ["RunLifecycle"]

_ACTIVE = in_order(ACTIVE)


class RunLifecycle(StoreBase):
    """The status changes of a run, each one atomic."""

    def claim_next(self, worker_pid: int) -> RunRow | None:
        """Atomically move the oldest queued run to running for `worker_pid` in a new attempt;
        None when none is queued."""
        with self._db(write=True) as con:
            row = con.execute(
                "SELECT id FROM runs WHERE status = ? ORDER BY id LIMIT 1", (RunStatus.QUEUED,)
            ).fetchone()
            if row is None:
                return None
            now = time.time()
            con.execute(
                "UPDATE runs SET status = ?, worker_pid = ?, started_at = ?, heartbeat_at = ?, "
                "attempt = attempt + 1, epoch = 0, message = '', exit_code = NULL, "
                "cancel_requested = 0, cancel_requested_at = NULL WHERE id = ?",
                (RunStatus.RUNNING, worker_pid, now, now, row[0]),
            )
            return run_row(con.execute(f"SELECT {RUN_COLUMNS} FROM runs WHERE id = ?", row).fetchone())

    def add_epoch(self, run_id: int, row: EpochRow, *, attempt: int | None = None) -> bool:
        """Record one finished epoch of the run's current attempt and update its progress
        (losses, elapsed, ETA, heartbeat). With `attempt` (a worker's write), refused (False) unless
        the run is still running in that attempt."""
        with self._db(write=True) as con:
            if not self._owned(con, run_id, attempt, f"epoch {row.epoch}"):
                return False
            con.execute(
                "INSERT OR REPLACE INTO epochs (run_id, attempt, epoch, loss, val_loss, seconds, grad_norms) "
                "VALUES (?, (SELECT attempt FROM runs WHERE id = ?), ?, ?, ?, ?, ?)",
                (run_id, run_id, row.epoch, finite_or_none(row.loss), finite_or_none(row.val_loss), row.seconds,
                 dumps(list(row.grad_norms))),
            )
            done, seconds = con.execute(
                "SELECT COUNT(*), SUM(e.seconds) FROM epochs e JOIN runs r "
                "ON r.id = e.run_id AND r.attempt = e.attempt WHERE e.run_id = ?", (run_id,)
            ).fetchone()
            # ETA = mean seconds per epoch so far × epochs left (early stopping may end sooner).
            now = time.time()
            con.execute(
                "UPDATE runs SET epoch = ?, loss = ?, val_loss = ?, heartbeat_at = ?, "
                "elapsed = ? - COALESCE(started_at, ?), "
                "eta_seconds = MAX(epochs_total - ?, 0) * ? WHERE id = ?",
                (done, finite_or_none(row.loss), finite_or_none(row.val_loss), now, now, now, done,
                 (seconds or 0.0) / max(done, 1), run_id),
            )
            return True

    def _end(
        self, run_id: int, status: RunStatus, reason: str, exit_code: int | None,
        only: tuple[RunStatus, ...] = _ACTIVE, attempt: int | None = None,
    ) -> bool:
        if attempt is not None:
            only = (RunStatus.RUNNING,)  # a worker's write: only while its attempt runs
        marks = ", ".join("?" * len(only))
        with self._db(write=True) as con:
            if not self._owned(con, run_id, attempt, f"'{status}'"):
                return False
            cur = con.execute(
                "UPDATE runs SET status = ?, message = ?, exit_code = ?, finished_at = ?, "
                f"eta_seconds = NULL WHERE id = ? AND status IN ({marks})",
                (status, reason, exit_code, time.time(), run_id, *only),
            )
            return cur.rowcount > 0

    def fail(self, run_id: int, reason: str, exit_code: int | None = None, *, attempt: int | None = None) -> bool:
        """Mark a queued or running run failed with a one-line reason; False if it was not (or,
        with `attempt`, if the run is no longer running in that attempt)."""
        return self._end(run_id, RunStatus.FAILED, reason, exit_code, attempt=attempt)

    def interrupt(self, run_id: int, reason: str, exit_code: int | None = None, *,
                  attempt: int | None = None) -> bool:
        """Mark a queued or running run interrupted (it can be re-queued); False if it was not."""
        return self._end(run_id, RunStatus.INTERRUPTED, reason, exit_code, attempt=attempt)

    def mark_cancelled(self, run_id: int, reason: str, exit_code: int | None = None, *,
                       attempt: int | None = None) -> bool:
        """Mark a running run cancelled without an outcome (its worker was killed); keeps history."""
        return self._end(run_id, RunStatus.CANCELLED, reason, exit_code, attempt=attempt)

    def request_cancel(self, run_id: int) -> RunStatus:
        """Cancel a run: one not started yet ends cancelled now, a running one is flagged for its
        worker. Returns the run's status afterwards."""
        now = time.time()
        with self._db(write=True) as con:
            con.execute(
                "UPDATE runs SET status = ?, message = 'cancelled before it started', "
                "finished_at = ? WHERE id = ? AND status IN (?, ?)",
                (RunStatus.CANCELLED, now, run_id, RunStatus.QUEUED, RunStatus.INTERRUPTED),
            )
            con.execute(
                "UPDATE runs SET cancel_requested = 1, "
                "cancel_requested_at = COALESCE(cancel_requested_at, ?) WHERE id = ? AND status = ?",
                (now, run_id, RunStatus.RUNNING),
            )
            row = con.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"No run {run_id} in the run store.")
        return RunStatus(row[0])

    def cancel_experiment(self, experiment_id: int, model_index: int | None = None) -> int:
        """Cancel every queued, interrupted or running run of an experiment (of one of its models,
        given `model_index`); returns how many."""
        with self._db() as con:
            ids = [i for (i,) in con.execute(
                "SELECT id FROM runs WHERE experiment_id = ? AND status IN (?, ?, ?) "
                "AND (? IS NULL OR model_index = ?)",
                (experiment_id, RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.INTERRUPTED, model_index, model_index),
            )]
        for run_id in ids:
            self.request_cancel(run_id)
        return len(ids)

    def cancel_requested(self, run_id: int) -> bool:
        """Whether cancelling this run was asked for (True too when the run is gone)."""
        with self._db() as con:
            row = con.execute("SELECT cancel_requested FROM runs WHERE id = ?", (run_id,)).fetchone()
        return row is None or bool(row[0])

    def cancel_pending(self) -> list[tuple[int, int | None, float]]:
        """(run id, worker pid, seconds since asked) of running runs whose cancel was asked for."""
        now = time.time()
        with self._db() as con:
            rows = con.execute(
                "SELECT id, worker_pid, cancel_requested_at FROM runs "
                "WHERE status = ? AND cancel_requested = 1", (RunStatus.RUNNING,)
            ).fetchall()
        return [(i, pid, now - (at or now)) for i, pid, at in rows]

    def mark_interrupted(self) -> int:
        """Mark every queued or running run interrupted (their server is gone); returns how many."""
        with self._db(write=True) as con:
            cur = con.execute(
                "UPDATE runs SET status = ?, eta_seconds = NULL, finished_at = ?, message = "
                "CASE status WHEN ? THEN 'the server stopped before this run started' "
                "ELSE 'the server stopped while this run was training' END "
                "WHERE status IN (?, ?)",
                (RunStatus.INTERRUPTED, time.time(), RunStatus.QUEUED, *_ACTIVE),
            )
            return cur.rowcount

    def requeue(
        self, run_ids: Iterable[int] | None = None, *, experiment_id: int | None = None,
        statuses: Iterable[RunStatus] = REQUEUEABLE, max_queued: int | None = None,
    ) -> int:
        """Queue runs again from scratch (history and results cleared; the next claim starts a
        new attempt): those of `run_ids`, or of `experiment_id`, or all, that are in `statuses`.
        Returns how many. With `max_queued`, refused (QueueFullError) when the queue would hold
        more runs than that."""
        wanted = tuple(statuses)
        if not set(wanted) <= REQUEUEABLE:
            raise StoreError(f"Only runs that are {', '.join(in_order(REQUEUEABLE))} can be re-queued, "
                             f"got {', '.join(map(str, wanted))}.")
        chosen = in_order(wanted)
        where = [f"status IN ({', '.join('?' * len(chosen))})" if chosen else "0"]
        args: list[Any] = list(chosen)
        if run_ids is not None:
            ids = list(run_ids)
            where.append(f"id IN ({', '.join('?' * len(ids))})" if ids else "0")
            args += ids
        if experiment_id is not None:
            where.append("experiment_id = ?")
            args.append(experiment_id)
        cond = " AND ".join(where)
        with self._db(write=True) as con:
            if max_queued is not None:
                queued, adding = con.execute(
                    f"SELECT (SELECT COUNT(*) FROM runs WHERE status = ?), COUNT(*) FROM runs WHERE {cond}",
                    [RunStatus.QUEUED, *args],
                ).fetchone()
                if adding and queued + adding > max_queued:
                    raise QueueFullError(
                        f"The run queue is full: {queued} runs are waiting and re-queuing adds {adding}, "
                        f"over the limit of {max_queued}; wait for runs to finish or cancel some."
                    )
            return self._queue_again(con, cond, args)

    def requeue_attempts(self, attempts: Mapping[int, int], reason: str) -> list[int]:
        """Put innocent runs back on the queue from the attempt their worker or Ray task held (run
        id → attempt), in one transaction: *running* becomes *queued* with nothing in between, as
        `requeue` leaves it, with `reason` as the message. A run no longer running in its attempt
        is left alone (the write is refused and recorded). Returns the ids queued again."""
        with self._db(write=True) as con:
            ids = [run_id for run_id, attempt in attempts.items() if self._owned(con, run_id, attempt, "'queued'")]
            if ids:
                self._queue_again(con, f"id IN ({', '.join('?' * len(ids))})", ids, reason)
        return ids

    @staticmethod
    def _queue_again(con: sqlite3.Connection, cond: str, args: list[Any], message: str = "") -> int:
        """Queue the runs matching `cond` from scratch (history and results cleared)."""
        for table in ("epochs", "predictions", "metrics", "weights"):
            con.execute(f"DELETE FROM {table} WHERE run_id IN (SELECT id FROM runs WHERE {cond})", args)
        cur = con.execute(
            "UPDATE runs SET status = ?, epoch = 0, loss = NULL, val_loss = NULL, "
            "elapsed = NULL, eta_seconds = NULL, message = ?, exit_code = NULL, worker_pid = NULL, "
            "cancel_requested = 0, cancel_requested_at = NULL, model_path = NULL, params = NULL, "
            "seconds_per_epoch = NULL, diverged_epoch = NULL, started_at = NULL, finished_at = NULL, "
            "engine = NULL, engine_reason = '', heartbeat_at = NULL "
            f"WHERE {cond}",
            [RunStatus.QUEUED, message, *args],
        )
        return cur.rowcount
