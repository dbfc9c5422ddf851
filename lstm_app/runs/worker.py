"""The worker process: claims queued runs from the store and trains them, one after another.

    python -m lstm_app.runs.worker --store PATH [--max-runs N] [--threads K] [--idle-seconds S]
                              [--parent PID]

Started by `jobs.Runner` as a fresh interpreter; this is the only place (with the CLI) where
TensorFlow is loaded. Thread counts are fixed before TensorFlow is imported. Per run: load the
dataset bytes and the spec from the store, train with `train.run_one`, write every epoch to the
store as it ends, and the outcome at the end. Cancelling is cooperative: `run_one` polls
`should_stop` every batch, which reads the run's cancel flag at most every `_POLL` seconds.
An exception in a run fails that run (one line, "Type: message") and the worker goes on.
It exits after `--max-runs` runs (to bound memory), after `--idle-seconds` with nothing queued,
or when its parent (`--parent`, the server) is gone — then its current run ends *interrupted*.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ..errors import StoreError
from ._schema import RunRow
from .store import Store

__all__ = ["main"]

_POLL = 0.25  # seconds between reads of the cancel flag (should_stop is called every batch)


def _configure_threads(threads: int) -> None:
    """Set TensorFlow's thread pools and quiet its logs; must run before TensorFlow loads."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for name in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS"):
        os.environ[name] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"


class _Stopper:
    """`should_stop` for one run: the store's cancel flag, or the server gone; read throttled."""

    def __init__(self, store: Store, run_id: int, parent: int | None) -> None:
        self.store, self.run_id, self.parent = store, run_id, parent
        self.cancelled = self.orphaned = False
        self._next = 0.0

    def __call__(self) -> bool:
        now = time.monotonic()
        if now >= self._next and not (self.cancelled or self.orphaned):
            self._next = now + _POLL
            self.orphaned = _orphaned(self.parent)
            self.cancelled = self.store.cancel_requested(self.run_id)
        return self.cancelled or self.orphaned


def _orphaned(parent: int | None) -> bool:
    return parent is not None and os.getppid() != parent


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:1000] if text else type(exc).__name__


def _train(store: Store, run: RunRow, parent: int | None) -> bool:
    """Train one claimed run and store what came of it; False when the server is gone."""
    from .. import data
    from ..engine import train  # TensorFlow loads here, after the thread settings

    stopper = _Stopper(store, run.id, parent)
    try:
        experiment = store.experiment(run.experiment_id)
        spec = experiment.spec
        name, content = store.dataset(experiment.dataset_sha)
        table = data.read_csv(content, name=name, time_column=spec.data.time_column)
        frame = data.series(table, spec.data.target, spec.data.features)
        path = store.model_path(run.id)
        outcome = train.run_one(
            spec, frame, run.model_index, run.seed,
            on_epoch=lambda row: store.add_epoch(run.id, row),
            should_stop=stopper, save_path=path,
        )
    except Exception as exc:
        store.fail(run.id, _one_line(exc))
        return not _orphaned(parent)
    if stopper.orphaned and not stopper.cancelled:
        store.interrupt(run.id, "the server stopped while this run was training")
        return False
    try:
        store.finish(run.id, outcome, path if path.exists() else None)
    except StoreError as exc:  # e.g. the experiment was deleted meanwhile
        print(f"run {run.id}: outcome not stored: {exc}", file=sys.stderr, flush=True)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Run the worker loop; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m lstm_app.runs.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, type=Path, help="the run store's SQLite file")
    parser.add_argument("--max-runs", type=int, default=8, help="exit after this many runs (bounds memory)")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow intra-op threads")
    parser.add_argument("--idle-seconds", type=float, default=0.0, help="wait this long for new work")
    parser.add_argument("--parent", type=int, default=None, help="exit when this process is gone")
    args = parser.parse_args(argv)

    _configure_threads(max(1, args.threads))
    import keras
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(max(1, args.threads))
    tf.config.threading.set_inter_op_parallelism_threads(1)

    store = Store(args.store)
    pid, done, idle_since = os.getpid(), 0, time.monotonic()
    while done < args.max_runs and not _orphaned(args.parent):
        run = store.claim_next(pid)
        if run is None:
            if time.monotonic() - idle_since >= args.idle_seconds:
                break
            time.sleep(0.1)
            continue
        done += 1
        if not _train(store, run, args.parent):
            break
        keras.backend.clear_session()
        gc.collect()
        idle_since = time.monotonic()
    return 0


if __name__ == "__main__":
    sys.exit(main())
