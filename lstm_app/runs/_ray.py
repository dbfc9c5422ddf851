"""The Ray executor: each run group is one Ray task; the head writes everything to the store.

    runner's supervisor thread ──(tick)──▶ RayExecutor ── claim, epochs, outcomes ──▶ SQLite
                      ▲  drain rows / push stops                 │ submit (group, dataset ref, hub)
                  progress hub (actor, head node) ◀── rows ── Ray task on any node (`_ray_task`)

Per tick the executor
- drains the hub: epoch rows go to the store in one transaction per attempt; rows of a run no
  longer in that attempt are refused (and the run is told to stop), and the runs whose cancel was
  asked for go back to the hub as stop requests, which each task reads at most every 0.25 s;
- settles finished tasks: outcomes and weights (a lone run's `.keras` file is written next to the
  store) with the attempt the task held. A task whose worker or node died (any Ray error other
  than a cancel) is retried at once in a new attempt (`Store.reattempt`: curves restart, the dead
  attempt's late writes are refused, the page says "retried"), at most `max_retries` times;
- hard-cancels (`ray.cancel(force=True)`) a task whose cancelled run did not stop within the grace
  period (plus two of its epochs for a batched group); its other runs are queued again;
- watches the tasks in flight itself (`_ray_parts.judge`), since Ray does not always fail the
  task of a lost node: a task whose node left the cluster (`ray.nodes()`, read every second; only
  a list read after the task's first exchange counts) is given up (a best-effort hard cancel; its
  attempt's late writes are refused) and its runs are retried in a new attempt; so is every task
  in flight when the progress hub is lost (the rows it held are gone). A task silent for
  `stall_limit_seconds` (no exchange with the hub, counted from its first exchange, which it makes
  once TensorFlow is loaded) is stopped like a stalled local worker: its runs fail, or are queued
  again with `on_stall="requeue"`; so is a task that has not reached the hub within
  `start_limit_seconds` of its submit (a cold worker's TensorFlow import, a busy cluster's queue);
- heartbeats in the store the runs of the tasks that reached the hub since the last beat, so the
  page's "no progress for N s" note means the same on Ray as locally;
- claims queued groups (the worker's own plan, `schedule.plan_groups`) while the cluster has free
  CPUs, and submits them with `num_cpus` (the group's TensorFlow threads) and `num_gpus` (1 for a
  group whose every model runs cuDNN, when the cluster has GPUs; ReLU groups stay on CPUs). A
  cuDNN group waits in the queue while every GPU is taken (first come, first served).
A dataset is put in the object store once per experiment; tasks receive a reference.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ray
import ray.exceptions
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from .. import data
from ..errors import LabError
from ..outcome import EpochRow, RunStatus
from ..spec import ExperimentSpec
from . import schedule
from ._ray_parts import Hub, Task, client_token, judge
from ._ray_settle import settle_killed, settle_stalled, store_result
from ._ray_task import Job, RunResult, train_job
from ._supervise import retrying
from .store import RunRow, Store

if TYPE_CHECKING:
    from .runner import Runner

__all__ = ["SYSTEM_CONFIG", "RayExecutor"]

log = logging.getLogger("lstm_app.runs.runner")
_PACKAGE = Path(__file__).resolve().parents[1]
_BEAT = 1.0  # seconds between heartbeats of in-flight runs
_RESOURCES = 5.0  # seconds between reads of the cluster's resources
_NODES = 1.0  # seconds between reads of the live nodes while tasks are in flight
_HUB_WAIT = 60.0  # seconds the hub may take to answer before it counts as lost
_CONNECT_TRIES = 3  # connections to a ray:// address that its client server aborted (see `_connect`)
_CONNECT_PAUSE = 2.0  # seconds between them
# The system config of a Ray started here. Ray nices its workers (15) by default; local worker
# processes are not, and a training task is the work itself, not a background chore: beside any
# busy process at nice 0 a niced task gets about 3% of a core (a cold TensorFlow import of ~6 CPU
# seconds then takes minutes). The tests' own Ray instances use it too.
SYSTEM_CONFIG: dict[str, Any] = {"worker_niceness": 0}


class RayExecutor:
    """Run groups as Ray tasks; see the module docstring."""

    kind = "ray"

    def __init__(self, runner: Runner, address: str | None = None) -> None:
        self.runner = runner
        self.store: Store = runner.store
        self.address = address
        self.started_here = False
        if not ray.is_initialized():
            env = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": os.pathsep.join(
                filter(None, [str(_PACKAGE.parent), os.environ.get("PYTHONPATH")]))}
            if address is None:
                # "local": a new Ray here even when another runs on this machine (ray.init()
                # would join that one); its workers un-niced (SYSTEM_CONFIG).
                ray.init(address="local", num_cpus=runner.concurrency, include_dashboard=False, log_to_driver=False,
                         runtime_env={"env_vars": env}, _system_config=SYSTEM_CONFIG)
            else:
                _connect(address)
            self.started_here = True
        # Hooks for tests, which inject faults through them: the remote function of every task,
        # the clock of every deadline here, and the source of the node list.
        self.remote: Any = ray.remote(train_job)
        self.clock: Callable[[], float] = time.monotonic
        self.nodes: Callable[[], list[dict[str, Any]]] = ray.nodes
        self.ticks = 0  # supervisor ticks so far (a test waits for some to pass)
        self.hub = self._new_hub()
        self.tasks: dict[Any, Task] = {}
        self.pids: dict[int, int] = {}  # run id → the Ray worker process training it (for tests, logs)
        self._experiments: dict[int, tuple[ExperimentSpec, int, Any, str, str]] = {}
        self._cpus = self._gpus = 0.0
        self._nodes = self._reads = 0  # live nodes; node lists read so far
        # (run, attempt) that a task holds no longer (told to stop): by attempt, since a given-up
        # task's refused rows must not stop the run's new attempt
        self._lost: set[tuple[int, int]] = set()
        self._resources_at = self._beat_at = self._nodes_at = 0.0
        self._alive: set[str] = set()

    # -- Executor --------------------------------------------------------------------------------

    def where(self) -> str:
        self._refresh()
        nodes = self._nodes
        at = f"at {self.address}" if self.address else "started on this machine"
        return (f"Ray {at}: {nodes} node{'s' * (nodes != 1)}, {self._cpus:g} CPUs, {self._gpus:g} GPUs")

    def busy_pids(self) -> list[int]:
        return []

    def task_pid(self, run_id: int) -> int | None:
        """The Ray worker process that trains `run_id` now, once its task has reported."""
        return self.pids.get(run_id)

    def tick(self) -> None:
        self._drain()
        self._collect()
        self._enforce_cancel()
        self._watch()
        self._heartbeat()
        self._submit()
        self.runner._idle = not self.tasks and not self.store.counts()[RunStatus.QUEUED]
        self.ticks += 1

    def shutdown(self, timeout: float) -> None:
        for ref, task in list(self.tasks.items()):
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)
            for run_id, attempt in task.attempts.items():
                retrying(partial(self.store.interrupt, run_id, "the server shut down while this run was training",
                                 attempt=attempt), f"settling run {run_id}")
        self.tasks.clear()
        with contextlib.suppress(Exception):
            ray.kill(self.hub)
        if self.started_here:
            ray.shutdown()

    # -- progress --------------------------------------------------------------------------------

    def _live(self) -> dict[int, int]:
        return {r: a for task in self.tasks.values() for r, a in task.attempts.items()}

    @staticmethod
    def _new_hub() -> Any:
        # Pinned to this process's node: with soft affinity Ray placed it on another node about
        # half the time, and it died with that node (taking every task's progress with it).
        here = ray.get_runtime_context().get_node_id()
        return ray.remote(Hub).options(
            num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False)).remote()

    def _drain(self) -> None:
        live = self._live()
        self._lost &= set(live.items())
        stops = (self.store.cancel_flags(live) | {run for run, _ in self._lost}) if live else set()
        try:
            rows, pids, contacts = ray.get(self.hub.drain.remote(sorted(stops), sorted(live.items())),
                                           timeout=_HUB_WAIT)
        except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError) as exc:
            # The hub held rows not yet written: every task in flight starts again with a new hub.
            log.warning("the progress hub was lost (%s); retrying every task in flight", type(exc).__name__)
            with contextlib.suppress(Exception):
                ray.kill(self.hub)
            self.hub = self._new_hub()
            for ref, task in list(self.tasks.items()):
                self._give_up(ref)
                self._retry(task, "the progress hub on the head was lost")
            return
        self.pids.update(pids)
        now = self.clock()
        for task in self.tasks.values():
            seen = [contacts[run] for run in task.runs() if run in contacts]
            if seen and max(count for count, _ in seen) > task.exchanges:
                if task.contact is None:
                    task.contact_read = self._reads  # its node is judged by later node lists only
                task.exchanges, task.node = max(seen)
                task.contact, task.beat = now, True
        # One transaction per attempt mapping (a run's dead and new attempts never share one).
        batch: list[tuple[int, EpochRow]] = []
        attempts: dict[int, int] = {}
        for run_id, attempt, row in [*rows, (None, None, None)]:
            if run_id is None or attempts.get(run_id, attempt) != attempt:
                if batch:
                    self._lost |= {(r, attempts[r]) for r in set(attempts) - self.store.add_epochs(batch, attempts)}
                batch, attempts = [], {}
            if run_id is not None:
                batch.append((run_id, row))
                attempts[run_id] = attempt
        for task in self.tasks.values():
            for run_id, _, row in rows:
                if run_id in task.attempts:
                    task.epochs_seen.setdefault(run_id, []).append(row.seconds)

    def _heartbeat(self) -> None:
        now = self.clock()
        if now < self._beat_at or not self.tasks:
            return
        self._beat_at = now + _BEAT
        live = {r: a for task in self.tasks.values() if task.beat for r, a in task.attempts.items()}
        for task in self.tasks.values():
            task.beat = False
        if live:
            self._lost |= {(r, live[r]) for r in set(live) - self.store.heartbeat(live)}

    # -- watching --------------------------------------------------------------------------------

    def _watch(self) -> None:
        """Give up tasks on lost nodes (retried), stalled tasks (failed or re-queued) and
        hard-cancelled tasks that never ended (settled as killed)."""
        if not self.tasks:
            return
        now = self.clock()
        if now >= self._nodes_at:
            self._nodes_at = now + _NODES
            self._alive = {n["NodeID"] for n in self.nodes() if n.get("Alive")}
            self._reads += 1
        limits = self.runner.stall_limit_seconds, self.runner.start_limit_seconds
        for ref, task in list(self.tasks.items()):
            verdict = judge(task, now, self._alive, self._reads, *limits)
            if verdict is None:
                continue
            what, seconds = verdict
            self._give_up(ref)
            if what == "killed":
                settle_killed(self.runner, task)
            elif what == "lost":
                log.warning("Ray node %.8s left the cluster; retrying its runs %s", task.node, sorted(task.attempts))
                self._retry(task, "its Ray node left the cluster")
            else:
                log.warning("runs %s: %s for %.0f s; stopping their Ray task", sorted(task.attempts),
                            "no progress" if what == "stalled" else "not started", seconds)
                settle_stalled(self.runner, task, seconds, started=what == "stalled")

    def _give_up(self, ref: Any) -> None:
        """Stop waiting for a task: it is hard-cancelled if it still runs somewhere, and whatever
        it still sends is refused (its runs get a new attempt or end)."""
        self.tasks.pop(ref, None)
        with contextlib.suppress(Exception):
            ray.cancel(ref, force=True)

    # -- settling --------------------------------------------------------------------------------

    def _collect(self) -> None:
        if not self.tasks:
            return
        ready, _ = ray.wait(list(self.tasks), num_returns=len(self.tasks), timeout=0)
        if ready:
            self._drain()  # rows a task sent just before it ended go first
        for ref in ready:
            task = self.tasks.pop(ref)
            try:
                results: list[RunResult] = ray.get(ref)
            except ray.exceptions.TaskCancelledError:
                settle_killed(self.runner, task)
            except ray.exceptions.RayTaskError as exc:  # an error outside train_job's own handling
                for run_id, attempt in task.attempts.items():
                    self.store.fail(run_id, _one_line(exc.cause or exc), attempt=attempt)
            except ray.exceptions.RayError as exc:  # the worker process or its node died
                if task.killed_at is not None:
                    settle_killed(self.runner, task)
                else:
                    self._retry(task, f"its Ray worker died ({type(exc).__name__})")
            else:
                for result in results:
                    store_result(self.store, result)

    def _retry(self, task: Task, why: str) -> None:
        """Start the group's runs again in new attempts, or fail those out of retries."""
        again: dict[int, int] = {}
        out: dict[int, int] = {}
        for run_id, attempt in task.attempts.items():
            run = self.store.run(run_id)
            (again if run.retries < self.runner.max_retries and not run.cancel_requested else out)[run_id] = attempt
        for run_id, attempt in out.items():
            run = self.store.run(run_id)
            if run.cancel_requested:
                self.store.mark_cancelled(run_id, f"cancelled; {why}", attempt=attempt)
            else:
                self.store.fail(run_id, f"{why}; retried {run.retries} time(s) already", attempt=attempt)
        new = self.store.reattempt(again, f"retried: {why}", worker_pid=os.getpid())
        if not new:
            return
        log.warning("retrying runs %s: %s", sorted(new), why)
        job = Job(task.job.spec, task.job.dataset_sha, task.job.dataset_name,
                  tuple(r for r in ((i, new[i], m, s) for i, _, m, s in task.job.runs) if r[0] in new),
                  task.job.batched, task.job.threads, task.job.gpu, task.job.origin)
        self._launch(job, task.content, task.num_cpus, task.num_gpus, task.engine)

    def _enforce_cancel(self) -> None:
        pending = {run_id: waited for run_id, _, waited in self.store.cancel_pending()}
        for ref, task in self.tasks.items():
            if task.killed_at is not None:
                continue
            for run_id in task.attempts:
                waited = pending.get(run_id)
                if waited is None:
                    continue
                # A group reads its stops once per epoch: give it two of its epochs (leaving out
                # the first, which includes tracing the graph).
                later = sorted(task.epochs_seen.get(run_id, [])[1:])
                extra = 2 * later[len(later) // 2] if later and task.engine is schedule.Engine.BATCHED else 0.0
                if waited >= self.runner.grace_seconds + extra:
                    log.info("run %s ignored its cancel for %.1f s; cancelling its Ray task", run_id, waited)
                    ray.cancel(ref, force=True)
                    task.killed_at = self.clock()
                    break

    # -- submitting ------------------------------------------------------------------------------

    def _refresh(self, force: bool = False) -> None:
        now = self.clock()
        if force or now >= self._resources_at:
            self._resources_at = now + _RESOURCES
            total = ray.cluster_resources()
            self._nodes = sum(1 for n in self.nodes() if n.get("Alive"))
            self._cpus, self._gpus = float(total.get("CPU", 0)), float(total.get("GPU", 0))

    def _experiment(self, experiment_id: int) -> tuple[ExperimentSpec, int, Any, str, str]:
        """(spec, series length, dataset ref, sha, file name) of an experiment, its dataset put in
        the object store once (the last few experiments are kept)."""
        if experiment_id not in self._experiments:
            experiment = self.store.experiment(experiment_id)
            name, content = self.store.dataset(experiment.dataset_sha)
            spec = experiment.spec
            table = data.read_csv(content, name=name, time_column=spec.data.time_column)
            rows = len(data.series(table, spec.data.target, spec.data.features))
            if len(self._experiments) >= 4:
                self._experiments.pop(next(iter(self._experiments)))
            self._experiments[experiment_id] = (spec, rows, ray.put(content), experiment.dataset_sha, name)
        return self._experiments[experiment_id]

    def _submit(self) -> None:
        self._refresh()
        busy = sum(t.num_cpus for t in self.tasks.values())
        gpus_busy = sum(t.num_gpus for t in self.tasks.values())
        while busy < max(1.0, self._cpus) and not self.runner._stop.is_set():
            head = self.store.next_queued()
            if head is None:
                return
            try:
                spec, rows, content, sha, name = self._experiment(head.experiment_id)
                plan = schedule.plan_groups(spec, rows, gpu=self._gpus > 0,
                                            cost=schedule.cost_model(self.store.path.parent))
            except Exception as exc:  # the data do not fit (or the experiment was deleted)
                self.store.fail(head.id, _one_line(exc))
                continue
            group = plan.group_of(head.model_index, head.seed, head.origin)
            gpus = 1.0 if self._gpus > 0 and schedule.runs_on_cudnn(spec, group.members) else 0.0
            if gpus and gpus_busy + gpus > self._gpus:
                return  # every GPU is taken: the group waits its turn (Ray would only queue it)
            ids = [head.id]
            if group.engine is schedule.Engine.BATCHED:
                ids = [r.id for r in self.store.runs(head.experiment_id, status=RunStatus.QUEUED)
                       if group.holds(r.model_index, r.seed, r.origin)]
            claimed: list[RunRow] = self.store.claim_runs(os.getpid(), ids, group.engine, group.reason)
            if not claimed:
                continue
            # One CPU and one TensorFlow thread per task: many small groups in parallel use a
            # cluster better than threads inside one (small LSTMs are overhead-bound).
            job = Job(spec, sha, name, tuple((r.id, r.attempt, r.model_index, r.seed) for r in claimed),
                      group.engine is schedule.Engine.BATCHED, 1, gpus > 0, group.origin)
            self._launch(job, content, 1.0, gpus, group.engine)
            busy, gpus_busy = busy + 1.0, gpus_busy + gpus

    def _launch(self, job: Job, content: Any, num_cpus: float, num_gpus: float, engine: schedule.Engine) -> None:
        ref = self.remote.options(num_cpus=num_cpus, num_gpus=num_gpus, max_retries=0,
                                   retry_exceptions=False).remote(job, content, self.hub)
        self.tasks[ref] = Task(job, content, num_cpus, num_gpus, {r[0]: r[1] for r in job.runs}, engine,
                               submitted=self.clock())


def _connect(address: str) -> None:
    """Join the Ray cluster at `address`; its nodes receive this package with every job. A
    `ray://` connection that the cluster's client server aborts (it starts one server process per
    client, and that process can die at its start: 2 of 22 connections in the suite's logs, its
    log empty) is tried again, `_CONNECT_TRIES` times in all, as a new client; any other failure,
    or the last, is one sentence."""
    client_token(address)
    for attempt in range(1, _CONNECT_TRIES + 1):
        try:
            ray.init(address=address, log_to_driver=False, runtime_env={
                "py_modules": [str(_PACKAGE)], "env_vars": {"TF_CPP_MIN_LOG_LEVEL": "3"}})
            return
        except ConnectionAbortedError as exc:  # the server answered, but could not start this client's session
            if attempt == _CONNECT_TRIES:
                failure: Exception = exc
                break
            log.warning("the Ray client server at %s aborted the connection (%s); connecting again",
                        address, _one_line(exc)[:300])
            time.sleep(_CONNECT_PAUSE)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            failure = exc
            break
    raise LabError(f"Could not connect to the Ray cluster at {address} ({_one_line(failure)[:300]}): "
                   "check that `ray start --head` runs there and the address, that this "
                   "machine has the cluster's token (~/.ray/auth_token or RAY_AUTH_TOKEN), or "
                   "unset LSTM_LAB_EXECUTOR to train on this machine.")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:1000] if text else type(exc).__name__
