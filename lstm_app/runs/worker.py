"""The worker process: claims queued runs from the store and trains them, a group at a time.

    python -m lstm_app.runs.worker --store PATH [--max-runs N] [--max-memory-mb M] [--threads K]
                                   [--idle-seconds S] [--parent PID]

Started by `runner.Runner` as a fresh interpreter; this is the only place (with the CLI) where
TensorFlow is loaded. Thread counts are fixed before TensorFlow is imported. The worker takes the
oldest queued run; `schedule.plan_groups` (decided from the whole experiment, so a run's numbers
never depend on what else was queued) says whether it trains in a batched group — then every
queued run of that group is claimed at once and trained as one graph by `engine.batched`, its
epochs written to the store once per group epoch, its weights kept as a blob — or alone through
Keras (`engine.train.run_one`, which saves a `.keras` file). Cancelling is cooperative: a lone
run polls its flag every batch, a group every epoch (at most every `_POLL` seconds).
Every claim is a new attempt of its runs and every write names that attempt: once a run is no
longer this worker's (re-queued, retried elsewhere, interrupted by a new server) the store refuses
the writes and records them, and the worker stops training it; a heartbeat every `_BEAT` seconds
notices that even between epochs. An exception fails the runs it hit (one line, "Type: message")
and the worker goes on. It exits
after `--max-runs` runs or once its memory passes `--max-memory-mb` (the runner starts a fresh
one), after `--idle-seconds` with nothing queued (it stays warm that long for the next
experiment), or when its parent (`--parent`, the server) is gone — then its runs end *interrupted*.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import windows
from ..errors import StoreError
from ..outcome import EpochRow, RunStatus
from ..report import references
from ..spec import ExperimentSpec
from . import schedule
from ._schema import RunRow
from .schedule import Engine
from .store import Store

__all__ = ["main"]

_POLL = 0.25  # seconds between reads of the cancel flag (should_stop is called every batch)
_BEAT = [2.0]  # seconds between heartbeats (which also tell a worker that its attempt was taken
# over); `--heartbeat-seconds` sets it


def _configure_threads(threads: int) -> None:
    """Set TensorFlow's thread pools and quiet its logs; must run before TensorFlow loads."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for name in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS"):
        os.environ[name] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"


class _Stopper:
    """`should_stop` for one run: the store's cancel flag, the server gone, or the run no longer
    this attempt's; read throttled, with a heartbeat every `_BEAT` seconds."""

    def __init__(self, store: Store, run: RunRow, parent: int | None) -> None:
        self.store, self.run, self.parent = store, run, parent
        self.cancelled = self.orphaned = self.lost = False
        self._next = self._beat = 0.0

    def __call__(self) -> bool:
        now = time.monotonic()
        if now >= self._next and not self.stopped:
            self._next = now + _POLL
            self.orphaned = _orphaned(self.parent)
            self.cancelled = self.store.cancel_requested(self.run.id)
            if now >= self._beat:
                self._beat = now + _BEAT[0]
                self.lost = not self.store.heartbeat({self.run.id: self.run.attempt})
        return self.stopped

    @property
    def stopped(self) -> bool:
        return self.cancelled or self.orphaned or self.lost


def _orphaned(parent: int | None) -> bool:
    return parent is not None and os.getppid() != parent


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:1000] if text else type(exc).__name__


