"""Run ownership on a real SQLite file: every claim is a new attempt, and a worker's writes apply
only while the run is still running in the attempt the worker holds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from factories import make_outcome
from lstm_app.errors import QueueFullError
from lstm_app.outcome import EpochRow, RunStatus
from lstm_app.runs._schema import MIGRATIONS
from lstm_app.runs.schedule import Engine
from lstm_app.runs.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "runs.sqlite")


def _row(epoch: int, loss: float = 1.0) -> EpochRow:
    return EpochRow(epoch, loss, loss, 0.1, ())


def _one_run(store: Store, lab_spec, lab_csv: bytes, seeds: tuple[int, ...] = (0,)) -> list[int]:
    eid = store.create_experiment(lab_spec(seeds=seeds), store.put_dataset("a.csv", lab_csv))
    return [r.id for r in store.runs(eid)]


def test_each_claim_starts_a_new_attempt_and_a_stale_attempt_cannot_write(store, lab_spec, lab_csv) -> None:
    [run_id] = _one_run(store, lab_spec, lab_csv)
    first = store.claim_next(worker_pid=111)
    assert first is not None and first.attempt == 1 and first.heartbeat_at is not None
    assert store.add_epoch(run_id, _row(1), attempt=1)
    # The server restarts: the run is interrupted and queued again; a new worker claims it.
    store.mark_interrupted()
    assert store.requeue([run_id]) == 1
    second = store.claim_next(worker_pid=222)
    assert second is not None and second.attempt == 2 and second.epoch == 0
    assert store.history(run_id) == []  # the new attempt starts a clean curve
    # The old worker wakes up: every one of its writes is refused and recorded.
    assert not store.add_epoch(run_id, _row(2), attempt=1)
    assert not store.interrupt(run_id, "old server gone", attempt=1)
    assert not store.finish(run_id, make_outcome(RunStatus.DONE, epochs=[_row(1), _row(2)]), attempt=1)
    assert not store.put_weights(run_id, b"stale", attempt=1)
    assert store.add_epochs([(run_id, _row(3))], {run_id: 1}) == set()
    refused = store.refused_writes(run_id)
    assert [(a, w) for _, a, w, _ in refused] == [
        (1, "epoch 2"), (1, "'interrupted'"), (1, "outcome 'done'"), (1, "weights"), (1, "epochs")
    ]
    assert all(was == "running in attempt 2" for *_, was in refused)
    # The live attempt is untouched and finishes with only its own epochs.
    assert store.run(run_id).status == RunStatus.RUNNING and store.weights(run_id) is None
    assert store.add_epoch(run_id, _row(1, 0.5), attempt=2)
    assert store.finish(run_id, make_outcome(RunStatus.DONE, epochs=[_row(1, 0.5)]), attempt=2)
    done = store.run(run_id)
    assert done.status == RunStatus.DONE and done.epoch == 1 and done.attempt == 2
    assert [(e.epoch, e.loss) for e in store.history(run_id)] == [(1, 0.5)]
    # Once finished, even the attempt that owned it cannot change it any more.
    assert not store.fail(run_id, "late", attempt=2)
    assert store.run(run_id).status == RunStatus.DONE


def test_a_group_write_keeps_the_rows_of_runs_it_still_owns(store, lab_spec, lab_csv) -> None:
    ids = _one_run(store, lab_spec, lab_csv, seeds=(0, 1))
    claimed = store.claim_runs(7, ids, Engine.BATCHED, "test")
    attempts = {r.id: r.attempt for r in claimed}
    assert attempts == dict.fromkeys(ids, 1)
    store.request_cancel(ids[1])
    assert store.mark_cancelled(ids[1], "killed", attempt=1)
    written = store.add_epochs([(ids[0], _row(1)), (ids[1], _row(1))], attempts)
    assert written == {ids[0]}
    assert store.heartbeat(attempts) == {ids[0]}
    assert len(store.history(ids[0])) == 1 and store.history(ids[1]) == []


def test_a_retried_attempt_restarts_the_curve_and_refuses_the_dead_attempt(store, lab_spec, lab_csv) -> None:
    ids = _one_run(store, lab_spec, lab_csv, seeds=(0, 1))
    claimed = store.claim_runs(7, ids, Engine.BATCHED, "test")
    attempts = {r.id: r.attempt for r in claimed}
    store.add_epochs([(i, _row(1)) for i in ids], attempts)
    new = store.reattempt(attempts, "retried: its worker died (node lost)", worker_pid=8)
    assert new == dict.fromkeys(ids, 2)
    assert store.reattempt(attempts, "again") == {}  # the dead attempt cannot be retried twice
    run = store.run(ids[0])
    assert run.retries == 1 and run.worker_pid == 8 and run.epoch == 0 and "retried" in run.message
    assert store.history(ids[0]) == []
    assert store.add_epochs([(i, _row(2)) for i in ids], attempts) == set()
    assert store.add_epochs([(i, _row(1, 0.3)) for i in ids], new) == set(ids)
    assert [(e.epoch, e.loss) for e in store.history(ids[0])] == [(1, 0.3)]


def test_requeue_respects_the_queue_bound(store, lab_spec, lab_csv) -> None:
    ids = _one_run(store, lab_spec, lab_csv, seeds=(0, 1, 2))
    store.mark_interrupted()
    _one_run(store, lab_spec, lab_csv, seeds=(0, 1))  # 2 queued
    with pytest.raises(QueueFullError, match=r"2 runs are waiting and re-queuing adds 3, over the limit of 4"):
        store.requeue(ids, max_queued=4)
    assert {store.run(i).status for i in ids} == {RunStatus.INTERRUPTED}
    assert store.requeue(ids, max_queued=5) == 3


def test_epochs_written_before_attempts_existed_still_read(tmp_path: Path, lab_spec, lab_csv) -> None:
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:3]:
        for statement in filter(str.strip, script.split(";")):
            con.execute(statement)
    con.execute("PRAGMA user_version = 3")
    con.execute("INSERT INTO datasets VALUES ('x', 'a.csv', x'00', 1, 0)")
    con.execute("INSERT INTO experiments (name, spec, dataset_sha, created_at) VALUES ('e', ?, 'x', 0)",
                (lab_spec().to_json(),))
    con.execute("INSERT INTO runs (experiment_id, model_index, model_name, seed, status, epochs_total, created_at) "
                "VALUES (1, 0, 'm', 0, 'done', 2, 0)")
    con.executemany("INSERT INTO epochs (run_id, epoch, loss, val_loss, seconds) VALUES (1, ?, ?, ?, 0.1)",
                    [(1, 0.5, 0.6), (2, 0.4, 0.5)])
    con.close()
    store = Store(path)
    assert [(e.epoch, e.loss) for e in store.history(1)] == [(1, 0.5), (2, 0.4)]
    assert store.run(1).attempt == 0
