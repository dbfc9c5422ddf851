"""Run-store operations for run groups: peek at the queue, claim a group, cancel flags, epochs in
bulk, trained weights (see `store.Store`, which inherits these)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence

from ..outcome import EpochRow, RunStatus
from ._schema import RUN_COLUMNS, RunRow, StoreBase, dumps, real, run_row

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

    def claim_runs(self, worker_pid: int, run_ids: Sequence[int], engine: str, reason: str) -> list[RunRow]:
        """Atomically move those of `run_ids` still queued to running for `worker_pid`, recording
        the engine that trains them and why; returns the runs claimed, in id order."""
        ids = list(run_ids)
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        with self._db(write=True) as con:
            con.execute(
                "UPDATE runs SET status = ?, worker_pid = ?, started_at = ?, epoch = 0, "
                "message = '', exit_code = NULL, cancel_requested = 0, cancel_requested_at = NULL, "
                f"engine = ?, engine_reason = ? WHERE status = ? AND id IN ({marks})",
                (RunStatus.RUNNING, worker_pid, time.time(), engine, reason, RunStatus.QUEUED, *ids),
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

    def add_epochs(self, rows: Sequence[tuple[int, EpochRow]]) -> None:
        """Record one finished epoch for each of several runs in one transaction (a group's epoch)."""
        if not rows:
            return
        now = time.time()
        with self._db(write=True) as con:
            con.executemany(
                "INSERT OR REPLACE INTO epochs (run_id, epoch, loss, val_loss, seconds, grad_norms) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(run_id, r.epoch, real(r.loss), real(r.val_loss), r.seconds, dumps(list(r.grad_norms)))
                 for run_id, r in rows],
            )
            # ETA = this epoch's seconds × epochs left (early stopping may end sooner).
            con.executemany(
                "UPDATE runs SET epoch = ?, loss = ?, val_loss = ?, elapsed = ? - COALESCE(started_at, ?), "
                "eta_seconds = MAX(epochs_total - ?, 0) * ? WHERE id = ?",
                [(r.epoch, real(r.loss), real(r.val_loss), now, now, r.epoch, r.seconds, run_id)
                 for run_id, r in rows],
            )

    def put_weights(self, run_id: int, data: bytes) -> None:
        """Keep a run's trained weights (an .npz blob in the layer order of `engine.model`)."""
        with self._db(write=True) as con:
            con.execute("INSERT OR REPLACE INTO weights (run_id, data) VALUES (?, ?)", (run_id, data))

    def weights(self, run_id: int) -> bytes | None:
        """A run's stored weights blob, or None (runs trained one at a time save a `.keras` file)."""
        with self._db() as con:
            row = con.execute("SELECT data FROM weights WHERE run_id = ?", (run_id,)).fetchone()
        return bytes(row[0]) if row else None

    def set_model_path(self, run_id: int, path: str | os.PathLike[str]) -> None:
        """Record where a run's `.keras` file was built (see `runs.export`)."""
        with self._db(write=True) as con:
            con.execute("UPDATE runs SET model_path = ? WHERE id = ?", (str(path), run_id))
