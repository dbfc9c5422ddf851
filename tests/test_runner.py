"""The background runner on real worker processes, a real SQLite file and tiny real Keras models.

Worker start-up (loading TensorFlow) takes seconds, so every wait polls with a generous
deadline; nothing sleeps and then asserts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers import freeze, record_statuses, statuses_written, wait_for
from lstm_app import params
from lstm_app.errors import LabError, QueueFullError, StoreError
from lstm_app.runs import runner as jobs
from lstm_app.runs.export import keras_file
from lstm_app.runs.runner import Runner, exit_reason, get_runner
from lstm_app.runs.store import RunRow, Store
from lstm_app.spec import DataSpec, ExperimentSpec, LayerSpec, ModelSpec, SplitSpec, TrainingSpec, WindowSpec

ROOT = Path(__file__).resolve().parent.parent
# Seconds to wait for what a fresh worker process does first (its first epoch row, its first run
# done): it imports TensorFlow first, ~6 CPU seconds, which beside a CPU hog and the other test
# process take minutes on 2 cores (a wait, not a timing: it ends as soon as the row is there).
COLD = 180


def gone(pid: int) -> bool:
    """Whether process `pid` has exited (a zombie nobody reaped counts as exited)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return "\nState:\tZ" in status


@pytest.fixture
def make_runner(tmp_path: Path) -> Iterator[Callable[..., Runner]]:
    """Runners on `tmp_path/runs.sqlite`; at teardown all are shut down and no worker is left."""
    made: list[Runner] = []

    def make(**options: object) -> Runner:
        settings: dict[str, object] = {"concurrency": 1, "idle_seconds": 5.0, **options}
        runner = Runner(tmp_path / "runs.sqlite", **settings)  # type: ignore[arg-type]
        made.append(runner)
        return runner

    yield make
    for runner in made:
        runner.shutdown()
    pids = {r.worker_pid for r in Store(tmp_path / "runs.sqlite").runs() if r.worker_pid}
    assert all(gone(pid) for pid in pids), "a worker process outlived its runner"


def finished(store: Store, experiment_id: int) -> list[RunRow] | None:
    runs = store.runs(experiment_id)
    return runs if all(r.status not in ("queued", "running") for r in runs) else None


def training(store: Store, run_id: int, epochs: int = 1) -> RunRow | None:
    run = store.run(run_id)
    return run if run.status == "running" and run.epoch >= epochs else None


@pytest.mark.slow
def test_two_experiments_at_once_both_complete_without_mixing_results(make_runner, lab_spec, lab_csv) -> None:
    runner = make_runner(concurrency=2)
    first = runner.submit(lab_spec("first", models=2, seeds=(0,)), "a.csv", lab_csv)
    second = runner.submit(lab_spec("second", models=1, seeds=(1, 2)), "b.csv", lab_csv)
    broken_spec = dataclasses.replace(lab_spec("broken"), data=DataSpec("c.csv", "nope"))
    broken = runner.submit(broken_spec, "c.csv", lab_csv)
    assert {r.status for r in runner.store.runs()} <= {"queued", "running"}  # submit returned at once
    store = runner.store
    for eid in (first, second, broken):
        wait_for(lambda eid=eid: finished(store, eid), f"experiment {eid} to finish", 90)

    [bad] = store.runs(broken)
    assert bad.status == "failed" and bad.message.startswith("DataError: ") and "nope" in bad.message
    assert len({r.worker_pid for r in store.runs()}) <= 3  # workers took several runs in turn
    for eid in (first, second):
        spec = store.experiment(eid).spec
        forecasts = []
        for run in store.runs(eid):
            outcome = store.outcome(run.id)
            assert run.status == "done" and outcome is not None, run
            model = spec.models[run.model_index]
            assert run.model_name == model.name
            # Each run's results are its own model's: the parameter count pins the model ...
            assert outcome.params == params.total(model, 1, spec.window.lookback, spec.window.framing)
            assert [e.epoch for e in store.history(run.id)] == [1, 2, 3]
            assert outcome.metrics is not None and outcome.test is not None
            assert outcome.metrics.rmse is not None and len(outcome.test.forecast) == 8
            if run.engine == "keras":
                assert Path(run.model_path or "").is_file()
            else:
                assert run.engine == "batched" and store.weights(run.id)
            forecasts.append(outcome.test.forecast)
        assert len(set(forecasts)) == len(forecasts)  # ... and different models/seeds differ


