"""Send a stored experiment to MLflow from the page: `python -m lstm_app export-mlflow` in a fresh
interpreter.

MLflow takes seconds to import and brings its own logging, threads and database drivers; the
page's process needs none of them, so it starts the CLI (which imports `runs.mlflow_export`)
and reads its one line back. No MLflow import here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ..errors import ExportError
from ..text import quote
from .store import Store

__all__ = ["send"]

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def send(store: Store, experiment_id: int, uri: str, timeout: float = 300.0) -> str:
    """Export experiment `experiment_id` of `store` to `uri` and return what was done in one
    sentence; ExportError (one sentence) when it cannot be."""
    uri = uri.strip()
    if not uri:
        raise ExportError("Enter an MLflow tracking URI, such as http://127.0.0.1:5000 or sqlite:///mlflow.db, "
                          "then send again.")
    path = os.pathsep.join(filter(None, [str(_PACKAGE_ROOT), os.environ.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "lstm_app", "export-mlflow", str(experiment_id),
               "--data-dir", str(store.path.parent), "--uri", uri]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False,
                              env={**os.environ, "PYTHONPATH": path})
    except subprocess.TimeoutExpired:
        raise ExportError(f"The export to MLflow at {quote(uri, 80)} took more than {timeout:.0f} s: check that "
                          "the server answers, then send again.") from None
    if proc.returncode == 0:
        lines = proc.stdout.strip().splitlines()
        return lines[-1] if lines else "Exported to MLflow."
    said = [line.removeprefix("error: ") for line in proc.stderr.splitlines() if line.startswith("error: ")]
    if said:
        raise ExportError(said[-1])
    last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    raise ExportError(f"The export to MLflow stopped with exit code {proc.returncode} ({last[:200]}).")
