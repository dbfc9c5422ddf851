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

import dataclasses
import hashlib
import json
import os
import sqlite3
import time
from contextlib import suppress
from pathlib import Path

from ..errors import QueueFullError, StoreError
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
from ..spec import ExperimentSpec
from ._groups import GroupOps
from ._lifecycle import RunLifecycle
from ._schema import MIGRATIONS, RUN_COLUMNS, ExperimentInfo, ExperimentRow, RunRow, dumps, real, run_row

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


class Store(RunLifecycle, GroupOps):
    """The run store on one SQLite file; creates the file and applies migrations on open."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        super().__init__(Path(path).expanduser().resolve() if path is not None else default_path())
        self.models_dir = self.path.parent / "models"

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # -- datasets and experiments -------------------------------------------------------------

    def put_dataset(self, name: str, content: bytes) -> str:
        """Keep `content` under its SHA-256 (once, however often it is put) and return the hash."""
        sha = hashlib.sha256(content).hexdigest()
        with self._db(write=True) as con:
            con.execute(
                "INSERT OR IGNORE INTO datasets (sha256, name, content, size, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (sha, name, content, len(content), time.time()),
            )
        return sha

    def dataset(self, sha: str) -> tuple[str, bytes]:
        """The (file name, bytes) stored under `sha`."""
        with self._db() as con:
            row = con.execute("SELECT name, content FROM datasets WHERE sha256 = ?", (sha,)).fetchone()
        if row is None:
            raise StoreError(f"No dataset with SHA-256 {sha} in the run store.")
        return row[0], bytes(row[1])

    def create_experiment(
        self, spec: ExperimentSpec, dataset_sha: str, *, max_queued: int | None = None
    ) -> int:
        """Insert the experiment and one queued run per `spec.backtest_runs()`, in one transaction.

        With `max_queued`, refuse (QueueFullError) when the queue would hold more runs than that.
        """
        pairs = spec.backtest_runs()
        with self._db(write=True) as con:
            if con.execute("SELECT 1 FROM datasets WHERE sha256 = ?", (dataset_sha,)).fetchone() is None:
                raise StoreError(f"No dataset with SHA-256 {dataset_sha} in the run store; put it first.")
            if max_queued is not None:
                queued = con.execute("SELECT COUNT(*) FROM runs WHERE status = ?", (RunStatus.QUEUED,)).fetchone()[0]
                if queued + len(pairs) > max_queued:
                    raise QueueFullError(
                        f"The run queue is full: {queued} runs are waiting and this experiment adds "
                        f"{len(pairs)}, over the limit of {max_queued}; wait for runs to finish or "
                        "cancel some."
                    )
            now = time.time()
            cur = con.execute(
                "INSERT INTO experiments (name, spec, dataset_sha, created_at) VALUES (?, ?, ?, ?)",
                (spec.name, spec.to_json(), dataset_sha, now),
            )
            experiment_id = int(cur.lastrowid or 0)
            con.executemany(
                "INSERT INTO runs (experiment_id, model_index, model_name, seed, origin, epochs_total, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (experiment_id, i, spec.models[i].name, seed, origin, spec.training.epochs, now)
                    # the latest origin (today's split) first: its results are the first to show
                    for i, seed, origin in sorted(pairs, key=lambda run: -run[2])
                ],
            )
        return experiment_id

    def experiments(self) -> list[ExperimentRow]:
        """Every experiment, newest first, with its run counts per status."""
        with self._db() as con:
            rows = con.execute(
                "SELECT id, name, created_at, dataset_sha, spec FROM experiments ORDER BY id DESC"
            ).fetchall()
            counts = con.execute(
                "SELECT experiment_id, status, COUNT(*) FROM runs GROUP BY experiment_id, status"
            ).fetchall()
        by_id: dict[int, dict[RunStatus, int]] = {}
        for experiment_id, status, n in counts:
            by_id.setdefault(experiment_id, {})[RunStatus(status)] = n
        return [
            ExperimentRow(i, name, created, sha, ExperimentSpec.from_json(spec), by_id.get(i, {}))
            for i, name, created, sha, spec in rows
        ]

    def experiment_list(self, limit: int | None = None, search: str = "",
                        include: int | None = None) -> list[ExperimentInfo]:
        """Experiments newest first, read without parsing specs (SQLite's JSON functions pick the
        few fields a list shows): at most `limit`, those whose name contains `search` (any case),
        plus experiment `include` when it exists and was left out."""
        select = ("SELECT id, name, created_at, dataset_sha, json_extract(spec, '$.data.source'), "
                  "json_array_length(spec, '$.models'), json_array_length(spec, '$.training.seeds') FROM experiments")
        where, args = ("WHERE instr(lower(name), lower(?)) > 0", [search]) if search else ("", [])
        with self._db() as con:
            rows = con.execute(f"{select} {where} ORDER BY id DESC" + (f" LIMIT {int(limit)}" if limit else ""),
                               args).fetchall()
            if include is not None and all(r[0] != include for r in rows):
                rows += con.execute(f"{select} WHERE id = ?", (include,)).fetchall()
            ids = [r[0] for r in rows]
            marks = ", ".join("?" * len(ids))
            counts = con.execute(f"SELECT experiment_id, status, COUNT(*) FROM runs WHERE experiment_id IN ({marks}) "
                                 "GROUP BY experiment_id, status", ids).fetchall() if ids else []
        by_id: dict[int, dict[RunStatus, int]] = {}
        for experiment_id, status, n in counts:
            by_id.setdefault(experiment_id, {})[RunStatus(status)] = n
        return [ExperimentInfo(i, name, created, sha, source or "", models or 0, seeds or 0, by_id.get(i, {}))
                for i, name, created, sha, source, models, seeds in rows]

    def experiment_count(self) -> int:
        """How many experiments the store holds."""
        with self._db() as con:
            return int(con.execute("SELECT COUNT(*) FROM experiments").fetchone()[0])

    def experiment(self, experiment_id: int) -> ExperimentRow:
        """One experiment with its parsed spec; StoreError when there is none."""
        with self._db() as con:
            row = con.execute(
                "SELECT id, name, created_at, dataset_sha, spec FROM experiments WHERE id = ?",
                (experiment_id,),
            ).fetchone()
            counts = con.execute(
                "SELECT status, COUNT(*) FROM runs WHERE experiment_id = ? GROUP BY status",
                (experiment_id,),
            ).fetchall()
        if row is None:
            raise StoreError(f"No experiment {experiment_id} in the run store.")
        i, name, created, sha, spec = row
        return ExperimentRow(i, name, created, sha, ExperimentSpec.from_json(spec),
                             {RunStatus(status): n for status, n in counts})

    def results_stamp(self, experiment_id: int) -> tuple[object, ...]:
        """What changes whenever an experiment's shown results do: its name, how many of its runs
        ended and when the last did, and how many have a model file (a cache key for the page)."""
        with self._db() as con:
            row = con.execute(
                "SELECT (SELECT name FROM experiments WHERE id = ?), COUNT(*), "
                f"SUM(status NOT IN ('{RunStatus.QUEUED}', '{RunStatus.RUNNING}')), MAX(finished_at), "
                "COUNT(model_path) FROM runs WHERE experiment_id = ?",
                (experiment_id, experiment_id),
            ).fetchone()
        if row[0] is None:
            raise StoreError(f"No experiment {experiment_id} in the run store.")
        return tuple(row)

    def rename_experiment(self, experiment_id: int, name: str) -> None:
        """Rename an experiment (its stored spec too); SpecError for an invalid name."""
        spec = dataclasses.replace(self.experiment(experiment_id).spec, name=name)
        with self._db(write=True) as con:
            con.execute(
                "UPDATE experiments SET name = ?, spec = ? WHERE id = ?",
                (spec.name, spec.to_json(), experiment_id),
            )

    def delete_experiment(self, experiment_id: int) -> None:
        """Delete an experiment, its runs and results, its model files, and its dataset when no
        other experiment and no working setup (draft) uses it. Refused while one of its runs is
        running (cancel it first)."""
        with self._db(write=True) as con:
            row = con.execute("SELECT dataset_sha FROM experiments WHERE id = ?", (experiment_id,)).fetchone()
            if row is None:
                raise StoreError(f"No experiment {experiment_id} in the run store.")
            running = con.execute(
                "SELECT COUNT(*) FROM runs WHERE experiment_id = ? AND status = ?", (experiment_id, RunStatus.RUNNING)
            ).fetchone()[0]
            if running:
                runs = "1 run" if running == 1 else f"{running} runs"
                raise StoreError(
                    f"Experiment {experiment_id} still has {runs} training; cancel the experiment and "
                    "wait until its runs stop before deleting it."
                )
            paths = [p for (p,) in con.execute(
                "SELECT model_path FROM runs WHERE experiment_id = ? AND model_path IS NOT NULL",
                (experiment_id,),
            )]
            con.execute("DELETE FROM experiments WHERE id = ?", (experiment_id,))
            con.execute(
                "DELETE FROM datasets WHERE sha256 = ? AND NOT EXISTS "
                "(SELECT 1 FROM experiments WHERE dataset_sha = ?) AND NOT EXISTS "
                "(SELECT 1 FROM drafts WHERE dataset_sha = ?)",
                (row[0], row[0], row[0]),
            )
        for path in paths:
            with suppress(FileNotFoundError):
                Path(path).unlink()

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
                [(run_id, found[0], e.epoch, real(e.loss), real(e.val_loss), e.seconds,
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
                [(run_id, k, real(v)) for k, v in (outcome.metrics.as_dict() if outcome.metrics else {}).items()],
            )
            last = outcome.epochs[-1] if outcome.epochs else None
            con.execute(
                "UPDATE runs SET status = ?, message = ?, diverged_epoch = ?, params = ?, "
                "seconds_per_epoch = ?, model_path = ?, finished_at = ?, eta_seconds = 0, "
                "elapsed = ? - COALESCE(started_at, ?), "
                "epoch = (SELECT COUNT(*) FROM epochs WHERE run_id = ? AND attempt = ?), "
                "loss = COALESCE(?, loss), val_loss = COALESCE(?, val_loss) WHERE id = ?",
                (outcome.status.value, outcome.message, outcome.diverged_epoch, outcome.params,
                 real(outcome.seconds_per_epoch), str(model_path) if model_path else None, now, now, now,
                 run_id, found[0], real(last.loss) if last else None, real(last.val_loss) if last else None,
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

    def latest_draft(self) -> tuple[str, str] | None:
        """(id, body) of the working setup saved last, or None."""
        with self._db() as con:
            row = con.execute("SELECT id, body FROM drafts ORDER BY updated_at DESC, rowid DESC LIMIT 1").fetchone()
        return None if row is None else (str(row[0]), str(row[1]))
