"""The SQLite run store on a real file: schema, datasets, run lifecycle, results, recovery."""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from factories import make_future, make_layer_stats, make_metrics, make_outcome, make_regions, make_test
from helpers import record_statuses, statuses_written
from lstm_app.errors import QueueFullError, SpecError, StoreError
from lstm_app.outcome import (
    ACTIVE,
    ENDED,
    FINISHED,
    REQUEUEABLE,
    EpochRow,
    LayerKind,
    LayerStats,
    Metrics,
    RunOutcome,
    RunStatus,
    in_order,
)
from lstm_app.runs._schema import MIGRATIONS
from lstm_app.runs.store import SCHEMA_VERSION, Store, default_path


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "runs.sqlite")


def _experiment(store: Store, spec, csv: bytes) -> int:
    return store.create_experiment(spec, store.put_dataset("tiny.csv", csv))


TIMES = ["2021-01-01", "2021-02-01", "2021-03-01", "2021-03-02"]


def _outcome(status: RunStatus = RunStatus.DONE) -> RunOutcome:
    return make_outcome(
        status,
        epochs=[EpochRow(1, 0.5, 0.6, 0.1, (0.01,)), EpochRow(2, 0.25, float("nan"), 0.1, (0.02,))],
        message="2 epochs",
        metrics=make_metrics(1.5, mae=1.0, skill=float("nan")),
        test=make_test(TIMES[2:], [1.0, 2.0], [1.1, 1.9], [0.9, 1.0]),
        future=make_future(["2021-03-03"], [2.5]),
        regions=make_regions(TIMES, 1, 2),
        layers=[make_layer_stats(), make_layer_stats("lstm_2", activation="relu", finite=False)],
        params=64,
        seconds_per_epoch=0.1,
    )


def test_a_new_store_has_the_schema_version_and_wal(tmp_path: Path) -> None:
    store = Store(tmp_path / "sub" / "runs.sqlite")
    assert store.schema_version == SCHEMA_VERSION
    con = sqlite3.connect(store.path)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        con.close()
    assert {"datasets", "experiments", "runs", "epochs", "predictions", "metrics"} <= tables
    assert Store(store.path).schema_version == SCHEMA_VERSION  # reopening applies nothing twice


def test_a_store_from_a_newer_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(StoreError, match="newer than this program"):
        Store(path)


def test_the_default_location_follows_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_DATA", str(tmp_path / "data"))
    assert default_path() == tmp_path / "data" / "runs.sqlite"
    assert Store().models_dir == tmp_path / "data" / "models"
    monkeypatch.delenv("LSTM_LAB_DATA")
    monkeypatch.chdir(tmp_path)
    assert default_path() == tmp_path / "lab-data" / "runs.sqlite"


def test_datasets_are_kept_once_by_content_hash(store: Store, lab_csv: bytes) -> None:
    sha = store.put_dataset("a.csv", lab_csv)
    assert store.put_dataset("renamed.csv", lab_csv) == sha
    assert store.dataset(sha) == ("a.csv", lab_csv)
    assert store.put_dataset("b.csv", lab_csv + b"\n") != sha
    with pytest.raises(StoreError, match="No dataset"):
        store.dataset("0" * 64)


def test_an_experiment_is_stored_with_one_queued_run_per_model_and_seed(store, lab_spec, lab_csv) -> None:
    spec = lab_spec("two", models=2, seeds=(3, 4), epochs=7)
    eid = _experiment(store, spec, lab_csv)
    row = store.experiment(eid)
    assert row.spec == spec and row.name == "two" and row.counts == {"queued": 4} and row.active
    runs = store.runs(eid)
    assert [(r.model_index, r.model_name, r.seed, r.status, r.epochs_total) for r in runs] == [
        (0, "m0", 3, "queued", 7), (0, "m0", 4, "queued", 7), (1, "m1", 3, "queued", 7), (1, "m1", 4, "queued", 7)
    ]
    assert [e.id for e in store.experiments()] == [eid]
    with pytest.raises(StoreError, match="No dataset"):
        store.create_experiment(spec, "f" * 64)
    with pytest.raises(StoreError, match="No experiment 999"):
        store.experiment(999)