@pytest.mark.slow
def test_progress_shows_while_training_and_the_worker_itself_stops_a_cancelled_run(
        make_runner, lab_spec, lab_csv) -> None:
    runner = make_runner(grace_seconds=600.0)  # no hard kill: the worker must stop the run itself
    eid = runner.submit(lab_spec("long", epochs=400), "a.csv", lab_csv)
    [run] = runner.store.runs(eid)
    live = wait_for(lambda: training(runner.store, run.id, 3), "three epoch rows", COLD)
    assert live.loss is not None and live.eta_seconds and live.eta_seconds > 0 and live.elapsed
    assert live.epochs_total == 400
    assert runner.cancel(run.id) == "running"
    ended = wait_for(lambda: (r := runner.store.run(run.id)).status == "cancelled" and r, "the cancel", 60)
    assert ended.exit_code is None and not gone(live.worker_pid or 0)  # its worker lives on for the next run
    history = runner.store.history(run.id)
    assert 3 <= len(history) < 400 and ended.epoch == len(history)
    outcome = runner.store.outcome(run.id)
    assert outcome is not None and outcome.status == "cancelled" and len(outcome.epochs) == len(history)


@pytest.mark.slow
def test_a_killed_worker_fails_only_its_run_and_the_next_run_completes(make_runner, lab_spec, lab_csv) -> None:
    runner = make_runner()
    doomed = runner.submit(lab_spec("doomed", epochs=400), "a.csv", lab_csv)
    after = runner.submit(lab_spec("after"), "a.csv", lab_csv)
    [run] = runner.store.runs(doomed)
    live = wait_for(lambda: training(runner.store, run.id), "the first epoch row", COLD)
    assert live.worker_pid in runner.worker_pids()
    os.kill(live.worker_pid, signal.SIGKILL)
    dead = wait_for(lambda: (r := runner.store.run(run.id)).status == "failed" and r, "the failure", 10)
    assert dead.exit_code == -9 and dead.message == exit_reason(-9)
    assert "SIGKILL" in dead.message and "out of memory or kill -9" in dead.message
    assert len(runner.store.history(run.id)) >= 1  # what it trained before it died stays
    [next_run] = wait_for(lambda: finished(runner.store, after), "the next run", COLD)
    assert next_run.status == "done" and next_run.worker_pid != live.worker_pid


_SERVER = """
import sys, time
from lstm_app.runs.runner import Runner
runner = Runner(sys.argv[1], concurrency=1, idle_seconds=30)
print("ready", flush=True)
time.sleep(600)
"""


