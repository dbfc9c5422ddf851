"""Helpers the tests and the benchmarks share: polling until something happens, and a real
`streamlit run dashboard.py` on a free port (tests/conftest.py's `server` fixture, bench/bench_browser.py).

Plain functions without pytest, so a benchmark can import them (`sys.path` gets tests/).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from lstm_app.runs.store import DATA_ENV

__all__ = ["Clock", "free_port", "freeze", "record_statuses", "serve", "statuses_written", "wait_for", "wait_ticks"]

T = TypeVar("T")


def wait_for(check: Callable[[], T], what: str, timeout: float = 60.0, every: float = 0.05) -> T:
    """Poll `check` until it returns something truthy and return that; AssertionError naming
    `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)
    return value


class Clock:
    """A clock that moves only when told: a test hands it to the code whose deadlines it checks
    (e.g. `RayExecutor.clock`), so a limit passes exactly when the test says."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def wait_ticks(counter: Callable[[], int], ticks: int = 2, timeout: float = 30.0) -> None:
    """Wait until `counter` (a supervisor's tick count) has gone up by `ticks`: whatever was true
    before the wait has been seen by at least one whole tick."""
    start = counter()
    wait_for(lambda: counter() >= start + ticks, f"{ticks} supervisor ticks", timeout)


def freeze(pid: int, db: Path) -> None:
    """SIGSTOP `pid` at a moment it holds no write lock on the store file `db` (a process frozen
    inside a transaction blocks every writer; that fault is not what the callers test)."""
    for _ in range(200):
        os.kill(pid, signal.SIGSTOP)
        con = sqlite3.connect(db, timeout=0.05, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute("ROLLBACK")
            return
        except sqlite3.OperationalError:
            os.kill(pid, signal.SIGCONT)
            time.sleep(0.01)
        finally:
            con.close()
    raise AssertionError(f"process {pid} always held the store's write lock")


def record_statuses(db: Path) -> None:
    """Record every status a run of the store file `db` takes, as each transaction writes it, from
    any process (a SQLite trigger): what a reader polling at any moment could have seen."""
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as con:
        con.execute("CREATE TABLE IF NOT EXISTS status_writes (run_id INTEGER, status TEXT)")
        con.execute("CREATE TRIGGER IF NOT EXISTS record_status AFTER UPDATE OF status ON runs "
                    "WHEN NEW.status IS NOT OLD.status "
                    "BEGIN INSERT INTO status_writes VALUES (NEW.id, NEW.status); END")


def statuses_written(db: Path, run_id: int) -> list[str]:
    """The statuses run `run_id` took since `record_statuses`, in order."""
    with contextlib.closing(sqlite3.connect(db, timeout=10, isolation_level=None)) as con:
        return [s for (s,) in con.execute("SELECT status FROM status_writes WHERE run_id = ? ORDER BY rowid",
                                          (run_id,))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
        return bool(response.read().strip() == b"ok")
    return False


@contextlib.contextmanager
def serve(app: Path, data: Path, log: Path, timeout: float = 90.0) -> Iterator[str]:
    """`streamlit run dashboard.py` in the checkout `app` on a free port of 127.0.0.1, its store
    in `data` and its output in `log`; yields its URL. On exit SIGTERM lets the server shut its
    runner down (workers terminated, runs marked interrupted)."""
    port = free_port()
    env = {**os.environ, DATA_ENV: str(data), "PYTHONPATH": str(app)}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=app, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while not _healthy(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("the server did not start:\n" + log.read_text(errors="replace")[-3000:])
                time.sleep(0.2)
            yield url
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

