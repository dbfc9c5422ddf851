"""What one Ray task runs on a worker node: train one run group, stream its progress to the head.

The task never opens the run store. Epoch rows go to the head's progress hub (an actor) at most
every `POLL` seconds, and the same call brings back the runs the head wants stopped (cancelled,
or no longer this attempt's); each exchange also tells the head that the task is alive and on
which node (the head gives up a task whose node is lost or that stays silent too long). The
outcomes, and each run's weights (an `.npz` blob for a batched group, the `.keras` file's bytes
for a lone run), are the task's return value; the head writes them with the run's attempt.
TensorFlow loads here, in the Ray worker process, after the thread settings; a worker is reused
for later tasks, so both are set only by its first task.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..outcome import EpochRow, RunOutcome
from ..spec import ExperimentSpec

__all__ = ["POLL", "Job", "RunResult", "train_job"]

POLL = 0.25  # seconds between exchanges with the hub (a group's epoch can take milliseconds)
_FRAMES: dict[str, Any] = {}  # the model frame of the last dataset this worker process parsed


@dataclass(frozen=True)
class Job:
    """One run group to train: runs as (run id, attempt, model index, seed)."""

    spec: ExperimentSpec
    dataset_sha: str
    dataset_name: str
    runs: tuple[tuple[int, int, int, int], ...]
    batched: bool
    threads: int = 1
    gpu: bool = False
    origin: int = 0  # the backtest origin the group trains on (see `windows.at_origin`)


@dataclass
class RunResult:
    """What became of one run: an outcome with its weights (or model file bytes), or an error."""

    run_id: int
    attempt: int
    outcome: RunOutcome | None = None
    weights: bytes | None = None
    keras_file: bytes | None = None
    error: str = ""
    pid: int = field(default_factory=os.getpid)


def _configure(job: Job) -> None:
    """Thread pools and GPU visibility, before this worker process first loads TensorFlow."""
    import sys

    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for name in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS"):
        os.environ[name] = str(job.threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    if not job.gpu:
        os.environ["CUDA_VISIBLE_DEVICES"] = ""  # a CPU group must not grab a GPU another task holds


def _frame(job: Job, content: bytes) -> Any:
    from .. import data

    if job.dataset_sha not in _FRAMES:
        table = data.read_csv(content, name=job.dataset_name, time_column=job.spec.data.time_column)
        _FRAMES.clear()
        _FRAMES[job.dataset_sha] = data.series(table, job.spec.data.target, job.spec.data.features)
    return _FRAMES[job.dataset_sha]


class _Link:
    """The task's side of the hub: buffered epoch rows out, stop requests in."""

    def __init__(self, hub: Any, job: Job) -> None:
        self.hub, self.job = hub, job
        self.pending: list[tuple[int, int, EpochRow]] = []
        self.stops: set[int] = set()
        self._next = 0.0

    def add(self, member: int, row: EpochRow) -> None:
        run_id, attempt, _, _ = self.job.runs[member]
        self.pending.append((run_id, attempt, row))

    def exchange(self, force: bool = False) -> None:
        import ray

        now = time.monotonic()
        if not force and now < self._next:
            return
        self._next = now + POLL
        rows, self.pending = self.pending, []
        runs = [(run_id, attempt) for run_id, attempt, _, _ in self.job.runs]
        node = ray.get_runtime_context().get_node_id()  # the head watches that this node stays alive
        self.stops = set(ray.get(self.hub.exchange.remote(os.getpid(), node, runs, rows)))

    def should_stop(self, member: int) -> bool:
        self.exchange()
        return self.job.runs[member][0] in self.stops


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:1000] if text else type(exc).__name__


def train_job(job: Job, content: bytes, hub: Any) -> list[RunResult]:
    """Train `job` on the dataset `content` (resolved from the object store by Ray); returns one
    result per run, in `job.runs` order. An exception fails the group's runs, not the task."""
    _configure(job)
    link = _Link(hub, job)
    results = [RunResult(run_id, attempt) for run_id, attempt, _, _ in job.runs]
    try:
        from ..engine import batched, train  # TensorFlow: seconds in a new worker, more on a busy machine
        from ..windows import at_origin

        # The first contact: the head's stall clock starts here, once TensorFlow is loaded (as a
        # local worker's does at its claim), and learns this task's process id.
        link.exchange(force=True)
        frame, spec = at_origin(_frame(job, content), job.spec, job.origin)
        if job.batched:
            members = [(i, seed) for _, _, i, seed in job.runs]
            trained = batched.train_group(spec, frame, members, on_epoch=link.add, should_stop=link.should_stop)
            for result, one in zip(results, trained, strict=True):
                result.outcome, result.weights = one.outcome, batched.weights_to_bytes(one.weights)
        else:
            (_, _, index, seed), result = job.runs[0], results[0]
            with tempfile.TemporaryDirectory(prefix="lstm-lab-") as folder:
                path = Path(folder) / "model.keras"
                result.outcome = train.run_one(spec, frame, index, seed, on_epoch=lambda row: link.add(0, row),
                                               should_stop=lambda: link.should_stop(0), save_path=path)
                result.keras_file = path.read_bytes() if path.exists() else None
        link.exchange(force=True)
    except Exception as exc:
        for result in results:
            result.outcome, result.error = None, _one_line(exc)
    return results
