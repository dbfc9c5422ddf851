"""Process-level helpers of the local runner: the data folder's server lock, environment
settings, and how a worker process's exit is described."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
from pathlib import Path

from ..errors import LabError, StoreError
from ._schema import storage_error

__all__ = ["START_LIMIT_ENV", "default_concurrency", "env_seconds", "exit_reason", "last_line", "lock_folder"]

# seconds a Ray task may take to reach the head's progress hub (its worker's TensorFlow import)
START_LIMIT_ENV = "LSTM_LAB_START_LIMIT"


def lock_folder(folder: Path) -> int:
    """Take `folder`'s server lock (returns its descriptor) or raise a StoreError naming the holder
    (or, when the folder is unusable, saying so)."""
    try:
        fd = os.open(folder / "server.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise storage_error(folder / "server.lock", exc) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.read(fd, 32).decode(errors="replace").strip()
        os.close(fd)
        who = f" (process {holder})" if holder.isdigit() else ""
        raise StoreError(
            f"Another LSTM Activation Lab server{who} is using the data folder {folder}: stop it, or start "
            "this one with LSTM_LAB_DATA set to another folder."
        ) from None
    with contextlib.suppress(OSError):  # the pid is only a courtesy to a second server's message
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
    return fd


def env_seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise LabError(f"{name} must be a number of seconds, got {raw!r}.") from None
    if not value > 0:
        raise LabError(f"{name} must be a positive number of seconds, got {raw!r}.")
    return value


def default_concurrency() -> int:
    """CPU cores − 1, at least 1."""
    return max(1, (os.cpu_count() or 1) - 1)


def exit_reason(code: int) -> str:
    """One phrase for a worker's exit code (negative: killed by that signal)."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (killed: out of memory or kill -9)" if -code == signal.SIGKILL else ""
        return f"worker process exited with code {code}, {name}{hint}"
    return f"worker process exited with code {code}"


def last_line(log_path: Path) -> str:
    """'; last output: ...' from a worker's log, or ''."""
    try:
        with open(log_path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 4096))
            lines = [x.strip() for x in f.read().decode("utf-8", "replace").splitlines() if x.strip()]
    except OSError:
        return ""
    return f"; last output: {lines[-1][:300]}" if lines else ""
