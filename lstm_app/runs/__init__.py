"""The run layer: the SQLite store (single source of truth), the runner and its executors (local
worker processes by default, Ray opt-in: `runs.executor`), the worker entry point, the headless
(in-process) experiment runner and the results loaded back from the store.

The names below are what the page and the CLI use. They load on first use (PEP 562), so
`import lstm_app.runs` stays light: nothing it imports loads TensorFlow (only `runs.worker` and
`runs.headless` do, inside the functions that train), and nothing imports Ray but `runs._ray`,
which the runner imports only when the Ray executor is chosen. Only `runs.mlflow_export` imports
MLflow, inside its functions, when an export is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from . import export, headless, mlflow_export, mlflow_send, schedule
    from .executor import ExecutorChoice, parse_executor
    from .remote import run_on_executor
    from .results import Results, actual_frame, load_results
    from .runner import Runner, get_runner
    from .schedule import Engine
    from .store import ExperimentInfo, ExperimentRow, RunRow, Store, default_path

# public name -> the submodule that defines it (a submodule itself when the two are equal)
_HOME = {
    "export": "export", "headless": "headless", "mlflow_export": "mlflow_export",
    "mlflow_send": "mlflow_send", "schedule": "schedule",
    "ExecutorChoice": "executor", "parse_executor": "executor",
    "run_on_executor": "remote",
    "Results": "results", "actual_frame": "results", "load_results": "results",
    "Runner": "runner", "get_runner": "runner",
    "Engine": "schedule",
    "ExperimentInfo": "store", "ExperimentRow": "store", "RunRow": "store", "Store": "store",
    "default_path": "store",
}
__all__ = ["Engine", "ExecutorChoice", "ExperimentInfo", "ExperimentRow", "Results", "RunRow", "Runner", "Store",
           "actual_frame", "default_path", "export", "get_runner", "headless", "load_results", "mlflow_export",
           "mlflow_send", "parse_executor", "run_on_executor", "schedule"]


__getattr__ = exports(__name__, _HOME)
