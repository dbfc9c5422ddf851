"""The background runner: a supervisor thread that keeps worker processes busy on queued runs.

    page ── submit/cancel ──▶ store ◀── claim, progress, results ── worker processes
                                ▲                                         ▲
                                └──── supervisor thread (reap, start, kill) ┘

`get_runner()` returns one `Runner` per store file and process; the Streamlit page calls it on
every rerun (a module global here survives reruns; only `dashboard.py` is re-executed). The
runner never imports TensorFlow: workers are fresh interpreters (`python -m lstm_app.runs.worker`),
started with the parent's `sys.executable`, never forked from a process that loaded TensorFlow.

Every ~0.5 s (every 2 s while nothing is queued or running; a submit or cancel wakes it at once)
the supervisor
- reaps workers that exited; a run a dead worker still held ends *failed* with the exit code
  and signal (or *cancelled* when its cancel had been asked for);
- hard-kills (SIGKILL) a worker whose run has been asked to cancel more than `grace_seconds`
  ago without stopping, and marks that run *cancelled* (its history so far stays);
- kills the worker of a run that sent no heartbeat for `stall_limit_seconds` (default 300,
  `$LSTM_LAB_STALL_LIMIT`) and fails its runs, or re-queues them with `on_stall="requeue"`
  (`$LSTM_LAB_ON_STALL`); the page flags a run silent for `stall_seconds` (60) before that
  (on Ray, counted from the task's first contact with the hub; reaching the hub has its own
  `start_limit_seconds`, default 600, `$LSTM_LAB_START_LIMIT`);
- settles runs still *running* whose worker is gone (their settlement failed when it exited,
  e.g. on a full disk): *cancelled* if that was asked for, else *failed*. Settling writes are
  retried while the store is briefly unavailable, and name the attempt the worker held;
- starts workers while runs are queued and fewer than `concurrency` workers are alive, backing
  off (and finally failing the queue with the reason) when workers die before taking a run.
A worker trains up to `runs_per_worker` runs (in groups where the scheduler batches them), and
exits early once its memory passes `max_memory_mb`; it waits `idle_seconds` for new work before
exiting, so the next experiment finds a warm worker with TensorFlow loaded. A worker's output goes to
`<data folder>/logs/worker-*.log`, deleted when it exits cleanly and kept when it crashed.

One server per data folder, enforced: a runner holds an exclusive OS lock (`flock`) on
`<data folder>/server.lock` for its lifetime (the kernel drops it when the process dies; workers do
not inherit it). A second runner on the same folder, in this process or another, refuses to start
with one sentence (a `StoreError`) and touches nothing. Once it holds the lock, start-up marks
every run left *queued* or *running* *interrupted*: no live runner can own them.
`requeue_interrupted()` queues them again. `shutdown()` (also run at exit) terminates the
workers, kills stragglers and marks their runs *interrupted*; a worker whose server dies
without a shutdown notices that its parent is gone and stops by itself.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from ..errors import LabError
from ..outcome import RunStatus
from ..spec import ExperimentSpec
from ._process import START_LIMIT_ENV, default_concurrency, env_seconds, exit_reason, last_line, lock_folder
from ._supervise import Enforcement, retrying
from .executor import EXECUTOR_ENV, MAX_RETRIES_ENV, Executor, ExecutorChoice, LocalExecutor, parse_executor
from .store import RunRow, Store, default_path

__all__ = ["Runner", "default_concurrency", "exit_reason", "get_runner", "shutdown_all"]

log = logging.getLogger(__name__)
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]
_MAX_START_FAILURES = 3
_IDLE_POLL = 2.0  # seconds between supervisor ticks while nothing is queued or running
STALL_LIMIT_ENV = "LSTM_LAB_STALL_LIMIT"  # seconds without a heartbeat before a run's worker is stopped
ON_STALL_ENV = "LSTM_LAB_ON_STALL"  # "fail" (default) or "requeue"


class Runner(Enforcement):
    """Runs queued runs of one store in worker processes; see the module docstring."""

    def __init__(
        self,
        store_path: str | os.PathLike[str] | None = None,
        *,
        concurrency: int | None = None,
        max_queued: int = 500,
        grace_seconds: float = 2.0,
        idle_seconds: float = 300.0,
        runs_per_worker: int = 500,
        max_memory_mb: float = 2048.0,
        threads: int | None = None,
        poll_seconds: float = 0.5,
        stall_seconds: float = 60.0,
        stall_limit_seconds: float | None = None,
        start_limit_seconds: float | None = None,
        on_stall: str | None = None,
        executor: str | ExecutorChoice | None = None,
        max_retries: int | None = None,
    ) -> None:
        self.store = Store(store_path)
        self.concurrency = max(1, concurrency or default_concurrency())
        self.max_queued = max_queued
        self.grace_seconds = grace_seconds
        self.idle_seconds = idle_seconds
        self.runs_per_worker = runs_per_worker
        self.max_memory_mb = max_memory_mb
        self.threads = threads or max(1, (os.cpu_count() or 1) // self.concurrency)
        self.poll_seconds = poll_seconds
        self.stall_seconds = stall_seconds
        self.stall_limit_seconds = stall_limit_seconds or env_seconds(STALL_LIMIT_ENV, 300.0)
        self.start_limit_seconds = start_limit_seconds or env_seconds(START_LIMIT_ENV, 600.0)
        self.on_stall = on_stall or os.environ.get(ON_STALL_ENV, "fail")
        if self.on_stall not in ("fail", "requeue"):
            raise LabError(f"{ON_STALL_ENV} must be 'fail' or 'requeue', got {self.on_stall!r}.")
        self.logs_dir = self.store.path.parent / "logs"
        choice = executor if isinstance(executor, ExecutorChoice) else parse_executor(executor)
        if max_retries is None:
            # Local: a dead worker was usually out of memory, which a retry repeats; on Ray a lost node is routine.
            raw = os.environ.get(MAX_RETRIES_ENV, "").strip()
            if raw and not raw.isdigit():
                raise LabError(f"{MAX_RETRIES_ENV} must be a whole number of retries, got {raw!r}.")
            max_retries = int(raw) if raw else (2 if choice.kind == "ray" else 0)
        self.max_retries = max(0, max_retries)  # attempts started again after a worker died
        self._folder_lock: int | None = lock_folder(self.store.path.parent)
        self.interrupted_at_start = self.store.mark_interrupted()
        self._workers: dict[int, tuple[subprocess.Popen[bytes], Path]] = {}
        self._start_failures, self._next_spawn = 0, 0.0
        self._idle = False
        self._lock = threading.Lock()
        self.executor: Executor = LocalExecutor(self)
        if choice.kind == "ray":
            try:
                try:
                    from ._ray import RayExecutor  # `import ray` happens only here, and only when chosen
                except ImportError as exc:
                    raise LabError(f"The Ray executor ({EXECUTOR_ENV}={choice}) needs Ray, which is not installed "
                                   f"({exc}): pip install -r requirements-ray.txt, or unset {EXECUTOR_ENV}.") from None
                self.executor = RayExecutor(self, choice.address)
            except BaseException:
                self._unlock()
                raise
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._supervise, name="lstm-lab-supervisor", daemon=True)
        self._thread.start()
        atexit.register(self.shutdown)

    def __repr__(self) -> str:
        pids = self.worker_pids()
        return (f"Runner({str(self.store.path)!r}, executor={self.executor.kind!r}, concurrency={self.concurrency}, "
                f"workers={pids})")

    def where(self) -> str:
        """Which executor trains this runner's runs, and where (one phrase for the page and CLI)."""
        return self.executor.where()

    # -- the page's calls ----------------------------------------------------------------------

    def submit(self, spec: ExperimentSpec, dataset_name: str, content: bytes) -> int:
        """Store the dataset and the experiment with its runs queued; returns the experiment id
        at once. QueueFullError when more than `max_queued` runs would be waiting."""
        self._check_open()
        sha = self.store.put_dataset(dataset_name, content)
        spec = dataclasses.replace(spec, data=dataclasses.replace(spec.data, sha256=sha))
        experiment_id = self.store.create_experiment(spec, sha, max_queued=self.max_queued)
        self._wake.set()
        return experiment_id

    def cancel(self, run_id: int) -> RunStatus:
        """Cancel one run (see `Store.request_cancel`); returns its status afterwards."""
        status = self.store.request_cancel(run_id)
        self._wake.set()
        return status

    def cancel_experiment(self, experiment_id: int, model_index: int | None = None) -> int:
        """Cancel every unfinished run of an experiment (of one of its models, given
        `model_index`); returns how many."""
        count = self.store.cancel_experiment(experiment_id, model_index)
        self._wake.set()
        return count

    def requeue_interrupted(self, experiment_id: int | None = None) -> int:
        """Queue again every interrupted run (of one experiment, or all); returns how many."""
        self._check_open()
        count = self.store.requeue(experiment_id=experiment_id, statuses=(RunStatus.INTERRUPTED,),
                                   max_queued=self.max_queued)
        self._wake.set()
        return count

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers."""
        with self._lock:
            return sorted(self._workers)

    @property
    def warm(self) -> bool:
        """Whether a local worker is running now (a hint for estimates: read without the lock,
        so it never waits for the supervisor)."""
        return bool(self._workers)

    @property
    def alive(self) -> bool:
        return not self._stop.is_set()

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the supervisor, terminate the workers (SIGKILL after `timeout`), wait for them."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._wake.set()
        atexit.unregister(self.shutdown)
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=max(timeout, 5.0))
        try:
            self.executor.shutdown(timeout)
        finally:
            self._unlock()
            _forget(self)

    def _unlock(self) -> None:
        if self._folder_lock is not None:
            os.close(self._folder_lock)  # closing the descriptor releases the flock
            self._folder_lock = None

    def _stop_workers(self, timeout: float) -> None:
        """Terminate the local workers (SIGKILL after `timeout`), wait for them, settle their runs."""
        with self._lock:
            workers = dict(self._workers)
            self._workers.clear()
        for proc, _ in workers.values():
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        deadline = time.monotonic() + timeout
        for pid, (proc, log_path) in workers.items():
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            self._release(pid, proc.returncode, log_path, "the server shut down while this run was training")

    # -- supervisor ----------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._stop.is_set():
            raise LabError("The background runner has been shut down; restart the server.")

    def _supervise(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception:  # the supervisor must outlive any one bad tick
                log.exception("run supervisor tick failed")
            # Nothing queued or running: poll slowly; a submit or cancel wakes the supervisor at once.
            self._wake.wait(max(self.poll_seconds, _IDLE_POLL) if self._idle else self.poll_seconds)
            self._wake.clear()

    def _tick(self) -> None:
        self.executor.tick()

    def _local_tick(self) -> None:
        self._reap()
        self._enforce_cancel()
        self._enforce_stalls()
        self._settle_orphans()
        self._start_workers()

    def _reap(self) -> None:
        with self._lock:
            dead = {pid: w for pid, w in self._workers.items() if w[0].poll() is not None}
            for pid in dead:
                del self._workers[pid]
        for pid, (proc, log_path) in dead.items():
            self._release(pid, proc.returncode, log_path, None)

    def _release(self, pid: int, code: int | None, log_path: Path, interrupted: str | None,
                 *, killed_for_cancel: bool = False, stalled: float | None = None) -> None:
        """Settle the runs a finished worker still held, and keep its log only if it crashed.

        A worker killed to enforce one run's cancel may have held other runs of that run's
        group: those are innocent, so they go back to the queue instead of failing. A worker
        killed because it stalled fails its runs (or re-queues them, with `on_stall="requeue"`).
        Every write names the attempt the worker held and is retried if the store is briefly
        unavailable; what still fails is settled by a later tick (`_settle_orphans`)."""
        code = -signal.SIGKILL if code is None else code
        runs = retrying(lambda: self.store.runs(status=RunStatus.RUNNING), "reading the runs") or []
        held = [r for r in runs if r.worker_pid == pid]
        if not interrupted and stalled is None:
            self._note_exit(code, held, log_path)
        for run in held:
            write: Callable[[], object]
            if run.cancel_requested:
                how = (f"killed after it did not stop within {self.grace_seconds:g} s"
                       if code == -signal.SIGKILL else f"stopped ({exit_reason(code)})")
                write = partial(self.store.mark_cancelled, run.id, f"cancelled; its worker was {how}", code,
                                attempt=run.attempt)
            elif interrupted:
                write = partial(self.store.interrupt, run.id, interrupted, code, attempt=run.attempt)
            elif killed_for_cancel or (stalled is not None and self.on_stall == "requeue"):
                why = ("its worker was stopped to cancel another run of its group" if killed_for_cancel else
                       f"no progress for {stalled:.0f} s, so its worker was stopped and the run queued again")
                write = partial(self.store.requeue_attempts, {run.id: run.attempt}, why)  # one transaction
            elif stalled is not None:
                write = partial(self.store.fail, run.id, f"no progress for {stalled:.0f} s (the limit is "
                                f"{self.stall_limit_seconds:g} s), so its worker was stopped", code,
                                attempt=run.attempt)
            elif code < 0 and run.retries < self.max_retries:
                # Killed by a signal (not a Python error, which would only repeat): train it again,
                # in a new attempt whose curve starts afresh.
                write = partial(self.store.retry_queued, {run.id: run.attempt},
                                f"retried: {exit_reason(code)}")
            else:
                # A Python error ends in a traceback worth quoting; a signal says it all itself.
                detail = last_line(log_path) if code > 0 else ""
                write = partial(self.store.fail, run.id, exit_reason(code) + detail, code, attempt=run.attempt)
            retrying(write, f"settling run {run.id}")
        if code == 0 or interrupted or killed_for_cancel:
            with contextlib.suppress(FileNotFoundError):
                log_path.unlink()

    def _note_exit(self, code: int, held: list[RunRow], log_path: Path) -> None:
        """Back off when workers keep dying before they take a run (a broken install, say):
        wait longer before each new start, and after `_MAX_START_FAILURES` in a row fail the
        queued runs with the reason instead of retrying for ever."""
        if code == 0 or held:
            self._start_failures = 0
            return
        self._start_failures += 1
        self._next_spawn = time.monotonic() + min(30.0, 0.5 * 2**self._start_failures)
        if self._start_failures >= _MAX_START_FAILURES:
            reason = f"worker processes fail to start ({exit_reason(code)}{last_line(log_path)})"
            for run in self.store.runs(status=RunStatus.QUEUED):
                self.store.fail(run.id, reason, code)
            self._start_failures = 0

    def _start_workers(self) -> None:
        counts = self.store.counts()
        queued = counts[RunStatus.QUEUED]
        self._idle = not queued and not counts[RunStatus.RUNNING]
        if not queued or self._stop.is_set() or time.monotonic() < self._next_spawn:
            return
        with self._lock:
            pids = set(self._workers)
        busy = sum(1 for r in self.store.runs(status=RunStatus.RUNNING) if r.worker_pid in pids)
        idle = len(pids) - busy
        for _ in range(min(self.concurrency - len(pids), queued - idle)):
            self._spawn()

    def _spawn(self) -> None:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.logs_dir / f"worker-{time.strftime('%Y%m%d-%H%M%S')}-{os.urandom(3).hex()}.log"
        cmd = [
            sys.executable, "-m", "lstm_app.runs.worker",
            "--store", str(self.store.path),
            "--max-runs", str(self.runs_per_worker),
            "--max-memory-mb", str(self.max_memory_mb),
            "--threads", str(self.threads),
            "--idle-seconds", str(self.idle_seconds),
            "--parent", str(os.getpid()),
            "--heartbeat-seconds", str(max(0.2, min(2.0, self.stall_seconds / 5, self.stall_limit_seconds / 5))),
        ]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_PACKAGE_ROOT), env.get("PYTHONPATH")]))
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        with open(log_path, "wb") as out:
            # A new session: a Ctrl-C on the server's terminal reaches the server, which then
            # shuts its workers down itself.
            proc = subprocess.Popen(
                cmd, cwd=_PACKAGE_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        with self._lock:
            self._workers[proc.pid] = (proc, log_path)
        log.info("started worker %s (%s)", proc.pid, log_path.name)


_RUNNERS: dict[Path, Runner] = {}
_RUNNERS_LOCK = threading.Lock()


def get_runner(store_path: str | os.PathLike[str] | None = None, **options: object) -> Runner:
    """The process's one Runner for `store_path` (default: the default store), created on the
    first call with `options` (see `Runner`); later calls return it cheaply."""
    key = Path(store_path).expanduser().resolve() if store_path is not None else default_path()
    with _RUNNERS_LOCK:
        runner = _RUNNERS.get(key)
        if runner is None or not runner.alive:
            runner = _RUNNERS[key] = Runner(key, **options)  # type: ignore[arg-type]
        return runner


def _forget(runner: Runner) -> None:
    with _RUNNERS_LOCK:
        for key, value in list(_RUNNERS.items()):
            if value is runner:
                del _RUNNERS[key]


def shutdown_all() -> None:
    """Shut down every runner of this process."""
    with _RUNNERS_LOCK:
        runners = list(_RUNNERS.values())
    for runner in runners:
        runner.shutdown()
