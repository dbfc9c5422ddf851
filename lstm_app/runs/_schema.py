"""The run store's SQLite layer: typed rows, connections, migrations applied on open (see `store`).

`PRAGMA user_version` holds how many migrations (`_migrations.MIGRATIONS`) a file has had;
`StoreBase` applies the rest on open.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import StoreError
from ..outcome import ACTIVE, RunStatus
from ..spec import ExperimentSpec, RunKey
from ._migrations import MIGRATIONS
from .schedule import Engine

__all__ = [
    "MIGRATIONS", "RUN_COLUMNS", "ExperimentInfo", "ExperimentRow", "RunRow", "StoreBase", "dumps", "run_row",
    "storage_error",
]

_BUSY_MS = 10_000
log = logging.getLogger("lstm_app.runs.store")


@dataclass(frozen=True)
class RunRow:
    """One model × seed × backtest origin run as the store has it now (times are Unix seconds)."""

    id: int
    experiment_id: int
    model_index: int
    model_name: str
    seed: int
    status: RunStatus
    epoch: int  # epochs finished so far
    epochs_total: int
    loss: float | None
    val_loss: float | None
    elapsed: float | None
    eta_seconds: float | None
    message: str
    exit_code: int | None
    worker_pid: int | None
    cancel_requested: bool
    model_path: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    engine: Engine | None = None  # set when a worker claims the run
    engine_reason: str = ""
    attempt: int = 0  # raised by every claim; a worker's writes must name the current one
    heartbeat_at: float | None = None  # last sign of life of the attempt's worker
    retries: int = 0  # attempts started again after their worker died
    origin: int = 0  # the backtest origin (0 = the oldest; the only one without a backtest)

    @property
    def key(self) -> RunKey:
        return RunKey(self.model_index, self.seed, self.origin)


RUN_COLUMNS = ", ".join(RunRow.__dataclass_fields__)


def run_row(row: sqlite3.Row | tuple[Any, ...]) -> RunRow:
    """Build a `RunRow` from a row selected with `RUN_COLUMNS`."""
    values = dict(zip(RunRow.__dataclass_fields__, row, strict=True))
    values["cancel_requested"] = bool(values["cancel_requested"])  # stored as 0/1
    values["status"] = RunStatus(values["status"])
    values["engine"] = Engine(values["engine"]) if values["engine"] else None  # stored as its value
    return RunRow(**values)


@dataclass(frozen=True)
class ExperimentRow:
    """An experiment: its spec, the dataset it was trained on, and how many runs are in each status."""

    id: int
    name: str
    created_at: float
    dataset_sha: str
    spec: ExperimentSpec
    counts: dict[RunStatus, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def active(self) -> bool:
        """Whether any run is still queued or running."""
        return any(self.counts.get(status) for status in ACTIVE)


# SQLite's messages for storage faults, and the sentence the user sees for each.
_FAULTS = (
    (("disk is full", "no space"), "The disk holding the run store {path} is full: free some space and try again "
     "(nothing already stored was lost)."),
    (("readonly", "read-only"), "The run store {path} is read-only: make its folder writable or set LSTM_LAB_DATA "
     "to a writable folder."),
    (("unable to open", "not a directory", "is a directory"), "The run store {path} cannot be opened: its folder "
     "is missing or unusable; set LSTM_LAB_DATA to a writable folder."),
    (("locked", "busy"), "The run store {path} stayed busy for more than 10 s: another program is holding it; "
     "try again in a moment."),
    (("malformed", "not a database", "file is encrypted"), "The run store {path} is damaged or not a run store: move "
     "it aside (a new one is created) or set LSTM_LAB_DATA to another folder."),
)


def storage_error(path: Path, exc: BaseException) -> StoreError:
    """One sentence for a SQLite or OS error on the run store at `path`."""
    if isinstance(exc, StoreError):
        return exc
    text = str(exc).lower()
    if isinstance(exc, OSError):
        import errno

        text += {errno.ENOSPC: " no space", errno.EDQUOT: " no space", errno.EROFS: " read-only",
                 errno.EACCES: " read-only", errno.EPERM: " read-only", errno.ENOTDIR: " not a directory",
                 errno.EEXIST: " not a directory", errno.EFBIG: " no space"}.get(exc.errno or 0, "")
    if "disk i/o error" in text and _no_room(path):
        text += " no space"  # a write failed and there is no room: the disk (or file-size limit) is full
    for needles, sentence in _FAULTS:
        if any(n in text for n in needles):
            return StoreError(sentence.format(path=path))
    if "disk i/o error" in text:
        return StoreError(f"Writing the run store {path} failed (disk I/O error): the disk may be failing or "
                          "full; check it and try again (nothing already stored was lost).")
    return StoreError(f"The run store {path} failed: {' '.join(str(exc).split())[:200]}.")


def _no_room(path: Path) -> bool:
    """Whether the store's disk has under 16 MB free, or its files reached this process's file-size limit."""
    import resource
    import shutil

    try:
        if shutil.disk_usage(path.parent).free < 16 * 2**20:
            return True
        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if limit == resource.RLIM_INFINITY:
            return False
        sizes = [p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists()]
        return max(sizes, default=0) + 64 * 1024 >= limit
    except OSError:
        return False


@dataclass(frozen=True)
class ExperimentInfo:
    """An experiment as the history lists it, read without parsing its spec: name, data source,
    how many models and seeds, and how many runs are in each status."""

    id: int
    name: str
    created_at: float
    dataset_sha: str
    source: str
    models: int
    seeds: int
    counts: dict[RunStatus, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def active(self) -> bool:
        return any(self.counts.get(status) for status in ACTIVE)


def dumps(value: Any) -> str:
    """JSON text of a RunOutcome part (numpy values and dates allowed)."""
    return json.dumps(value, default=_plain)


def _plain(value: Any) -> Any:
    # numpy scalars and arrays, without importing numpy here
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot store a {type(value).__name__} as JSON")


class StoreBase:
    """Opens the SQLite file (WAL, busy timeout, foreign keys) and applies migrations."""

    def __init__(self, path: Path) -> None:
        self.path = path
        folder = self.path.parent
        blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            raise StoreError(f"The data folder {folder} cannot be used because {blocker} is a file, not a "
                             "folder; move that file away or set LSTM_LAB_DATA to another folder.")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise storage_error(self.path, exc) from None
        self._migrate()

    @contextmanager
    def _db(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A fresh connection in autocommit mode; with `write`, one IMMEDIATE transaction. SQLite
        and OS errors (disk full, read-only or unusable folder) become a one-sentence StoreError."""
        try:
            with self._connection(write) as con:
                yield con
        except (sqlite3.OperationalError, sqlite3.DatabaseError, OSError) as exc:
            raise storage_error(self.path, exc) from None

    @contextmanager
    def _connection(self, write: bool) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=_BUSY_MS / 1000, isolation_level=None)
        try:
            con.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
            con.execute("PRAGMA foreign_keys = ON")
            if not write:
                yield con
                return
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                with suppress(sqlite3.Error):  # a failed COMMIT may have rolled back already
                    con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

    def _migrate(self) -> None:
        with self._db() as con:
            if con.execute("PRAGMA journal_mode = WAL").fetchone()[0] != "wal":
                raise StoreError(f"The run store {self.path} cannot use WAL mode; put it on a local disk.")
            if con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS):
                return  # current: no write transaction needed
        with self._db(write=True) as con:
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise StoreError(
                    f"The run store {self.path} has schema version {version}, newer than this "
                    f"program's {len(MIGRATIONS)}; upgrade the program or use another store."
                )
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    con.execute(statement)
                con.execute(f"PRAGMA user_version = {number}")

    @staticmethod
    def _owned(con: sqlite3.Connection, run_id: int, attempt: int | None, what: str) -> bool:
        """Whether a worker's write for `attempt` of run `run_id` may apply: the run is still
        running in that attempt (None: a write from the store's own callers, unchecked). A stale
        write is refused and logged."""
        if attempt is None:
            return True
        row = con.execute("SELECT attempt, status FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is not None and row[0] == attempt and row[1] == RunStatus.RUNNING:
            return True
        now = "gone" if row is None else f"{row[1]} in attempt {row[0]}"
        log.warning("run %s: %s of attempt %s refused (the run is now %s)", run_id, what, attempt, now)
        con.execute("INSERT INTO refused_writes (at, run_id, attempt, what, run_was) VALUES (?, ?, ?, ?, ?)",
                    (time.time(), run_id, attempt, what, now))
        return False

    @property
    def schema_version(self) -> int:
        with self._db() as con:
            return int(con.execute("PRAGMA user_version").fetchone()[0])
