"""Run-store operations for run groups: peek at the queue, claim a group, cancel flags, epochs in
bulk, trained weights (see `store.Store`, which inherits these)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence

from ..num import finite_or_none
from ..outcome import EpochRow, RunStatus
from ._schema import RUN_COLUMNS, RunRow, StoreBase, dumps, run_row
from .schedule import Engine

__all__ = ["GroupOps"]


class GroupOps(StoreBase):
    """What a worker needs to train many runs of one experiment at once."""

    def next_queued(self) -> RunRow | None:
        """The oldest queued run (not claimed), or None."""
        with self._db() as con:
            row = con.execute(
                f"SELECT {RUN_COLUMNS} FROM runs WHERE status = ? ORDER BY id LIMIT 1", (RunStatus.QUEUED,)
            ).fetchone()
        return run_row(row) if row else None

    def claim_runs(self, worker_pid: int, run_ids: Sequence[int], engine: Engine, reason: str) -> list[RunRow]:
        """Atomically move those of `run_ids` still queued to running for `worker_pid`, each in a
        new attempt, recording the engine that trains them and why; returns the runs claimed
        (with their attempts), in id order."""
        ids = list(run_ids)
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        with self._db(write=True) as con:
            now = time.time()
            con.execute(
                "UPDATE runs SET status = ?, worker_pid = ?, started_at = ?, heartbeat_at = ?, "
                "attempt = attempt + 1, epoch = 0, message = '', exit_code = NULL, cancel_requested = 0, "
                f"cancel_requested_at = NULL, engine = ?, engine_reason = ? WHERE status = ? AND id IN ({marks})",
                (RunStatus.RUNNING, worker_pid, now, now, engine, reason, RunStatus.QUEUED, *ids),
            )
            rows = con.execute(
                f"SELECT {RUN_COLUMNS} FROM runs WHERE worker_pid = ? AND status = ? "
                f"AND id IN ({marks}) ORDER BY id",
                (worker_pid, RunStatus.RUNNING, *ids),
            ).fetchall()
        return [run_row(r) for r in rows]

    def cancel_flags(self, run_ids: Iterable[int]) -> set[int]:
        """Which of `run_ids` were asked to cancel (or no longer exist): one query for a group."""
        ids = list(run_ids)
        if not ids:
            return set()
        with self._db() as con:
            found = dict(con.execute(
                f"SELECT id, cancel_requested FROM runs WHERE id IN ({', '.join('?' * len(ids))})", ids
            ).fetchall())
        return {i for i in ids if i not in found or found[i]}

    def add_epochs(
        self, rows: Sequence[tuple[int, EpochRow]], attempts: Mapping[int, int] | None = None
    ) -> set[int]:
        """Record one finished epoch for each of several runs in one transaction (a group's
        epoch). With `attempts` (run id → the attempt the writing worker holds), rows of runs no
        longer running in that attempt are refused and logged. Returns the run ids written."""
        if not rows:
            return set()
        now = time.time()
        with self._db(write=True) as con:
            ids = sorted({run_id for run_id, _ in rows})
            current = dict(con.execute(
                f"SELECT id, attempt FROM runs WHERE status = ? AND id IN ({', '.join('?' * len(ids))})",
                (RunStatus.RUNNING, *ids),
            ).fetchall()) if attempts is not None else dict(con.execute(
                f"SELECT id, attempt FROM runs WHERE id IN ({', '.join('?' * len(ids))})", ids
            ).fetchall())
            ok = {i for i in ids if i in current and (attempts is None or attempts.get(i) == current[i])}
            for run_id in set(ids) - ok:
                self._owned(con, run_id, -1 if attempts is None else attempts.get(run_id, -1), "epochs")
            kept = [(run_id, r) for run_id, r in rows if run_id in ok]
            con.executemany(
                "INSERT OR REPLACE INTO epochs (run_id, attempt, epoch, loss, val_loss, seconds, grad_norms) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(run_id, current[run_id], r.epoch, finite_or_none(r.loss), finite_or_none(r.val_loss), r.seconds,
                  dumps(list(r.grad_norms))) for run_id, r in kept],
            )
            # ETA = this epoch's seconds × epochs left (early stopping may end sooner).
            con.executemany(
                "UPDATE runs SET epoch = ?, loss = ?, val_loss = ?, elapsed = ? - COALESCE(started_at, ?), "
                "heartbeat_at = ?, eta_seconds = MAX(epochs_total - ?, 0) * ? WHERE id = ?",
                [(r.epoch, finite_or_none(r.loss), finite_or_none(r.val_loss), now, now, now, r.epoch, r.seconds,
                  run_id) for run_id, r in kept],
            )
        return ok

    def heartbeat(self, attempts: Mapping[int, int]) -> set[int]:
        """A worker's sign of life for the runs it trains (run id → its attempt); returns the ids
        still running in those attempts. The others are no longer the worker's: their heartbeat
        is refused like any stale write, and the worker stops training them."""
        if not attempts:
            return set()
        now = time.time()
        with self._db(write=True) as con:
            con.executemany(
                "UPDATE runs SET heartbeat_at = ? WHERE id = ? AND attempt = ? AND status = ?",
                [(now, run_id, attempt, RunStatus.RUNNING) for run_id, attempt in attempts.items()],
            )
            rows = con.execute(
                f"SELECT id, attempt FROM runs WHERE status = ? AND id IN ({', '.join('?' * len(attempts))})",
                (RunStatus.RUNNING, *attempts),
            ).fetchall()
            live = {i for i, a in rows if attempts[i] == a}
            for run_id in set(attempts) - live:
                self._owned(con, run_id, attempts[run_id], "heartbeat")  # refused: recorded
        return live

    def reattempt(self, attempts: Mapping[int, int], reason: str, worker_pid: int | None = None) -> dict[int, int]:
        """Start a new attempt of runs whose worker died, to train them again at once (run id →
        the attempt that died). Runs still running in that attempt get attempt + 1, their curves
        restart (the old attempt's epoch rows are kept apart and no longer read), `retries` + 1
        and `reason` as their message; the dead attempt's late writes are refused from now on.
        Returns run id → new attempt for the runs that were retried."""
        if not attempts:
            return {}
        now = time.time()
        retried: dict[int, int] = {}
        with self._db(write=True) as con:
            for run_id, attempt in attempts.items():
                cur = con.execute(
                    "UPDATE runs SET attempt = attempt + 1, retries = retries + 1, message = ?, "
                    "worker_pid = COALESCE(?, worker_pid), started_at = ?, heartbeat_at = ?, epoch = 0, "
                    "loss = NULL, val_loss = NULL, eta_seconds = NULL WHERE id = ? AND attempt = ? AND status = ?",
                    (reason, worker_pid, now, now, run_id, attempt, RunStatus.RUNNING),
                )
                if cur.rowcount:
                    retried[run_id] = attempt + 1
        return retried

    def retry_queued(self, attempts: Mapping[int, int], reason: str) -> dict[int, int]:
        """Queue again runs whose worker died (run id → the attempt that died), to be claimed in a
        new attempt: `retries` + 1, `reason` as their message, their curves restart. Like
        `reattempt`, but for a runner that starts the next attempt through the queue. Returns run
        id → the attempt that died, for the runs queued again."""
        queued: dict[int, int] = {}
        with self._db(write=True) as con:
            for run_id, attempt in attempts.items():
                cur = con.execute(
                    "UPDATE runs SET status = ?, retries = retries + 1, message = ?, worker_pid = NULL, epoch = 0, "
                    "loss = NULL, val_loss = NULL, eta_seconds = NULL, cancel_requested = 0, "
                    "cancel_requested_at = NULL WHERE id = ? AND attempt = ? AND status = ?",
                    (RunStatus.QUEUED, reason, run_id, attempt, RunStatus.RUNNING),
                )
                if cur.rowcount:
                    queued[run_id] = attempt
        return queued

    def put_weights(self, run_id: int, data: bytes, *, attempt: int | None = None) -> bool:
        """Keep a run's trained weights (an .npz blob in the layer order of `engine.model`);
        with `attempt`, refused (False) unless the run is still running in that attempt."""
        with self._db(write=True) as con:
            if not self._owned(con, run_id, attempt, "weights"):
                return False
            con.execute("INSERT OR REPLACE INTO weights (run_id, data) VALUES (?, ?)", (run_id, data))
            return True

    def weights(self, run_id: int) -> bytes | None:
        """A run's stored weights blob, or None (runs trained one at a time save a `.keras` file)."""
        with self._db() as con:
            row = con.execute("SELECT data FROM weights WHERE run_id = ?", (run_id,)).fetchone()
        return bytes(row[0]) if row else None

    def set_model_path(self, run_id: int, path: str | os.PathLike[str]) -> None:
        """Record where a run's `.keras` file was built (see `runs.export`)."""
        with self._db(write=True) as con:
            con.execute("UPDATE runs SET model_path = ? WHERE id = ?", (str(path), run_id))
