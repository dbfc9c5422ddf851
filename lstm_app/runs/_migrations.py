"""The run store's schema as a list of SQLite scripts (see `_schema.StoreBase._migrate`).

`PRAGMA user_version` holds how many of them a file has had. Append a migration to change the
schema; never edit one that has shipped.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

# Shipped in the first migration: never edit it (tests/test_store.py checks it lists `RunStatus`).
_STATUS_CHECK = (
    "CHECK (status IN ('queued', 'running', 'done', 'diverged', 'cancelled', 'failed', 'interrupted'))"
)

# Times are Unix seconds (REAL); JSON columns hold the `to_dict()` shapes of RunOutcome's parts.
MIGRATIONS: tuple[str, ...] = (
    f"""
    CREATE TABLE datasets (
        sha256      TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        content     BLOB NOT NULL,
        size        INTEGER NOT NULL,
        created_at  REAL NOT NULL
    );
    CREATE TABLE experiments (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        name        TEXT NOT NULL,
        spec        TEXT NOT NULL,
        dataset_sha TEXT NOT NULL REFERENCES datasets(sha256),
        created_at  REAL NOT NULL
    );
    CREATE TABLE runs (
        id                  INTEGER PRIMARY KEY AUTOINCREMENT,
        experiment_id       INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
        model_index         INTEGER NOT NULL,
        model_name          TEXT NOT NULL,
        seed                INTEGER NOT NULL,
        status              TEXT NOT NULL DEFAULT 'queued' {_STATUS_CHECK},
        epoch               INTEGER NOT NULL DEFAULT 0,
        epochs_total        INTEGER NOT NULL,
        loss                REAL,
        val_loss            REAL,
        elapsed             REAL,
        eta_seconds         REAL,
        message             TEXT NOT NULL DEFAULT '',
        exit_code           INTEGER,
        worker_pid          INTEGER,
        cancel_requested    INTEGER NOT NULL DEFAULT 0,
        cancel_requested_at REAL,
        model_path          TEXT,
        params              INTEGER,
        seconds_per_epoch   REAL,
        diverged_epoch      INTEGER,
        created_at          REAL NOT NULL,
        started_at          REAL,
        finished_at         REAL
    );
    CREATE INDEX runs_by_status ON runs(status, id);
    CREATE INDEX runs_by_experiment ON runs(experiment_id, id);
    CREATE TABLE epochs (
        run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        epoch       INTEGER NOT NULL,
        loss        REAL,
        val_loss    REAL,
        seconds     REAL NOT NULL,
        grad_norms  TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (run_id, epoch)
    );
    CREATE TABLE predictions (
        run_id      INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
        test        TEXT NOT NULL,
        future      TEXT NOT NULL,
        regions     TEXT NOT NULL,
        diagnostics TEXT NOT NULL
    );
    CREATE TABLE metrics (
        run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        name        TEXT NOT NULL,
        value       REAL,
        PRIMARY KEY (run_id, name)
    );
    """,
)


# -- the page's working setups ("drafts"), appended as a block of its own ----------------------
# One row per draft id (the `?draft=` in the page's URL): the setup as JSON, and the uploaded
# dataset it uses, so that deleting the last experiment on that dataset keeps its bytes.
MIGRATIONS += (
    """
    CREATE TABLE drafts (
        id          TEXT PRIMARY KEY,
        body        TEXT NOT NULL,
        dataset_sha TEXT,
        updated_at  REAL NOT NULL
    );
    CREATE INDEX drafts_by_time ON drafts(updated_at);
    """,
)


# -- run groups: which engine trained a run, and its weights kept compactly --------------------
# `engine` is "batched" or "keras" with the scheduler's reason; `weights` holds the trained
# weights of a batched run as an .npz blob (its `.keras` file is built when it is downloaded).
MIGRATIONS += (
    """
    ALTER TABLE runs ADD COLUMN engine TEXT;
    ALTER TABLE runs ADD COLUMN engine_reason TEXT NOT NULL DEFAULT '';
    CREATE TABLE weights (
        run_id      INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
        data        BLOB NOT NULL
    );
    """,
)


# -- run ownership: attempts, heartbeats, retries ------------------------------------------------
# Every claim starts a new attempt (`attempt` + 1); a worker's writes name the attempt they belong
# to and are refused unless the run is still running in that attempt, so a stale worker (stopped
# across a restart, or whose run was retried elsewhere) can never overwrite the live one. Epoch
# rows are keyed by attempt: a retried run never mixes curves. `heartbeat_at` is the last time
# the attempt's worker showed it was alive; `retries` counts attempts started after a worker died;
# `refused_writes` keeps every refused stale write (what, and what the run was by then).
MIGRATIONS += (
    """
    ALTER TABLE runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN heartbeat_at REAL;
    ALTER TABLE runs ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE epochs_by_attempt (
        run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        attempt     INTEGER NOT NULL,
        epoch       INTEGER NOT NULL,
        loss        REAL,
        val_loss    REAL,
        seconds     REAL NOT NULL,
        grad_norms  TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (run_id, attempt, epoch)
    );
    INSERT INTO epochs_by_attempt (run_id, attempt, epoch, loss, val_loss, seconds, grad_norms)
        SELECT run_id, 0, epoch, loss, val_loss, seconds, grad_norms FROM epochs;
    DROP TABLE epochs;
    ALTER TABLE epochs_by_attempt RENAME TO epochs;
    CREATE TABLE refused_writes (
        at          REAL NOT NULL,
        run_id      INTEGER NOT NULL,
        attempt     INTEGER NOT NULL,
        what        TEXT NOT NULL,
        run_was     TEXT NOT NULL
    );
    """,
)


# -- rolling-origin backtests ------------------------------------------------------------------
# `origin` is the backtest origin a run trains on (0 = the oldest; an experiment with one origin
# has only 0): runs are (model, seed, origin).
MIGRATIONS += (
    """
    ALTER TABLE runs ADD COLUMN origin INTEGER NOT NULL DEFAULT 0;
    """,
)