class _Frames:
    """The model frame of each experiment a worker trains, read once (workers stay warm)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[int, Any] = {}

    def get(self, experiment_id: int) -> tuple[ExperimentSpec, Any]:
        from .. import data

        experiment = self.store.experiment(experiment_id)
        if experiment_id not in self._cache:
            spec = experiment.spec
            name, content = self.store.dataset(experiment.dataset_sha)
            table = data.read_csv(content, name=name, time_column=spec.data.time_column)
            self._cache.clear()  # one experiment at a time: bounded memory
            self._cache[experiment_id] = data.series(table, spec.data.target, spec.data.features)
        return experiment.spec, self._cache[experiment_id]


def _claim(store: Store, pid: int, frames: _Frames) -> tuple[list[RunRow], Engine, ExperimentSpec, Any] | None:
    """Claim the next unit of work: the oldest queued run and, when its experiment's plan puts it
    in a batched group, every queued run of that group. The engine is decided per experiment
    (from all its runs), so a run's numbers never depend on what else was queued."""
    head = store.next_queued()
    if head is None:
        return None
    try:
        spec, frame = frames.get(head.experiment_id)
        plan = schedule.plan_groups(spec, len(frame), cost=schedule.cost_model(store.path.parent))
    except Exception as exc:  # the data do not fit (or the experiment was deleted): fail this run
        store.fail(head.id, _one_line(exc))  # still queued: no attempt yet
        return [], Engine.KERAS, None, None  # type: ignore[return-value]
    group = plan.group_of(head.model_index, head.seed, head.origin)
    ids = [head.id]
    if group.engine is Engine.BATCHED:
        queued = store.runs(head.experiment_id, status=RunStatus.QUEUED)
        ids = [r.id for r in queued if group.holds(r.model_index, r.seed, r.origin)]
    # Every run of a group shares its origin: train on that origin's rows, test size in points.
    frame, spec = windows.at_origin(frame, spec, group.origin)
    return store.claim_runs(pid, ids, group.engine, group.reason), group.engine, spec, frame


def _train(store: Store, run: RunRow, spec: ExperimentSpec, frame: Any, parent: int | None) -> bool:
    """Train one claimed run through Keras and store what came of it; False when the server is
    gone. Every write names the run's attempt: once the run is no longer this worker's (requeued,
    retried, interrupted by a new server) the writes are refused and training stops."""
    from ..engine import train  # TensorFlow loads here, after the thread settings

    stopper = _Stopper(store, run, parent)

    def on_epoch(row: EpochRow) -> None:
        if not store.add_epoch(run.id, row, attempt=run.attempt):
            stopper.lost = True

    try:
        path = store.model_path(run.id)
        outcome = train.run_one(spec, frame, run.model_index, run.seed, on_epoch=on_epoch,
                                should_stop=stopper, save_path=path)
    except Exception as exc:
        store.fail(run.id, _one_line(exc), attempt=run.attempt)
        return not _orphaned(parent)
    if stopper.lost:
        return not _orphaned(parent)
    if stopper.orphaned and not stopper.cancelled:
        store.interrupt(run.id, "the server stopped while this run was training", attempt=run.attempt)
        return False
    try:
        store.finish(run.id, outcome, path if path.exists() else None, attempt=run.attempt)
    except StoreError as exc:
        _not_stored(store, run.id, exc)
    return True


class _GroupProgress:
    """`on_epoch` and `should_stop` for a group: epoch rows are written in one transaction for
    every run and cancel flags read with one query, each at most every `_POLL` seconds (a small
    group's epoch takes milliseconds; the page polls far less often). A run no longer running in
    this worker's attempt is `lost`: its writes are refused and it stops like a cancelled one."""

    def __init__(self, store: Store, runs: list[RunRow], parent: int | None) -> None:
        self.store, self.runs, self.parent = store, runs, parent
        self.attempts = {r.id: r.attempt for r in runs}
        self.pending: list[tuple[int, EpochRow]] = []
        self.cancelled: set[int] = set()
        self.lost: set[int] = set()
        self.orphaned = False
        self._next = self._beat = 0.0

    def on_epoch(self, member: int, row: EpochRow) -> None:
        self.pending.append((self.runs[member].id, row))

    def flush(self) -> None:
        rows, self.pending = self.pending, []
        if rows:
            self.lost |= {i for i, _ in rows} - self.store.add_epochs(rows, self.attempts)

    def should_stop(self, member: int) -> bool:
        now = time.monotonic()
        if now >= self._next and not self.orphaned:
            self._next = now + _POLL
            self.flush()
            self.orphaned = _orphaned(self.parent)
            self.cancelled |= self.store.cancel_flags(r.id for r in self.runs)
            if now >= self._beat:
                self._beat = now + _BEAT[0]
                live = {i: a for i, a in self.attempts.items() if i not in self.lost}
                self.lost |= set(live) - self.store.heartbeat(live)
        run_id = self.runs[member].id
        return self.orphaned or run_id in self.cancelled or run_id in self.lost