@contextlib.contextmanager
def other_server(path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A server process with its own runner on `path`; killed (no shutdown) when the block ends."""
    server = subprocess.Popen([sys.executable, "-c", _SERVER, str(path)], cwd=ROOT, stdout=subprocess.PIPE)
    try:
        assert server.stdout is not None and server.stdout.readline() == b"ready\n"
        yield server
    finally:
        server.kill()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()


@pytest.mark.slow
def test_a_restarted_runner_interrupts_stale_runs_and_keeps_finished_ones(
    tmp_path, make_runner, lab_spec, lab_csv
) -> None:
    path = tmp_path / "runs.sqlite"
    store = Store(path)
    sha = store.put_dataset("a.csv", lab_csv)
    with other_server(path):
        done = store.create_experiment(lab_spec("done"), sha)
        wait_for(lambda: finished(store, done), "the first experiment", COLD)
        # Two models of different sizes: two groups, so the second is still queued.
        stale = store.create_experiment(lab_spec("stale", models=2, epochs=400), sha)
        live = wait_for(lambda: training(store, store.runs(stale)[0].id), "training", 30)
    # the server was killed: it died without a shutdown
    runner = make_runner()
    assert runner.interrupted_at_start >= 1  # at least the queued one; the orphan may have been first
    runs = store.runs(stale)
    assert [r.status for r in runs] == ["interrupted", "interrupted"]
    assert "before this run started" in runs[1].message
    wait_for(lambda: gone(live.worker_pid or 0), "the orphaned worker to stop by itself", 10)
    [kept] = store.runs(done)
    outcome = store.outcome(kept.id)
    assert kept.status == "done" and outcome is not None
    assert outcome.metrics is not None and outcome.metrics.rmse is not None
    assert outcome.test is not None and outcome.test.forecast and outcome.future is not None and outcome.future.forecast
    assert runner.requeue_interrupted() == 2
    assert {r.status for r in store.runs(stale)} <= {"queued", "running"}
    assert runner.cancel_experiment(stale) == 2


def test_a_full_queue_refuses_a_submission_with_a_clear_message(make_runner, lab_spec, lab_csv) -> None:
    runner = make_runner(max_queued=3)
    eid = runner.submit(lab_spec(seeds=(0, 1, 2), epochs=400), "a.csv", lab_csv)
    with pytest.raises(QueueFullError, match=r"queue is full: 3 runs are waiting .* limit of 3"):
        runner.submit(lab_spec("more"), "a.csv", lab_csv)
    assert len(runner.store.experiments()) == 1
    runner.cancel_experiment(eid)


@pytest.mark.slow
def test_a_worker_that_ignores_a_cancel_is_killed_after_the_grace_period(make_runner, lab_spec, lab_csv) -> None:
    runner = make_runner(grace_seconds=1.0)
    eid = runner.submit(lab_spec(epochs=400), "a.csv", lab_csv)
    [run] = runner.store.runs(eid)
    live = wait_for(lambda: training(runner.store, run.id, 3), "three epoch rows", COLD)
    assert live.worker_pid is not None
    freeze(live.worker_pid, runner.store.path)  # frozen: it can no longer see the cancel flag
    runner.cancel(run.id)
    ended = wait_for(lambda: (r := runner.store.run(run.id)).status == "cancelled" and r, "the hard kill", 60)
    assert ended.message == "cancelled; its worker was killed after it did not stop within 1 s"
    assert ended.exit_code == -9 and gone(live.worker_pid)
    assert len(runner.store.history(run.id)) >= 1


@pytest.mark.slow
def test_shutdown_terminates_workers_and_interrupts_their_runs(make_runner, lab_spec, lab_csv) -> None:
    runner = make_runner()
    eid = runner.submit(lab_spec(epochs=400, models=2), "a.csv", lab_csv)
    first, second = runner.store.runs(eid)
    live = wait_for(lambda: training(runner.store, first.id), "the first epoch row", COLD)
    runner.shutdown()
    assert gone(live.worker_pid or 0) and runner.worker_pids() == []
    stopped = runner.store.run(first.id)
    assert (stopped.status, stopped.message) == (
        "interrupted", "the server shut down while this run was training"
    )
    assert runner.store.run(second.id).status == "queued"  # the next start-up interrupts it
    with pytest.raises(LabError, match="shut down"):
        runner.submit(lab_spec(), "a.csv", lab_csv)
    assert make_runner().interrupted_at_start == 1  # a new runner on the same store ...
    assert runner.store.run(second.id).status == "interrupted"  # ... would start it again only when asked


def test_workers_that_cannot_start_fail_the_queue_instead_of_respawning_for_ever(
    make_runner, lab_spec, lab_csv, monkeypatch
) -> None:
    monkeypatch.setattr(jobs.sys, "executable", "/bin/false")  # a broken interpreter: exits 1 at once
    runner = make_runner()
    eid = runner.submit(lab_spec(seeds=(0, 1)), "a.csv", lab_csv)
    runs = wait_for(lambda: finished(runner.store, eid), "the queued runs to fail", 15)
    assert [r.status for r in runs] == ["failed", "failed"]
    assert runs[0].message == "worker processes fail to start (worker process exited with code 1)"
    assert runs[0].exit_code == 1


def test_get_runner_is_one_runner_per_store_until_it_is_shut_down(tmp_path: Path) -> None:
    first = get_runner(tmp_path / "runs.sqlite", concurrency=1)
    try:
        assert get_runner(tmp_path / "." / "runs.sqlite") is first
        assert first.concurrency == 1 and first.alive
    finally:
        first.shutdown()
    second = get_runner(tmp_path / "runs.sqlite")
    try:
        assert second is not first and second.alive
    finally:
        second.shutdown()


def _group_spec(name: str, seeds: tuple[int, ...], epochs: int) -> ExperimentSpec:
    """tanh and relu LSTM(3): one shape, so every run of the experiment is one group."""
    return ExperimentSpec(
        name, DataSpec("a.csv", "y", time_column="date"),
        (ModelSpec("tanh", (LayerSpec(3),)), ModelSpec("relu", (LayerSpec(3, "relu"),))),
        WindowSpec(lookback=4, future_steps=3), SplitSpec(8),
        TrainingSpec(epochs=epochs, batch_size=8, seeds=seeds, patience=0),
    )


@pytest.mark.slow
def test_a_group_trains_as_one_graph_records_its_engine_and_exports_keras_files(make_runner, lab_csv) -> None:
    runner = make_runner()
    first = runner.submit(_group_spec("first", (0, 1, 2), 3), "a.csv", lab_csv)
    again = runner.submit(_group_spec("again", (0, 1, 2), 3), "a.csv", lab_csv)
    store = runner.store
    runs = wait_for(lambda: finished(store, first), "the group", 90)
    assert [r.status for r in runs] == ["done"] * 6
    assert len({r.worker_pid for r in runs}) == 1 and {r.engine for r in runs} == {"batched"}
    assert "6 runs share one graph" in runs[0].engine_reason
    assert len({r.started_at for r in runs}) == 1  # claimed together, in one transaction
    for run in runs:
        assert [e.epoch for e in store.history(run.id)] == [1, 2, 3]
        assert run.model_path is None and store.weights(run.id)
    # The same experiment and seeds give the same numbers.
    repeat = wait_for(lambda: finished(store, again), "the repeat", 90)
    assert [store.outcome(r.id).metrics for r in repeat] == [store.outcome(r.id).metrics for r in runs]
    path = keras_file(store, runs[3].id)  # built on demand, in a fresh interpreter
    assert path.is_file() and store.run(runs[3].id).model_path == str(path)
    assert keras_file(store, runs[3].id) == path  # and kept


@pytest.mark.slow
def test_cancelling_one_run_of_a_group_leaves_the_others_training(make_runner, lab_csv) -> None:
    runner = make_runner()
    eid = runner.submit(_group_spec("group", (0, 1), 150), "a.csv", lab_csv)
    runs = runner.store.runs(eid)
    wait_for(lambda: training(runner.store, runs[0].id, 2), "two epoch rows", COLD)
    assert runner.cancel(runs[1].id) == "running"
    ended = wait_for(lambda: (r := runner.store.run(runs[1].id)).status == "cancelled" and r, "the cancel", 5.0)
    assert ended.epoch < 150
    final = wait_for(lambda: finished(runner.store, eid), "the rest of the group", 120)
    assert [r.status for r in final] == ["done", "cancelled", "done", "done"]
    lengths = [len(runner.store.history(r.id)) for r in final]
    assert lengths[0] == lengths[2] == lengths[3] == 150 and lengths[1] == final[1].epoch < 150


@pytest.mark.slow
def test_a_second_server_on_one_folder_is_refused_and_never_relabels_live_runs(tmp_path, lab_spec, lab_csv) -> None:
    path = tmp_path / "runs.sqlite"
    store = Store(path)
    sha = store.put_dataset("a.csv", lab_csv)
    with other_server(path) as server:
        eid = store.create_experiment(lab_spec("live", models=2, epochs=400), sha)
        live = wait_for(lambda: training(store, store.runs(eid)[0].id), "training", COLD)
        with pytest.raises(StoreError, match=rf"Another LSTM Activation Lab server \(process {server.pid}\) is using"):
            Runner(path, concurrency=1)
        runs = store.runs(eid)
        assert [r.status for r in runs] == ["running", "queued"]  # untouched
        assert not gone(live.worker_pid or 0)
    wait_for(lambda: gone(live.worker_pid or 0), "the orphaned worker to stop by itself", 10)
    second = Runner(path, concurrency=1)  # the lock died with its server
    try:
        assert second.interrupted_at_start >= 1  # the queued run; the orphan interrupts its own
        assert [r.status for r in store.runs(eid)] == ["interrupted", "interrupted"]
    finally:
        second.shutdown()


def test_data_too_short_for_the_split_fails_its_runs_and_the_worker_goes_on(make_runner, lab_spec, lab_csv) -> None:
    runner = make_runner()
    short = dataclasses.replace(lab_spec("short", seeds=(0, 1)), split=SplitSpec(55))  # 60 rows: no room to train
    bad = runner.submit(short, "a.csv", lab_csv)
    good = runner.submit(lab_spec("after"), "a.csv", lab_csv)
    failed = wait_for(lambda: finished(runner.store, bad), "the short experiment to fail", COLD)
    assert [r.status for r in failed] == ["failed", "failed"]
    assert failed[0].message.startswith("DataError: The series has 60 rows")
    [done] = wait_for(lambda: finished(runner.store, good), "the next experiment", COLD)
    assert done.status == "done"


@pytest.mark.slow
def test_a_stale_worker_resumed_after_a_restart_cannot_touch_the_retrained_run(
    tmp_path, make_runner, lab_spec, lab_csv
) -> None:
    path = tmp_path / "runs.sqlite"
    store = Store(path)
    sha = store.put_dataset("a.csv", lab_csv)
    with other_server(path):
        eid = store.create_experiment(lab_spec("stale", epochs=150), sha)
        [run] = store.runs(eid)
        old = wait_for(lambda: training(store, run.id), "training", COLD)
        assert old.attempt == 1
        freeze(old.worker_pid or 0, path)  # stalled (SIGSTOP) across the restart
    runner = make_runner()  # the first server died; a new one takes the folder over
    try:
        assert store.run(run.id).status == "interrupted"
        assert runner.requeue_interrupted() == 1
        new = wait_for(lambda: (r := training(store, run.id)) and r.attempt == 2 and r, "the new attempt", COLD)
        assert new.worker_pid != old.worker_pid
        os.kill(old.worker_pid or 0, signal.SIGCONT)
        wait_for(lambda: gone(old.worker_pid or 0), "the stale worker to stop by itself", 20)
        refused = wait_for(lambda: store.refused_writes(run.id), "a refused stale write", 10)
        assert all(attempt == 1 and "attempt 2" in was for _, attempt, _, was in refused)
        final = wait_for(lambda: finished(store, eid), "the new attempt to finish", 120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(old.worker_pid or 0, signal.SIGKILL)
    [done] = final
    assert done.status == "done" and done.attempt == 2, done.message
    history = store.history(run.id)
    assert [e.epoch for e in history] == list(range(1, len(history) + 1)) and done.epoch == len(history)


@pytest.mark.slow
@pytest.mark.parametrize("on_stall", ["fail", "requeue"])
def test_a_stalled_worker_is_flagged_then_stopped_and_its_run_failed_or_requeued(
    make_runner, lab_spec, lab_csv, on_stall
) -> None:
    runner = make_runner(stall_seconds=30.0, stall_limit_seconds=60.0, on_stall=on_stall)
    record_statuses(runner.store.path)
    eid = runner.submit(lab_spec("stuck", epochs=400), "a.csv", lab_csv)
    [run] = runner.store.runs(eid)
    live = wait_for(lambda: training(runner.store, run.id, 2), "training", COLD)
    assert runner.stall_note(live) == ""  # heartbeats keep a training run fresh
    freeze(live.worker_pid or 0, runner.store.path)
    # The fault, injected: the frozen worker's last heartbeat is made older (nothing else writes it).
    _age_heartbeat(runner.store.path, run.id, 45.0)
    flagged = runner.stall_note(runner.store.run(run.id))
    assert flagged.startswith("no progress for ") and runner.store.run(run.id).status == "running"
    _age_heartbeat(runner.store.path, run.id, 30.0)  # past the limit
    if on_stall == "fail":
        dead = wait_for(lambda: (r := runner.store.run(run.id)).status == "failed" and r, "the stall limit", 20)
        assert dead.message.startswith("no progress for ") and "limit is 60 s" in dead.message
    else:
        again = wait_for(lambda: (r := runner.store.run(run.id)).attempt == 2 and r.status == "running" and r,
                         "the run trained again", 60)
        assert again.worker_pid != live.worker_pid
        assert statuses_written(runner.store.path, run.id) == ["running", "queued", "running"]  # in one write
        runner.cancel(run.id)
    wait_for(lambda: gone(live.worker_pid or 0), "the stalled worker to be killed", 10)


def _age_heartbeat(db: Path, run_id: int, seconds: float) -> None:
    with contextlib.closing(sqlite3.connect(db, timeout=10, isolation_level=None)) as con:
        con.execute("UPDATE runs SET heartbeat_at = heartbeat_at - ? WHERE id = ?", (seconds, run_id))


def test_a_running_run_whose_worker_is_gone_is_settled_by_the_supervisor(make_runner, lab_spec, lab_csv) -> None:
    runner = make_runner()
    store = runner.store
    with runner._lock:  # hold the supervisor between ticks while a run loses its worker
        first = store.create_experiment(lab_spec("orphans", seeds=(0, 1)), store.put_dataset("a.csv", lab_csv))
        a, b = (store.claim_next(worker_pid=2**22 + 1) for _ in range(2))
        assert a is not None and b is not None
        store.request_cancel(b.id)
    ended = wait_for(lambda: finished(store, first), "the orphaned runs to be settled", 10)
    assert [(r.status, r.attempt) for r in ended] == [("failed", 1), ("cancelled", 1)]
    assert "could not be settled then" in ended[0].message
    store.delete_experiment(first)  # nothing left running: delete works


@pytest.mark.slow
def test_a_full_disk_fails_the_run_in_one_sentence_and_the_next_run_completes(make_runner, lab_spec, lab_csv) -> None:
    import resource

    runner = make_runner()
    store = runner.store
    doomed = runner.submit(lab_spec("full", epochs=400), "a.csv", lab_csv)
    [run] = store.runs(doomed)
    live = wait_for(lambda: training(store, run.id, 2), "training", COLD)
    # A reader holding its snapshot keeps SQLite from checkpointing the WAL back to its start, so
    # the worker's next writes must grow a file past the limit (without it, a WAL reset after a
    # checkpoint could let the worker write below the limit for the whole run).
    pin = sqlite3.connect(store.path)
    pin.execute("BEGIN")
    pin.execute("SELECT COUNT(*) FROM runs").fetchone()
    try:
        wal = Path(f"{store.path}-wal")
        limit = max(store.path.stat().st_size, wal.stat().st_size if wal.exists() else 0) + 4096
        resource.prlimit(live.worker_pid or 0, resource.RLIMIT_FSIZE, (limit, limit))  # its disk is now full
        dead = wait_for(lambda: (r := store.run(run.id)).status == "failed" and r, "the failure", 60)
    finally:
        pin.rollback()
        pin.close()
    assert "The disk holding the run store" in dead.message and "is full" in dead.message, dead.message
    after = runner.submit(lab_spec("after"), "a.csv", lab_csv)  # a fresh worker has room again
    [next_run] = wait_for(lambda: finished(store, after), "the next run", COLD)
    assert next_run.status == "done"


def test_submitting_on_a_full_disk_says_so_in_one_sentence_and_keeps_what_is_stored(
    make_runner, lab_spec, lab_csv
) -> None:
    import resource

    runner = make_runner()
    first = runner.submit(lab_spec("kept", epochs=400), "a.csv", lab_csv)
    runner.cancel_experiment(first)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    wal = Path(f"{runner.store.path}-wal")
    try:
        size = max(runner.store.path.stat().st_size, wal.stat().st_size if wal.exists() else 0)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
        with pytest.raises(StoreError, match=r"^The disk holding the run store .* is full: free some space"):
            runner.submit(lab_spec("more"), "b.csv", lab_csv + b"\n" * 100_000)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old)
    assert [e.id for e in runner.store.experiments()] == [first]
    assert runner.submit(lab_spec("more"), "b.csv", lab_csv) > first


@pytest.mark.slow
def test_a_worker_past_its_memory_limit_is_replaced_after_its_run(make_runner, lab_spec, lab_csv) -> None:
    runner = make_runner(max_memory_mb=1.0, runs_per_worker=500)  # any worker is over 1 MB after a run
    first = runner.submit(lab_spec("first"), "a.csv", lab_csv)
    second = runner.submit(lab_spec("second"), "b.csv", lab_csv)  # two claims are enough: two workers
    done = [wait_for(lambda e=e: finished(runner.store, e), f"experiment {e}", 120) for e in (first, second)]
    runs = [r for rows in done for r in rows]
    assert {r.status for r in runs} == {"done"}
    # One worker per claim: recycled by memory although far below its run count.
    claims = {(r.experiment_id, r.engine, r.worker_pid) for r in runs}
    assert len({pid for *_, pid in claims}) == len(claims) >= 2
