"""Datasets and experiments in the run store: keep and read uploaded datasets, create, list,
read, rename and delete experiments.

`Store` (in `store`) inherits these; they are split out only to keep modules small.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from contextlib import suppress
from pathlib import Path

from ..errors import QueueFullError, StoreError
from ..outcome import RunStatus
from ..spec import ExperimentSpec
from ._schema import ExperimentInfo, ExperimentRow, StoreBase

__all__ = ["ExperimentOps"]


class ExperimentOps(StoreBase):
    """The datasets and experiments of the run store, each call on its own connection."""

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
