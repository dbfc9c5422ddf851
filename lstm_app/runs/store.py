"""The run store: one SQLite file that is the single source of truth for experiments and runs.

Where: `$LSTM_LAB_DATA/runs.sqlite`, where the data folder `LSTM_LAB_DATA` defaults to
`./lab-data` (relative to the current directory when the store is opened). Trained models go
beside it as `<data folder>/models/run-<id>.keras`; `Store(path)` uses `path`'s folder instead.

It holds datasets (the uploaded bytes, keyed by SHA-256, so a run can be repeated after a
restart), experiments (the spec as JSON), runs (model × seed, status, live progress), the
per-epoch history, predictions and metrics. WAL mode and a 10 s busy timeout let the page, the
supervisor and several worker processes use it at once. Every call opens its own short-lived
connection, so a `Store` may be shared between threads; writes that must be atomic (claiming a
queued run) take the write lock up front with `BEGIN IMMEDIATE`. No TensorFlow here.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

from ..errors import StoreError
from ..num import finite_or_none
from ..outcome import (
    FINISHED,
    REQUEUEABLE,
    STATUSES,
    Diagnostics,
    EpochRow,
    FutureForecast,
    Metrics,
    Regions,
    RunOutcome,
    RunStatus,
    TestForecast,
    in_order,
)
from ._experiments import ExperimentOps
from ._groups import GroupOps
from ._lifecycle import RunLifecycle
from ._schema import MIGRATIONS, RUN_COLUMNS, ExperimentInfo, ExperimentRow, RunRow, dumps, run_row

__all__ = [
    "DATA_ENV", "FINISHED", "REQUEUEABLE", "SCHEMA_VERSION", "ExperimentInfo", "ExperimentRow", "RunRow", "Store",
    "data_dir", "default_path",
]

DATA_ENV = "LSTM_LAB_DATA"
# How many schema migrations this program knows; a file with more comes from a newer program.
SCHEMA_VERSION = len(MIGRATIONS)


def data_dir() -> Path:
    """The data folder: `$LSTM_LAB_DATA`, else `./lab-data`, as an absolute path."""
    return Path(os.environ.get(DATA_ENV) or "lab-data").expanduser().resolve()


def default_path() -> Path:
    """The default store file, `<data folder>/runs.sqlite`."""
    return data_dir() / "runs.sqlite"


class Store(ExperimentOps, RunLifecycle, GroupOps):
    """The run store on one SQLite file; creates the file and applies migrations on open."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        super().__init__(Path(path).expanduser().resolve() if path is not None else default_path())
        self.models_dir = self.path.parent / "models"

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # -- runs ---------------------------------------------------------------------------------

    def run(self, run_id: int) -> RunRow:
        """One run; StoreError when there is none."""
        with self._db() as con:
            row = con.execute(f"SELECT {RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"No run {run_id} in the run store.")
        return run_row(row)

    def runs(self, experiment_id: int | None = None, *, status: RunStatus | None = None) -> list[RunRow]:
        """Runs in id order, of one experiment and/or in one status (all when both are None)."""
        where: list[str] = []
        args: list[int | str] = []
        if experiment_id is not None:
            where.append("experiment_id = ?")
            args.append(experiment_id)
        if status is not None:
            where.append("status = ?")
            args.append(status)
        sql = f"SELECT {RUN_COLUMNS} FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._db() as con:
            return [run_row(r) for r in con.execute(sql + " ORDER BY id", args)]

    def counts(self) -> dict[RunStatus, int]:
        """How many runs are in each status (every status is a key)."""
        with self._db() as con:
            found = dict(con.execute("SELECT status, COUNT(*) FROM runs GROUP BY status").fetchall())
        return {status: found.get(status, 0) for status in STATUSES}

    def model_path(self, run_id: int) -> Path:
        """Where the worker saves run `run_id`'s trained model."""
        return self.models_dir / f"run-{run_id}.keras"

    def history(self, run_id: int) -> list[EpochRow]:
        """The per-epoch history of a run's current attempt, in epoch order."""
        with self._db() as con:
            rows = con.execute(
                "SELECT e.epoch, e.loss, e.val_loss, e.seconds, e.grad_norms FROM epochs e "
                "JOIN runs r ON r.id = e.run_id AND r.attempt = e.attempt WHERE e.run_id = ? "
                "ORDER BY e.epoch",
                (run_id,),
            ).fetchall()
        return [EpochRow(e, loss, val, s, tuple(json.loads(g))) for e, loss, val, s, g in rows]

    def finish(
        self, run_id: int, outcome: RunOutcome, model_path: str | os.PathLike[str] | None = None,
        *, attempt: int | None = None,
    ) -> bool:
        """Store a run's outcome: status from `outcome.status`, history, predictions, metrics.
        With `attempt` (a worker's write), refused (False, nothing written) unless the run is
        still running in that attempt."""
        if outcome.status not in FINISHED:
            raise StoreError(
                f"A finished run has status {', '.join(in_order(FINISHED))}, got '{outcome.status}' for run {run_id}."
            )
        now = time.time()
        with self._db(write=True) as con:
            found = con.execute("SELECT attempt FROM runs WHERE id = ?", (run_id,)).fetchone()
            if found is None:
                raise StoreError(f"No run {run_id} in the run store.")
            if not self._owned(con, run_id, attempt, f"outcome '{outcome.status}'"):
                return False
            con.executemany(
                "INSERT OR REPLACE INTO epochs (run_id, attempt, epoch, loss, val_loss, seconds, grad_norms) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(run_id, found[0], e.epoch, finite_or_none(e.loss), finite_or_none(e.val_loss), e.seconds,
                  dumps(list(e.grad_norms))) for e in outcome.epochs],
            )
            con.execute(
                "INSERT OR REPLACE INTO predictions (run_id, test, future, regions, diagnostics) "
                "VALUES (?, ?, ?, ?, ?)",
                (run_id, *(dumps({} if part is None else part.to_dict())
                           for part in (outcome.test, outcome.future, outcome.regions)),
                 dumps(outcome.diagnostics.to_dict())),
            )
            con.execute("DELETE FROM metrics WHERE run_id = ?", (run_id,))
            con.executemany(
                "INSERT INTO metrics (run_id, name, value) VALUES (?, ?, ?)",
                [(run_id, k, finite_or_none(v))
                 for k, v in (outcome.metrics.as_dict() if outcome.metrics else {}).items()],
            )
            last = outcome.epochs[-1] if outcome.epochs else None
            con.execute(
                "UPDATE runs SET status = ?, message = ?, diverged_epoch = ?, params = ?, "
                "seconds_per_epoch = ?, model_path = ?, finished_at = ?, eta_seconds = 0, "
                "elapsed = ? - COALESCE(started_at, ?), "
                "epoch = (SELECT COUNT(*) FROM epochs WHERE run_id = ? AND attempt = ?), "
                "loss = COALESCE(?, loss), val_loss = COALESCE(?, val_loss) WHERE id = ?",
                (outcome.status.value, outcome.message, outcome.diverged_epoch, outcome.params,
                 finite_or_none(outcome.seconds_per_epoch), str(model_path) if model_path else None, now, now, now,
                 run_id, found[0], finite_or_none(last.loss) if last else None,
                 finite_or_none(last.val_loss) if last else None,
                 run_id),
            )
        return True

    def refused_writes(self, run_id: int | None = None) -> list[tuple[int, int, str, str]]:
        """Stale writes refused so far, oldest first: (run id, attempt, what, what the run was)."""
        with self._db() as con:
            rows = con.execute(
                "SELECT run_id, attempt, what, run_was FROM refused_writes "
                + ("WHERE run_id = ? " if run_id is not None else "") + "ORDER BY rowid",
                () if run_id is None else (run_id,),
            ).fetchall()
        return [(int(r), int(a), str(w), str(was)) for r, a, w, was in rows]

    def outcome(self, run_id: int) -> RunOutcome | None:
        """The stored RunOutcome of a done, diverged or cancelled run (None for other statuses)."""
        run = self.run(run_id)
        if run.status not in FINISHED:
            return None
        with self._db() as con:
            pred = con.execute(
                "SELECT test, future, regions, diagnostics FROM predictions WHERE run_id = ?", (run_id,)
            ).fetchone()
            metrics = dict(con.execute("SELECT name, value FROM metrics WHERE run_id = ?", (run_id,)))
            extra = con.execute(
                "SELECT diverged_epoch, params, seconds_per_epoch FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
        test, future, regions, diagnostics = (json.loads(x) for x in pred) if pred else ({}, {}, {}, {})
        # Parts a run lacks are stored as {} (the shape results.json has too).
        return RunOutcome(
            status=run.status, epochs=self.history(run_id), message=run.message,
            diverged_epoch=extra[0], metrics=Metrics.from_dict(metrics) if metrics else None,
            test=TestForecast.from_dict(test) if test else None,
            future=FutureForecast.from_dict(future) if future else None,
            regions=Regions.from_dict(regions) if regions else None,
            diagnostics=Diagnostics.from_dict(diagnostics), params=extra[1] or 0, seconds_per_epoch=extra[2],
        )

    def outcomes(self, experiment_id: int) -> dict[int, RunOutcome | None]:
        """Every run of an experiment by id, each exactly as `outcome` gives it (None for a run that
        is not done, diverged or cancelled), read on one connection with one query per table
        instead of several connections per run."""
        with self._db() as con:
            runs = con.execute(
                "SELECT id, status, message, diverged_epoch, params, seconds_per_epoch FROM runs "
                "WHERE experiment_id = ? ORDER BY id", (experiment_id,)).fetchall()
            done = {r[0] for r in runs if r[1] in FINISHED}
            preds = {r[0]: r[1:] for r in con.execute(
                "SELECT p.run_id, p.test, p.future, p.regions, p.diagnostics FROM predictions p "
                "JOIN runs r ON r.id = p.run_id WHERE r.experiment_id = ?", (experiment_id,)) if r[0] in done}
            metrics: dict[int, dict[str, float | None]] = {}
            for run_id, name, value in con.execute(
                "SELECT m.run_id, m.name, m.value FROM metrics m JOIN runs r ON r.id = m.run_id "
                "WHERE r.experiment_id = ?", (experiment_id,)):
                metrics.setdefault(run_id, {})[name] = value
            epochs = self._epochs(con, experiment_id)
        out: dict[int, RunOutcome | None] = {}
        for run_id, status, message, diverged, params, spe in runs:
            if run_id not in done:
                out[run_id] = None
                continue
            test, future, regions, diagnostics = (json.loads(x) for x in preds[run_id]) if run_id in preds \
                else ({}, {}, {}, {})
            values = metrics.get(run_id)
            out[run_id] = RunOutcome(
                status=RunStatus(status), epochs=epochs.get(run_id, []), message=message, diverged_epoch=diverged,
                metrics=Metrics.from_dict(values) if values else None,
                test=TestForecast.from_dict(test) if test else None,
                future=FutureForecast.from_dict(future) if future else None,
                regions=Regions.from_dict(regions) if regions else None,
                diagnostics=Diagnostics.from_dict(diagnostics), params=params or 0, seconds_per_epoch=spe,
            )
        return out

    def histories(self, experiment_id: int) -> dict[int, list[EpochRow]]:
        """The per-epoch history of every run of an experiment (current attempts), by run id, as
        `history` gives each; runs without epochs are left out. One query."""
        with self._db() as con:
            return self._epochs(con, experiment_id)

    @staticmethod
    def _epochs(con: sqlite3.Connection, experiment_id: int) -> dict[int, list[EpochRow]]:
        out: dict[int, list[EpochRow]] = {}
        for run_id, e, loss, val, s, g in con.execute(
            "SELECT e.run_id, e.epoch, e.loss, e.val_loss, e.seconds, e.grad_norms FROM epochs e "
            "JOIN runs r ON r.id = e.run_id AND r.attempt = e.attempt WHERE r.experiment_id = ? "
            "ORDER BY e.run_id, e.epoch", (experiment_id,)):
            out.setdefault(run_id, []).append(EpochRow(e, loss, val, s, tuple(json.loads(g))))
        return out

    def metrics(self, experiment_id: int) -> dict[int, Metrics]:
        """Metrics of every run of an experiment that has them, by run id."""
        raw: dict[int, dict[str, float | None]] = {}
        with self._db() as con:
            for run_id, name, value in con.execute(
                "SELECT m.run_id, m.name, m.value FROM metrics m JOIN runs r ON r.id = m.run_id "
                "WHERE r.experiment_id = ? ORDER BY m.run_id",
                (experiment_id,),
            ):
                raw.setdefault(run_id, {})[name] = value
        return {run_id: Metrics.from_dict(values) for run_id, values in raw.items()}

    # -- the page's working setups (drafts) ----------------------------------------------------

    def save_draft(self, draft_id: str, body: str, dataset_sha: str | None = None) -> None:
        """Keep the page's working setup `body` (JSON) under `draft_id`, with the uploaded
        dataset it uses (kept while a draft uses it)."""
        with self._db(write=True) as con:
            con.execute(
                "INSERT INTO drafts (id, body, dataset_sha, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET body = excluded.body, dataset_sha = excluded.dataset_sha, "
                "updated_at = excluded.updated_at",
                (draft_id, body, dataset_sha, time.time()),
            )

    def draft(self, draft_id: str) -> str | None:
        """The working setup saved under `draft_id`, or None."""
        with self._db() as con:
            row = con.execute("SELECT body FROM drafts WHERE id = ?", (draft_id,)).fetchone()
        return None if row is None else str(row[0])
