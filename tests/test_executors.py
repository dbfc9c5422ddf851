"""One contract for both executors: local worker processes (the default) and Ray.

Every test runs twice, as `[local]` and `[ray]`, on a real runner, a real SQLite file and tiny
real Keras models. The Ray tests share one local Ray instance (2 CPUs) for the module, so Ray
worker processes stay warm between tests; each runner reuses it and leaves it running.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers import Clock, freeze, record_statuses, statuses_written, wait_for, wait_ticks
from lstm_app.errors import LabError
from lstm_app.outcome import EpochRow
from lstm_app.runs.executor import ExecutorChoice, parse_executor
from lstm_app.runs.runner import Runner
from lstm_app.runs.store import RunRow, Store
from lstm_app.spec import BacktestSpec
from lstm_app.ui.labels import run_line

ROOT = Path(__file__).resolve().parent.parent
HAVE_RAY = importlib.util.find_spec("ray") is not None
EPOCHS = 200  # a run still training seconds after its first epoch row, even on a warm worker
# Seconds to wait for what a fresh worker process or Ray worker does first (its first epoch row, a
# run done): it imports TensorFlow first, ~6 CPU seconds, which beside a CPU hog and the other test
# process take minutes on 2 cores (a wait, not a timing: it ends as soon as the row is there).
COLD = 180
KINDS = ["local", pytest.param("ray", marks=pytest.mark.skipif(not HAVE_RAY, reason="ray is not installed"))]


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[None]:
    """One local Ray for the module (started on first use), shut down after its last test."""
    started = False

    def start() -> None:
        nonlocal started
        import ray

        from lstm_app.runs._ray import SYSTEM_CONFIG

        if not ray.is_initialized():  # configured as the executor's own Ray (un-niced workers)
            ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": {"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}},
                     _system_config=SYSTEM_CONFIG)
            started = True

    yield start  # type: ignore[misc]
    if started:
        import ray

        ray.shutdown()


@pytest.fixture(params=KINDS)
def make_runner(request: pytest.FixtureRequest, tmp_path: Path, ray_instance) -> Iterator[Callable[..., Runner]]:
    """Runners of the parametrised executor on `tmp_path/runs.sqlite`, shut down at teardown."""
    kind: str = request.param
    made: list[Runner] = []
    if kind == "ray":
        ray_instance()

    def make(**options: object) -> Runner:
        settings: dict[str, object] = {"executor": kind, "concurrency": 1, "threads": 1, "idle_seconds": 5.0,
                                       "max_retries": 1, "grace_seconds": 1.0, **options}
        runner = Runner(tmp_path / f"runs-{len(made)}.sqlite", **settings)  # type: ignore[arg-type]
        made.append(runner)
        return runner

    yield make
    for runner in made:
        runner.shutdown()


def finished(store: Store, experiment_id: int) -> list[RunRow] | None:
    runs = store.runs(experiment_id)
    return runs if all(r.status not in ("queued", "running") for r in runs) else None


def epochs_of(store: Store, run_id: int) -> list[int]:
    return [e.epoch for e in store.history(run_id)]


def training(store: Store, run_id: int, epochs: int = 1) -> RunRow | None:
    run = store.run(run_id)
    return run if run.status == "running" and len(store.history(run_id)) >= epochs else None


def test_parse_executor_reads_the_flag_and_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_executor("ray") == ExecutorChoice("ray")
    assert parse_executor("ray=ray://head:10001") == ExecutorChoice("ray", "ray://head:10001")
    assert parse_executor("ray://head:10001") == ExecutorChoice("ray", "ray://head:10001")
    monkeypatch.setenv("LSTM_LAB_EXECUTOR", "ray=auto")
    assert parse_executor() == ExecutorChoice("ray", "auto")
    monkeypatch.delenv("LSTM_LAB_EXECUTOR")
    assert parse_executor() == ExecutorChoice("local")
    with pytest.raises(LabError, match="expected 'local', 'ray'"):
        parse_executor("dask")


def test_a_ray_task_is_judged_stalled_from_its_first_contact_and_lost_only_by_later_node_lists(lab_spec) -> None:
    from lstm_app.runs._ray_parts import KILLED, Task, judge
    from lstm_app.runs._ray_task import Job
    from lstm_app.runs.schedule import Engine

    task = Task(Job(lab_spec(), "sha", "a.csv", ((1, 1, 0, 0),), False), None, 1.0, 0.0, {1: 1}, Engine.KERAS,
                submitted=100.0)

    def verdict(now: float, alive: set[str] = frozenset({"n1"}), reads: int = 5) -> object:  # type: ignore[assignment]
        return judge(task, now, alive, reads, stall_limit=8.0, start_limit=60.0)

    # Before its first contact (a new worker importing TensorFlow): only the start limit counts,
    # and no node list, since the task has no node yet.
    assert verdict(100.0 + 59.9, alive=set()) is None
    assert verdict(100.0 + 60.0) == ("unstarted", 60.0)
    # The first contact at 150, after the executor's 5th node list: the stall clock starts there.
    task.contact, task.contact_read, task.node = 150.0, 5, "n1"
    assert verdict(157.9) is None and verdict(158.0) == ("stalled", 8.0)
    assert verdict(151.0, alive=set(), reads=5) is None  # a list read before the contact says nothing
    assert verdict(151.0, alive=set(), reads=6) == ("lost", 0.0)
    task.killed_at = 151.0  # a hard cancel: it may take its time to end, unless its node is gone
    assert verdict(151.0 + KILLED - 0.1) is None and verdict(151.0 + KILLED) == ("killed", 0.0)
    assert verdict(152.0, alive=set(), reads=6) == ("killed", 0.0)


def test_runs_finish_with_every_epoch_row_on_ray_and_local(make_runner, lab_spec, lab_csv) -> None:
    runner = make_runner()
    assert runner.where().startswith(runner.executor.kind.replace("ray", "Ray"))
    # Two batched groups of four seeds (a lone run takes the Keras path: the other tests).
    eid = runner.submit(lab_spec("finish", models=2, seeds=(0, 1, 2, 3), epochs=3), "a.csv", lab_csv)
    runs = wait_for(lambda: finished(runner.store, eid), "every run to finish", COLD)
    assert [r.status for r in runs] == ["done"] * 8, [(r.status, r.message) for r in runs]
    for run in runs:
        assert epochs_of(runner.store, run.id) == [1, 2, 3] and run.attempt == 1 and run.retries == 0
        assert run.engine == "batched" and runner.store.weights(run.id)
        assert runner.store.outcome(run.id).metrics is not None  # type: ignore[union-attr]


def test_cancel_a_running_and_a_queued_run_on_ray_and_local(make_runner, lab_spec, lab_csv) -> None:
    runner = make_runner()
    # One local worker, or two Ray CPUs: of three runs, the last waits in the queue.
    ids = [runner.store.runs(runner.submit(lab_spec(f"long {k}", epochs=2000), "a.csv", lab_csv))[0].id
           for k in range(3)]
    live = wait_for(lambda: training(runner.store, ids[0]), "the first run's first epoch", COLD)
    assert runner.store.run(ids[2]).status == "queued"
    assert runner.cancel(ids[2]) == "cancelled"
    assert runner.cancel(live.id) == "running"
    ended = wait_for(lambda: (r := runner.store.run(live.id)).status == "cancelled" and r, "the cancel", 30)
    assert 1 <= len(runner.store.history(live.id)) < 2000 and ended.attempt == live.attempt
    assert runner.store.run(ids[2]).message == "cancelled before it started"
    assert runner.cancel(ids[1]) in ("running", "cancelled")
    wait_for(lambda: runner.store.run(ids[1]).status == "cancelled", "the second cancel", 30)


def test_a_killed_worker_is_retried_in_a_new_attempt_with_a_clean_curve_on_ray_and_local(
        make_runner, lab_spec, lab_csv) -> None:
    runner = make_runner()
    eid = runner.submit(lab_spec("killed", epochs=15), "a.csv", lab_csv)
    [run] = runner.store.runs(eid)
    live = wait_for(lambda: training(runner.store, run.id, 2), "two epoch rows", COLD)
    pid = (live.worker_pid if runner.executor.kind == "local"
           else wait_for(lambda: runner.executor.task_pid(run.id), "the Ray task's process", 10))  # type: ignore[attr-defined]
    assert pid and pid != os.getpid()
    os.kill(pid, signal.SIGKILL)
    retried = wait_for(lambda: (r := runner.store.run(run.id)).attempt > live.attempt and r.status == "running"
                       and r, "the retry", 60)
    assert retried.retries == 1 and retried.attempt == live.attempt + 1
    assert "retried 1 time" in run_line(retried, "")[1]  # what the page shows
    [done] = wait_for(lambda: finished(runner.store, eid), "the retried run to finish", COLD)
    assert done.status == "done" and done.retries == 1, done.message
    assert run_line(done, "")[1].endswith("retried 1 time")
    assert epochs_of(runner.store, run.id) == list(range(1, 16))  # one attempt's epochs, none twice


@pytest.mark.skipif(not HAVE_RAY, reason="ray is not installed")
def test_same_seeds_give_the_same_metrics_on_local_and_ray(tmp_path: Path, ray_instance, lab_spec, lab_csv) -> None:
    ray_instance()
    # two batched groups per backtest origin, 2 origins: each Ray task trains its origin's rows
    spec = dataclasses.replace(lab_spec("same", models=2, seeds=(0, 1, 2), epochs=2), backtest=BacktestSpec(2))
    metrics = {}
    for kind in ("local", "ray"):
        runner = Runner(tmp_path / kind / "runs.sqlite", executor=kind, concurrency=1, threads=1, idle_seconds=1.0)
        try:
            eid = runner.submit(spec, "a.csv", lab_csv)
            runs = wait_for(lambda r=runner, e=eid: finished(r.store, e), f"the {kind} runs", COLD)
            found = runner.store.metrics(eid)
            metrics[kind] = {(r.model_index, r.seed, r.origin): found[r.id].as_dict() for r in runs}
        finally:
            runner.shutdown()
    assert metrics["local"].keys() == metrics["ray"].keys() and len(metrics["ray"]) == 12
    for member, local in metrics["local"].items():
        assert metrics["ray"][member] == pytest.approx(local, rel=1e-6, nan_ok=True), member


def test_a_group_that_ignores_a_cancel_is_killed_and_its_innocent_run_queued_again_on_ray_and_local(
        make_runner, lab_spec, lab_csv) -> None:
    runner = make_runner(grace_seconds=1.0)
    record_statuses(runner.store.path)
    eid = runner.submit(lab_spec("frozen", seeds=(0, 1), epochs=2000), "a.csv", lab_csv)
    cancelled, innocent = runner.store.runs(eid)
    live = wait_for(lambda: training(runner.store, cancelled.id), "the group's first epoch", COLD)
    pid = (live.worker_pid if runner.executor.kind == "local"
           else wait_for(lambda: runner.executor.task_pid(cancelled.id), "the Ray task's process", 10))  # type: ignore[attr-defined]
    freeze(pid, runner.store.path)  # it can no longer read its stop request
    assert runner.cancel(cancelled.id) == "running"
    ended = wait_for(lambda: (r := runner.store.run(cancelled.id)).status == "cancelled" and r, "the hard cancel", 60)
    where = "worker was" if runner.executor.kind == "local" else "Ray task was"
    assert ended.message == f"cancelled; its {where} killed after it did not stop within 1 s"
    assert len(runner.store.history(cancelled.id)) >= 1  # its history so far stays
    # The other run of the group goes back to the queue in one write, and trains again.
    again = wait_for(lambda: (r := runner.store.run(innocent.id)).attempt > live.attempt and r, "the requeue", 60)
    assert again.status in ("queued", "running") and again.retries == 0
    assert statuses_written(runner.store.path, innocent.id)[:3] == ["running", "queued", "running"]
    runner.cancel(innocent.id)


def test_the_cli_refuses_an_unknown_executor_in_one_sentence(tmp_path: Path, capsys) -> None:
    from lstm_app import cli

    code = cli.main(["run", str(ROOT / "examples" / "hotel_h2_seed_question.json"), "--out", str(tmp_path),
                     "--executor", "dask"])
    assert code == 2 and "expected 'local', 'ray', 'ray=ADDRESS'" in capsys.readouterr().err


@pytest.mark.skipif(not HAVE_RAY, reason="ray is not installed")
def test_a_ray_task_on_a_node_ray_reports_lost_is_given_up_and_retried(
        tmp_path: Path, ray_instance, lab_spec, lab_csv) -> None:
    """Ray does not always fail the task of a lost node; the executor reads the live nodes itself.
    Here the node list (the executor's `nodes` hook) says the task's node is gone while the task
    still trains on it, until the executor gives that attempt up; the retried task, on the same
    node of this one-node Ray, is judged only by node lists read after it reached the hub."""
    ray_instance()
    runner = Runner(tmp_path / "runs.sqlite", executor="ray", max_retries=1)
    try:
        executor = runner.executor
        run, live, pid = training_on_ray(runner, lab_spec("lost node", epochs=2000), lab_csv)
        real = executor.nodes  # type: ignore[attr-defined]

        def nodes() -> list[dict]:
            gone = runner.store.run(run.id).attempt == live.attempt
            return [{**n, "Alive": n["Alive"] and not gone} for n in real()]

        executor.nodes = nodes  # type: ignore[attr-defined]
        retried = wait_for(lambda: (r := runner.store.run(run.id)).attempt > live.attempt and r, "the retry", 30)
        assert retried.message == "retried: its Ray node left the cluster" and retried.retries == 1
        wait_for(lambda: not _alive(pid), "the given-up task's process to be killed", 30)
        # A late row of the given-up attempt reaches the hub after the retry: it is refused, and
        # that refusal must not stop the run's new attempt.
        import ray

        late = (run.id, live.attempt, EpochRow(99, 0.1, 0.1, 0.01))
        ray.get(executor.hub.exchange.remote(pid, "gone", [late[:2]], [late]))  # type: ignore[attr-defined]
        wait_for(lambda: (run.id, live.attempt, "epochs", f"running in attempt {live.attempt + 1}")
                 in runner.store.refused_writes(run.id), "the late row's refusal", 30)
        _trains_afresh(runner, run.id, live.attempt + 1)
    finally:
        runner.shutdown()


def _gated(gate: Path) -> Callable[..., object]:
    """A Ray task function that waits for the file `gate` before it trains: a task that has not
    reached the hub yet, for as long as the test wants (a cold TensorFlow import, a busy cluster)."""

    def train_when_open(job: object, content: bytes, hub: object) -> object:
        import time

        from lstm_app.runs._ray_task import train_job

        while not gate.exists():
            time.sleep(0.02)
        return train_job(job, content, hub)  # type: ignore[arg-type]

    return train_when_open


@pytest.mark.skipif(not HAVE_RAY, reason="ray is not installed")
def test_the_ray_stall_clock_starts_at_first_contact_and_reaching_the_hub_has_its_own_limit(
        tmp_path: Path, ray_instance, lab_spec, lab_csv) -> None:
    ray_instance()
    import ray

    runner = Runner(tmp_path / "runs.sqlite", executor="ray", stall_limit_seconds=5.0, start_limit_seconds=50.0)
    executor, clock, gate = runner.executor, Clock(), tmp_path / "gate"
    executor.clock, executor.remote = clock, ray.remote(_gated(gate))  # type: ignore[attr-defined]
    ticks = lambda: executor.ticks  # type: ignore[attr-defined]  # noqa: E731
    try:
        # Past the stall limit but within the start limit, before its first contact: kept.
        [held] = runner.store.runs(runner.submit(lab_spec("held", epochs=3), "a.csv", lab_csv))
        wait_for(lambda: runner.store.run(held.id).status == "running", "the claim")
        wait_ticks(ticks, 1)  # claimed and submitted in one tick
        clock.advance(40)
        wait_ticks(ticks)
        assert (runner.store.run(held.id).status, runner.store.run(held.id).attempt) == ("running", 1)
        # Past the start limit: given up, saying which limit and how to raise it.
        clock.advance(20)
        failed = wait_for(lambda: (r := runner.store.run(held.id)).status == "failed" and r, "the start limit")
        assert failed.message == ("not started after 60 s (the limit is 50 s; raise LSTM_LAB_START_LIMIT for a "
                                  "busy cluster), so its Ray task was stopped")
        # A task that reaches the hub late trains to the end: its stall clock starts there.
        [late] = runner.store.runs(runner.submit(lab_spec("late", epochs=3), "a.csv", lab_csv))
        wait_for(lambda: runner.store.run(late.id).status == "running", "the claim")
        wait_ticks(ticks, 1)
        clock.advance(40)
        wait_ticks(ticks)
        gate.touch()
        [done] = wait_for(lambda: finished(runner.store, late.experiment_id), "the late run to finish", COLD)
        assert (done.status, done.attempt, done.retries) == ("done", 1, 0), done.message
    finally:
        runner.shutdown()


@pytest.mark.skipif(not HAVE_RAY, reason="ray is not installed")
def test_a_hung_ray_task_is_stopped_after_the_stall_limit_and_its_run_queued_again(
        tmp_path: Path, ray_instance, lab_spec, lab_csv) -> None:
    ray_instance()
    runner = Runner(tmp_path / "runs.sqlite", executor="ray", stall_limit_seconds=8.0, on_stall="requeue")
    clock = runner.executor.clock = Clock()  # type: ignore[attr-defined]
    record_statuses(runner.store.path)
    try:
        run, live, pid = training_on_ray(runner, lab_spec("hung", epochs=2000), lab_csv)
        os.kill(pid, signal.SIGSTOP)  # alive to Ray, silent to the hub
        _stall(runner, clock, lambda: runner.store.run(run.id).attempt > live.attempt)
        assert not _alive(pid) or _stopped(pid)
        # The retried task (a new Ray worker loading TensorFlow) is judged from its own first contact.
        _trains_afresh(runner, run.id, live.attempt + 1)
        assert runner.store.run(run.id).retries == 0
        assert statuses_written(runner.store.path, run.id) == ["running", "queued", "running", "cancelled"]
        # With the default policy the stalled run fails, saying why.
        runner.on_stall = "fail"
        run, _, pid = training_on_ray(runner, lab_spec("hung 2", epochs=2000), lab_csv)
        os.kill(pid, signal.SIGSTOP)
        _stall(runner, clock, lambda: runner.store.run(run.id).status == "failed")
        assert runner.store.run(run.id).message == "no progress for 9 s (the limit is 8 s), so its Ray task was stopped"
    finally:
        runner.shutdown()


def _trains_afresh(runner: Runner, run_id: int, attempt: int) -> None:
    """Run `run_id` trains again in `attempt`, its curve from epoch 1 with none of the earlier
    attempt's rows; then it is cancelled (the rest of its epochs would prove nothing more)."""
    wait_for(lambda: (r := runner.store.run(run_id)).attempt == attempt and len(runner.store.history(run_id)) >= 3
             and r, f"three epoch rows of attempt {attempt}", COLD)
    epochs = epochs_of(runner.store, run_id)
    assert epochs == list(range(1, len(epochs) + 1)), epochs
    runner.cancel(run_id)
    ended = wait_for(lambda: (r := runner.store.run(run_id)).status == "cancelled" and r, "the cancel", 60)
    assert ended.attempt == attempt


def _stall(runner: Runner, clock: Clock, stopped: Callable[[], bool]) -> None:
    """Move the executor's clock past the stall limit until `stopped` (an exchange that reached
    the hub just before the task was stopped may be drained after a move and restart its silence)."""
    for _ in range(10):
        clock.advance(runner.stall_limit_seconds + 1)
        wait_ticks(lambda: runner.executor.ticks)  # type: ignore[attr-defined]
        if stopped():
            return
    raise AssertionError("the stalled Ray task was never stopped")


@pytest.mark.skipif(not HAVE_RAY, reason="ray is not installed")
def test_a_lost_ray_progress_hub_retries_the_tasks_in_flight_with_clean_curves(
        tmp_path: Path, ray_instance, lab_spec, lab_csv) -> None:
    ray_instance()
    import ray

    runner = Runner(tmp_path / "runs.sqlite", executor="ray", max_retries=1)
    try:
        # Enough epochs that the group is still training when its hub goes (a warm batched epoch
        # takes milliseconds).
        eid = runner.submit(lab_spec("hub", seeds=(0, 1), epochs=EPOCHS), "a.csv", lab_csv)
        runs = runner.store.runs(eid)
        wait_for(lambda: all(training(runner.store, r.id) for r in runs), "an epoch row each", COLD)
        ray.kill(runner.executor.hub)  # type: ignore[attr-defined]
        done = wait_for(lambda: finished(runner.store, eid), "the retried runs to finish", COLD)
        assert [(r.status, r.retries) for r in done] == [("done", 1)] * 2, [r.message for r in done]
        for run in done:
            assert epochs_of(runner.store, run.id) == list(range(1, EPOCHS + 1))
    finally:
        runner.shutdown()


def training_on_ray(runner: Runner, spec, csv: bytes) -> tuple[RunRow, RunRow, int]:
    """Submit a one-run experiment; (run, its row once its first epoch is stored, the Ray
    worker process training it)."""
    [run] = runner.store.runs(runner.submit(spec, "a.csv", csv))
    live = wait_for(lambda: training(runner.store, run.id), "the first epoch row", COLD)
    pid = wait_for(lambda: runner.executor.task_pid(run.id), "the Ray task's process", 10)  # type: ignore[attr-defined]
    return run, live, pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (FileNotFoundError, IndexError):
        return True


def _stopped(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("T")
    except (FileNotFoundError, IndexError):
        return False
