"""The `.keras` file of a trained run, built on demand from its stored weights.

    python -m lstm_app.runs.export --store PATH --run ID

Runs trained one at a time through Keras save their `.keras` file as they finish; runs trained in
a batched group keep only their weights (a few kB) so that saving never dominates small runs.
`keras_file(store, run_id)` returns the file, building it first in a fresh interpreter when
needed: the page's process never imports TensorFlow.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import StoreError
from .store import Store

__all__ = ["keras_file", "main"]

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def keras_file(store: Store, run_id: int, timeout: float = 180.0) -> Path:
    """The run's `.keras` file, built from its stored weights first if it has none yet; a
    StoreError says in one sentence why there is none."""
    run = store.run(run_id)
    if run.model_path and Path(run.model_path).is_file():
        return Path(run.model_path)
    if store.weights(run_id) is None:
        raise StoreError(f"Run {run_id} has no trained model to export (it ended {run.status}).")
    path = os.pathsep.join(filter(None, [str(_PACKAGE_ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    proc = subprocess.run(
        [sys.executable, "-m", "lstm_app.runs.export", "--store", str(store.path), "--run", str(run_id)],
        capture_output=True, text=True, timeout=timeout, env=env, cwd=_PACKAGE_ROOT, check=False,
    )
    run = store.run(run_id)
    if proc.returncode != 0 or not run.model_path or not Path(run.model_path).is_file():
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise StoreError(f"Building the .keras file of run {run_id} failed: {last}")
    return Path(run.model_path)


def main(argv: Sequence[str] | None = None) -> int:
    """Build one run's `.keras` file from its weights and record its path in the store."""
    parser = argparse.ArgumentParser(prog="python -m lstm_app.runs.export", description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--run", required=True, type=int)
    args = parser.parse_args(argv)
    from .. import data
    from ..engine import batched
    from ..params import input_shape

    store = Store(args.store)
    run = store.run(args.run)
    blob = store.weights(run.id)
    if blob is None:
        print(f"run {run.id} has no stored weights", file=sys.stderr)
        return 2
    experiment = store.experiment(run.experiment_id)
    spec = experiment.spec
    name, content = store.dataset(experiment.dataset_sha)
    table = data.read_csv(content, name=name, time_column=spec.data.time_column)
    frame = data.series(table, spec.data.target, spec.data.features)
    shape = input_shape(frame.shape[1], spec.window.lookback, spec.window.framing)
    path = store.model_path(run.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    batched.to_keras(spec.models[run.model_index], shape, batched.weights_from_bytes(blob)).save(path)
    store.set_model_path(run.id, path)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except StoreError as exc:
        print(str(exc), file=sys.stderr)
        sys.exit(2)
