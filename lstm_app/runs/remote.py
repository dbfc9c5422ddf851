"""Run a whole experiment through a runner and its executor, for the CLI's `run --executor ray`.

The experiment goes into a throw-away run store in a temporary folder, exactly as the page would
submit it; the runner's executor (Ray, on this machine or a cluster) trains its groups, and the
outcomes are read back from the store. No TensorFlow in this process.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ..outcome import FINISHED, RunOutcome, RunStatus
from ..spec import ExperimentSpec, RunKey
from .executor import ExecutorChoice
from .headless import RunFailures, model_file
from .runner import Runner
from .store import RunRow, Store

__all__ = ["run_on_executor"]


def run_on_executor(spec: ExperimentSpec, name: str, content: bytes, executor: ExecutorChoice, *,
                    progress: Callable[[str], None] | None = None, concurrency: int | None = None,
                    poll: float = 0.2, model_dir: Path | None = None,
                    ) -> tuple[dict[RunKey, RunOutcome], RunFailures]:
    """Train every model × seed × origin of `spec` on `executor`; (outcomes, failures) keyed by
    (model index, seed, origin), the shape `headless.run_experiment` returns. With `model_dir`,
    each finished run's model is saved there as `.keras`, named as `headless` names it."""
    say = progress or (lambda line: None)
    outcomes: dict[RunKey, RunOutcome] = {}
    failures: RunFailures = {}
    with tempfile.TemporaryDirectory(prefix="lstm-lab-run-") as folder:
        # Nothing else runs here (no page): a local Ray may use every core.
        runner = Runner(Path(folder) / "runs.sqlite", executor=executor, concurrency=concurrency or os.cpu_count())
        try:
            say(f"executor: {runner.where()}")
            experiment_id = runner.submit(spec, name, content)
            total, reported = len(spec.backtest_runs()), set()
            shape = _input_shape(spec, name, content) if model_dir is not None else None
            while True:
                runs = runner.store.runs(experiment_id)
                for run in runs:
                    if run.id in reported or run.status in (RunStatus.QUEUED, RunStatus.RUNNING):
                        continue
                    reported.add(run.id)
                    member = run.key
                    outcome = runner.store.outcome(run.id) if run.status in FINISHED else None
                    if outcome is None:
                        failures[member] = run.message or str(run.status)
                    else:
                        outcomes[member] = outcome
                        if model_dir is not None and shape is not None and run.status == RunStatus.DONE:
                            _save_model(runner.store, run, spec, shape, model_dir)
                    retried = f", retried {run.retries}×" if run.retries else ""
                    at = f" origin {run.origin + 1}/{spec.backtest.origins}" if spec.backtest.origins > 1 else ""
                    say(f"[{len(reported)}/{total}] {run.model_name} seed {run.seed}{at}: {run.status}, "
                        f"{len(outcome.epochs) if outcome else 0} epochs{retried}, {run.message}")
                if len(reported) == len(runs):
                    break
                time.sleep(poll)
        finally:
            runner.shutdown()
    return outcomes, failures


def _input_shape(spec: ExperimentSpec, name: str, content: bytes) -> tuple[int, int]:
    """The models' input shape on this dataset (read once per experiment)."""
    from .. import data
    from ..params import input_shape

    table = data.read_csv(content, name=name, time_column=spec.data.time_column)
    columns = data.series(table, spec.data.target, spec.data.features).shape[1]
    return input_shape(columns, spec.window.lookback, spec.window.framing)


def _save_model(store: Store, run: RunRow, spec: ExperimentSpec, shape: tuple[int, int], model_dir: Path) -> None:
    """A finished run's model as `.keras` in `model_dir`: a lone run's file as its task saved it,
    a batched run's weights put into its Keras model (TensorFlow loads here, in the CLI only)."""
    target = model_dir / model_file(spec, run.key)
    model_dir.mkdir(parents=True, exist_ok=True)
    if run.model_path and Path(run.model_path).is_file():
        shutil.copyfile(run.model_path, target)
        return
    blob = store.weights(run.id)
    if blob is None:
        return
    from ..engine import batched

    batched.to_keras(spec.models[run.model_index], shape, batched.weights_from_bytes(blob)).save(target)