def _train_group(store: Store, runs: list[RunRow], spec: ExperimentSpec, frame: Any, parent: int | None) -> bool:
    """Train claimed runs as one batched group and store each outcome and its weights (every
    write naming the run's attempt); False when the server is gone."""
    from ..engine import batched  # TensorFlow loads here, after the thread settings

    progress = _GroupProgress(store, runs, parent)
    try:
        results = batched.train_group(spec, frame, [(r.model_index, r.seed) for r in runs],
                                      on_epoch=progress.on_epoch, should_stop=progress.should_stop)
        progress.flush()
    except Exception as exc:
        for run in runs:
            store.fail(run.id, _one_line(exc), attempt=run.attempt)
        return not _orphaned(parent)
    if progress.orphaned:
        for run in runs:
            if run.id not in progress.cancelled:
                store.interrupt(run.id, "the server stopped while this run was training", attempt=run.attempt)
        return False
    for run, result in zip(runs, results, strict=True):
        if run.id in progress.lost:
            continue
        try:
            if store.put_weights(run.id, batched.weights_to_bytes(result.weights), attempt=run.attempt):
                store.finish(run.id, result.outcome, None, attempt=run.attempt)
        except StoreError as exc:
            _not_stored(store, run.id, exc)
    return True


def _not_stored(store: Store, run_id: int, exc: StoreError) -> None:
    """An outcome could not be stored: fine when its experiment was deleted meanwhile; otherwise
    (a full disk, say) the worker stops with the store's sentence as its last output, which the
    runner quotes when it settles the run."""
    print(f"run {run_id}: outcome not stored: {exc}", file=sys.stderr, flush=True)
    try:
        store.run(run_id)
    except StoreError:
        return  # the run is gone
    raise exc


def main(argv: Sequence[str] | None = None) -> int:
    """Run the worker loop; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m lstm_app.runs.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, type=Path, help="the run store's SQLite file")
    parser.add_argument("--max-runs", type=int, default=500, help="exit after this many runs")
    parser.add_argument("--max-memory-mb", type=float, default=2048.0,
                        help="exit (to be replaced by a fresh worker) once resident memory passes this")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow intra-op threads")
    parser.add_argument("--idle-seconds", type=float, default=0.0, help="wait this long for new work")
    parser.add_argument("--parent", type=int, default=None, help="exit when this process is gone")
    parser.add_argument("--heartbeat-seconds", type=float, default=_BEAT[0], help="seconds between heartbeats")
    args = parser.parse_args(argv)
    _BEAT[0] = max(0.05, args.heartbeat_seconds)

    _configure_threads(max(1, args.threads))
    # A file-size limit (like a full disk) must fail the write, which the store reports in one
    # sentence, instead of killing the worker with SIGXFSZ.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    importlib.import_module("lstm_app.engine")  # loads Keras quietly, without its unused extras
    import keras
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(max(1, args.threads))
    tf.config.threading.set_inter_op_parallelism_threads(1)
    references.preload()  # with TensorFlow, before the first claim: not on a run's path once warm

    store = Store(args.store)
    frames = _Frames(store)
    pid, done, idle_since = os.getpid(), 0, time.monotonic()
    # Memory is checked only after a run: a limit below TensorFlow's own footprint still lets
    # every worker take one claim instead of starting workers that never train.
    while done < args.max_runs and (done == 0 or _rss_mb() < args.max_memory_mb) and not _orphaned(args.parent):
        claimed = _claim(store, pid, frames)
        if claimed is None:
            if time.monotonic() - idle_since >= args.idle_seconds:
                break
            time.sleep(0.05)
            continue
        runs, engine, spec, frame = claimed
        if not runs:
            continue
        done += len(runs)
        if engine is Engine.BATCHED:
            alive = _train_group(store, runs, spec, frame, args.parent)
        else:
            alive = _train(store, runs[0], spec, frame, args.parent)
        if not alive:
            break
        keras.backend.clear_session()
        gc.collect()
        idle_since = time.monotonic()
    return 0


def _rss_mb() -> float:
    """This process's resident memory in MB (Linux; 0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


if __name__ == "__main__":
    sys.exit(main())