def test_a_full_queue_refuses_a_whole_experiment(store, lab_spec, lab_csv) -> None:
    sha = store.put_dataset("tiny.csv", lab_csv)
    store.create_experiment(lab_spec(seeds=(0, 1, 2)), sha, max_queued=4)
    with pytest.raises(QueueFullError, match="3 runs are waiting and this experiment adds 2, over the limit of 4"):
        store.create_experiment(lab_spec(seeds=(0, 1)), sha, max_queued=4)
    assert store.counts()["queued"] == 3 and len(store.experiments()) == 1


def test_each_queued_run_is_claimed_exactly_once_across_connections(store, lab_spec, lab_csv) -> None:
    eid = _experiment(store, lab_spec(models=4, seeds=tuple(range(10))), lab_csv)
    claimed: dict[int, list[int]] = {}

    def claim(worker: int) -> None:
        own = Store(store.path)  # its own object, connections of its own
        claimed[worker] = []
        while (run := own.claim_next(1000 + worker)) is not None:
            claimed[worker].append(run.id)

    threads = [threading.Thread(target=claim, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [i for ids in claimed.values() for i in ids]
    assert sorted(ids) == [r.id for r in store.runs(eid)]  # all 40, none twice
    for worker, run_ids in claimed.items():
        assert all(store.run(i).worker_pid == 1000 + worker for i in run_ids)
    assert {r.status for r in store.runs(eid)} == {"running"}
    assert store.claim_next(1) is None


def test_epochs_give_progress_and_an_eta(store, lab_spec, lab_csv) -> None:
    eid = _experiment(store, lab_spec(epochs=10), lab_csv)
    run = store.claim_next(42)
    assert run is not None and run.status == "running" and run.started_at is not None
    store.add_epoch(run.id, EpochRow(1, 0.9, 1.0, 2.0, (0.5, 0.25)))
    store.add_epoch(run.id, EpochRow(2, 0.5, None, 4.0))
    now = store.run(run.id)
    assert (now.epoch, now.loss, now.val_loss) == (2, 0.5, None)
    assert now.eta_seconds == pytest.approx(3.0 * 8)  # mean 3 s per epoch × 8 epochs left
    assert now.elapsed is not None and now.elapsed >= 0
    assert store.history(run.id) == [EpochRow(1, 0.9, 1.0, 2.0, (0.5, 0.25)), EpochRow(2, 0.5, None, 4.0)]
    assert store.experiment(eid).counts == {"running": 1}


def test_an_outcome_round_trips_with_its_history_predictions_and_metrics(store, lab_spec, lab_csv, tmp_path) -> None:
    eid = _experiment(store, lab_spec(), lab_csv)
    run = store.claim_next(1)
    assert run is not None
    store.add_epoch(run.id, EpochRow(1, 0.5, 0.6, 0.1, (0.01,)))
    store.finish(run.id, _outcome(), tmp_path / "m.keras")
    back = store.outcome(run.id)
    assert back is not None
    assert back.status is RunStatus.DONE and back.params == 64 and back.message == "2 epochs"
    assert back.metrics == Metrics(rmse=1.5, mae=1.0)  # NaN is stored as NULL
    sent = _outcome()
    assert (back.test, back.future, back.regions, back.diagnostics) == (
        sent.test, sent.future, sent.regions, sent.diagnostics)
    assert [e.epoch for e in back.epochs] == [1, 2] and back.epochs[1].val_loss is None
    row = store.run(run.id)
    assert (row.status, row.epoch, row.eta_seconds, row.model_path) == ("done", 2, 0, str(tmp_path / "m.keras"))
    assert row.finished_at is not None
    assert store.metrics(eid) == {run.id: Metrics(rmse=1.5, mae=1.0)}
    with pytest.raises(StoreError, match="finished run has status"):
        store.finish(run.id, make_outcome(RunStatus.RUNNING))


def test_unfinished_runs_have_no_outcome_and_failures_keep_their_reason(store, lab_spec, lab_csv) -> None:
    _experiment(store, lab_spec(seeds=(0, 1)), lab_csv)
    first = store.claim_next(7)
    assert first is not None and store.outcome(first.id) is None
    assert store.fail(first.id, "ValueError: bad", exit_code=1)
    row = store.run(first.id)
    assert (row.status, row.message, row.exit_code) == ("failed", "ValueError: bad", 1)
    assert not store.fail(first.id, "again")  # a finished run stays as it is
    assert store.outcome(first.id) is None


def test_cancel_ends_a_queued_run_now_and_flags_a_running_one(store, lab_spec, lab_csv) -> None:
    eid = _experiment(store, lab_spec(seeds=(0, 1, 2)), lab_csv)
    running = store.claim_next(5)
    assert running is not None and not store.cancel_requested(running.id)
    assert store.request_cancel(running.id) == "running"
    assert store.cancel_requested(running.id)
    [(run_id, pid, waited)] = store.cancel_pending()
    assert (run_id, pid) == (running.id, 5) and waited >= 0
    queued = store.runs(eid, status="queued")[0]
    assert store.request_cancel(queued.id) == "cancelled"
    assert store.run(queued.id).message == "cancelled before it started"
    assert store.cancel_experiment(eid) == 2  # the last queued one and the running one
    assert store.counts()["cancelled"] == 2 and store.counts()["running"] == 1
    assert store.mark_cancelled(running.id, "cancelled; its worker was killed", -9)
    with pytest.raises(StoreError, match="No run 999"):
        store.request_cancel(999)


def test_cancel_one_model_leaves_the_other_models_runs_alone(store, lab_spec, lab_csv) -> None:
    eid = _experiment(store, lab_spec(models=2, seeds=(0, 1)), lab_csv)
    running = store.claim_next(5)  # model 0, seed 0
    assert running is not None and running.model_index == 0
    assert store.cancel_experiment(eid, model_index=1) == 2
    by_model = {(r.model_index, r.seed): (r.status, r.cancel_requested) for r in store.runs(eid)}
    assert by_model == {(0, 0): ("running", False), (0, 1): ("queued", False),
                        (1, 0): ("cancelled", False), (1, 1): ("cancelled", False)}
    assert store.cancel_experiment(eid, model_index=0) == 2  # the queued run ends, the running one is flagged
    assert store.run(running.id).cancel_requested and store.counts()["cancelled"] == 3


def test_stale_runs_are_interrupted_and_can_be_requeued(store, lab_spec, lab_csv) -> None:
    eid = _experiment(store, lab_spec(seeds=(0, 1, 2)), lab_csv)
    done, running = store.claim_next(1), store.claim_next(2)
    assert done is not None and running is not None
    store.finish(done.id, _outcome())
    store.add_epoch(running.id, EpochRow(1, 0.5, 0.5, 0.1))
    assert store.mark_interrupted() == 2
    by_id = {r.id: r for r in store.runs(eid)}
    assert by_id[done.id].status == "done"
    assert by_id[running.id].status == "interrupted"
    assert "while this run was training" in by_id[running.id].message
    assert store.requeue(experiment_id=eid) == 2
    again = store.run(running.id)
    assert (again.status, again.epoch, again.worker_pid, again.message) == ("queued", 0, None, "")
    assert store.history(running.id) == []
    assert store.outcome(done.id) is not None  # a done run is never requeued by accident
    assert store.requeue([done.id]) == 0
    with pytest.raises(StoreError, match="can be re-queued"):
        store.requeue(statuses=("done",))


def test_an_innocent_run_goes_back_to_the_queue_in_one_write_never_seen_interrupted(store, lab_spec, lab_csv) -> None:
    record_statuses(store.path)
    _experiment(store, lab_spec(seeds=(0, 1, 2)), lab_csv)
    innocent, moved_on, other = (store.claim_next(1) for _ in range(3))
    assert innocent is not None and moved_on is not None and other is not None
    store.add_epoch(innocent.id, EpochRow(1, 0.5, 0.5, 0.1), attempt=innocent.attempt)
    store.fail(moved_on.id, "a worker error")  # no longer running in the attempt the caller held
    why = "its worker was stopped to cancel another run of its group"
    assert store.requeue_attempts({innocent.id: innocent.attempt, moved_on.id: moved_on.attempt}, why) == [innocent.id]
    again = store.run(innocent.id)
    assert (again.status, again.epoch, again.worker_pid, again.message) == ("queued", 0, None, why)
    assert store.history(innocent.id) == []
    assert statuses_written(store.path, innocent.id) == ["running", "queued"]  # never 'interrupted'
    assert store.run(moved_on.id).status == "failed" and store.refused_writes(moved_on.id) == [
        (moved_on.id, moved_on.attempt, "'queued'", "failed in attempt 1")]
    assert store.requeue_attempts({}, why) == [] and store.run(other.id).status == "running"


def test_rename_and_delete_cascade_to_runs_results_files_and_dataset(store, lab_spec, lab_csv, tmp_path) -> None:
    sha = store.put_dataset("tiny.csv", lab_csv)
    keep = store.create_experiment(lab_spec("keep"), sha)
    eid = store.create_experiment(lab_spec("gone", seeds=(0, 1)), sha)
    store.rename_experiment(eid, "renamed")
    assert store.experiment(eid).name == "renamed" and store.experiment(eid).spec.name == "renamed"
    with pytest.raises(SpecError):
        store.rename_experiment(eid, " ")
    kept = store.claim_next(1)
    run = store.claim_next(1)
    assert kept is not None and kept.experiment_id == keep
    assert run is not None and run.experiment_id == eid
    with pytest.raises(StoreError, match="still has 1 run training"):
        store.delete_experiment(eid)
    model = tmp_path / "run.keras"
    model.write_bytes(b"model")
    store.finish(run.id, _outcome(), model)
    store.delete_experiment(eid)
    assert not model.exists()
    assert [e.id for e in store.experiments()] == [keep]
    con = sqlite3.connect(store.path)
    try:
        for table in ("epochs", "predictions", "metrics"):
            assert con.execute(f"SELECT COUNT(*) FROM {table} WHERE run_id = ?", (run.id,)).fetchone()[0] == 0
    finally:
        con.close()
    assert store.dataset(sha)[0] == "tiny.csv"  # still used by "keep"
    store.fail(kept.id, "RuntimeError: test")
    store.delete_experiment(keep)
    with pytest.raises(StoreError):
        store.dataset(sha)


def test_reopening_the_file_shows_the_same_data(tmp_path, lab_spec, lab_csv) -> None:
    first = Store(tmp_path / "runs.sqlite")
    eid = _experiment(first, lab_spec(seeds=(0, 1)), lab_csv)
    run = first.claim_next(1)
    assert run is not None
    first.finish(run.id, _outcome())
    second = Store(tmp_path / "runs.sqlite")
    assert second.runs(eid) == first.runs(eid)
    assert second.outcome(run.id) == first.outcome(run.id)
    assert second.experiment(eid).spec == lab_spec(seeds=(0, 1))


def test_json_columns_accept_numpy_values(store, lab_spec, lab_csv) -> None:
    np = pytest.importorskip("numpy")
    _experiment(store, lab_spec(), lab_csv)
    run = store.claim_next(1)
    assert run is not None
    outcome = _outcome()
    outcome.test = make_test([np.int64(0), np.int64(1)], np.array([1.0, 2.0]), np.array([1.5, 2.5]))
    store.finish(run.id, outcome)
    back = store.outcome(run.id)
    assert back is not None and back.test == make_test([0, 1], [1.0, 2.0], [1.5, 2.5])
    assert math.isclose(back.seconds_per_epoch or 0, 0.1)


def test_run_status_sets_partition_the_statuses_as_the_store_uses_them() -> None:
    assert {RunStatus.QUEUED, RunStatus.RUNNING} == ACTIVE and set(RunStatus) - ACTIVE == ENDED
    assert {"done", "diverged", "cancelled"} == FINISHED and FINISHED <= ENDED  # the statuses with an outcome
    assert {"interrupted", "failed", "cancelled"} == REQUEUEABLE and REQUEUEABLE <= ENDED
    assert in_order(REQUEUEABLE) == (RunStatus.CANCELLED, RunStatus.FAILED, RunStatus.INTERRUPTED)
    assert RunStatus("done") is RunStatus.DONE and RunStatus.DONE == "done" and f"{RunStatus.DONE}" == "done"


def test_the_first_migrations_status_check_lists_exactly_the_run_statuses() -> None:
    import re

    check = re.search(r"CHECK \(status IN \(([^)]*)\)\)", MIGRATIONS[0])
    assert check is not None
    assert re.findall(r"'(\w+)'", check.group(1)) == [s.value for s in RunStatus]
    assert "DEFAULT 'queued'" in MIGRATIONS[0] and RunStatus.QUEUED == "queued"


# runs[0] of the results.json that `python -m lstm_app run examples/hotel_h2_replication.json --out o
# --seeds 0 --epochs 2` wrote before results were typed (with its model, model_index and seed): the
# shape stores and results.json files hold, which must keep loading and be written back unchanged.
RESULTS_RUN = json.loads((Path(__file__).parent / "results_run.json").read_text())
RESULTS_JSON_RUN = {k: v for k, v in RESULTS_RUN.items() if k not in ("model", "model_index", "seed")}
# A layer whose outputs were all NaN, as `engine.diagnostics.layer_stats` wrote it: five keys only.
NON_FINITE_LAYER = {"name": "lstm_2", "kind": "lstm", "activation": "relu", "units": 4, "finite": False}


def test_a_run_in_todays_json_shape_loads_typed_and_writes_back_unchanged() -> None:
    out = RunOutcome.from_dict(RESULTS_RUN)  # a results.json run: its model name and seed are ignored
    assert out.status is RunStatus.DONE and out.metrics is not None
    assert out.metrics.rmse == RESULTS_JSON_RUN["metrics"]["rmse"]
    assert out.test is not None and list(out.test.forecast) == RESULTS_JSON_RUN["test"]["forecast"]
    assert out.regions is not None and out.regions.n_test == len(out.test.time) == 10
    (layer,) = out.diagnostics.layers
    assert layer.kind is LayerKind.LSTM and layer.histogram is not None and sum(layer.histogram.counts) == 40
    assert out.to_dict() == RESULTS_JSON_RUN
    assert json.dumps(out.to_dict()) == json.dumps(RESULTS_JSON_RUN)  # same keys in the same order


def test_a_layer_without_finite_outputs_keeps_its_short_shape() -> None:
    layer = LayerStats.from_dict(NON_FINITE_LAYER)
    assert not layer.finite and not layer.has_values and layer.max_abs is None and layer.histogram is None
    assert layer.to_dict() == NON_FINITE_LAYER == make_layer_stats("lstm_2", activation="relu", finite=False).to_dict()


def test_a_diverged_run_keeps_the_empty_parts_of_todays_json_shape() -> None:
    raw = {"status": "diverged", "epochs": [], "message": "the run diverged", "diverged_epoch": 1, "metrics": {},
           "test": {}, "future": {}, "regions": {}, "diagnostics": {}, "params": 12, "seconds_per_epoch": None}
    out = RunOutcome.from_dict(raw)
    assert (out.metrics, out.test, out.future, out.regions, out.diagnostics.layers) == (None, None, None, None, ())
    assert out.to_dict() == raw


def test_a_store_written_before_typed_results_still_loads(store, lab_spec, lab_csv) -> None:
    _experiment(store, lab_spec(), lab_csv)
    run = store.claim_next(1)
    assert run is not None
    store.finish(run.id, _outcome())
    raw = RESULTS_JSON_RUN
    con = sqlite3.connect(store.path)  # the rows an older program wrote for this run
    with con:
        con.execute("UPDATE predictions SET test = ?, future = ?, regions = ?, diagnostics = ? WHERE run_id = ?",
                    (*(json.dumps(raw[k]) for k in ("test", "future", "regions", "diagnostics")), run.id))
        con.execute("DELETE FROM metrics WHERE run_id = ?", (run.id,))
        con.executemany("INSERT INTO metrics (run_id, name, value) VALUES (?, ?, ?)",
                        [(run.id, k, v) for k, v in raw["metrics"].items()])
    con.close()
    back = store.outcome(run.id)
    assert back is not None
    expected = RunOutcome.from_dict(raw)
    assert (back.metrics, back.test, back.future, back.regions, back.diagnostics) == (
        expected.metrics, expected.test, expected.future, expected.regions, expected.diagnostics)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_a_read_only_data_folder_is_said_in_one_sentence(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(StoreError, match=r"is read-only: make its folder writable or set LSTM_LAB_DATA"):
            Store(folder / "runs.sqlite")
    finally:
        folder.chmod(0o755)


def test_a_damaged_store_file_is_said_in_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    path.write_bytes(b"this is not a SQLite file" * 100)
    with pytest.raises(StoreError, match=r"is damaged or not a run store: move it aside"):
        Store(path)


def test_the_experiment_list_reads_names_sources_and_counts_without_parsing_specs(store, lab_spec, lab_csv) -> None:
    sha = store.put_dataset("a.csv", lab_csv)
    ids = [store.create_experiment(lab_spec(f"exp {i}", models=1 + i % 2, seeds=(0, 1)), sha) for i in range(25)]
    recent = store.experiment_list(limit=20)
    assert [e.id for e in recent] == ids[::-1][:20]
    first = recent[0]
    assert (first.name, first.models, first.seeds, first.total, first.active) == ("exp 24", 1, 2, 2, True)
    assert first.source == lab_spec().data.source and first.counts == {RunStatus.QUEUED: 2}
    assert [e.name for e in store.experiment_list(search="P 1")] == [f"exp {i}" for i in (19, 18, 17, 16, 15, 14,
                                                                                           13, 12, 11, 10, 1)]
    assert [e.id for e in store.experiment_list(limit=2, include=ids[0])] == [ids[24], ids[23], ids[0]]
    assert store.experiment_list(search="nothing like it", include=10**6) == []
    assert store.experiment_count() == 25


def test_the_batch_loader_gives_every_run_the_outcome_and_history_it_gives_one_by_one(store, lab_spec,
                                                                                      lab_csv) -> None:
    other = _experiment(store, lab_spec(seeds=(0,)), lab_csv)  # must not leak into the second
    theirs = store.claim_next(2)
    assert theirs is not None and store.finish(theirs.id, _outcome())
    eid = _experiment(store, lab_spec(seeds=tuple(range(7))), lab_csv)
    runs = [store.claim_next(1) for _ in range(7)]
    assert all(r is not None for r in runs)
    done, diverged, cancelled, running, failed, retried, queued = (r.id for r in runs if r is not None)
    store.finish(done, _outcome())
    store.finish(diverged, make_outcome(RunStatus.DIVERGED, epochs=[EpochRow(1, 0.5, None, 0.1, (1.0,))],
                                        diverged_epoch=2, message="loss became NaN"))
    store.add_epoch(cancelled, EpochRow(1, 0.7, 0.8, 0.1))
    store.finish(cancelled, make_outcome(RunStatus.CANCELLED, epochs=[EpochRow(1, 0.7, 0.8, 0.1)]))
    store.add_epoch(running, EpochRow(1, 0.4, 0.5, 0.2, (0.3,)))
    store.fail(failed, "ValueError: bad")
    store.add_epoch(retried, EpochRow(1, 9.0, 9.0, 0.1))  # an earlier attempt's epoch: never shown
    store.mark_interrupted()
    store.requeue([retried, queued])
    store.claim_runs(3, [retried], "keras", "test")
    store.add_epoch(retried, EpochRow(1, 0.1, 0.2, 0.1))
    ids = [r.id for r in store.runs(eid)]
    batch = store.outcomes(eid)
    assert list(batch) == ids
    assert batch == {i: store.outcome(i) for i in ids}
    assert [batch[i] is not None for i in (done, diverged, cancelled, running, failed, retried, queued)] == [
        True, True, True, False, False, False, False]
    histories = store.histories(eid)
    assert histories == {i: h for i in ids if (h := store.history(i))}
    assert histories[retried] == [EpochRow(1, 0.1, 0.2, 0.1)]
    assert set(store.outcomes(other)) == {r.id for r in store.runs(other)}
