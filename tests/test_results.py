"""lstm_app.runs.results (loading one experiment's results from the store, TF-free) and lstm_app.report.results."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest

from lstm_app import report, runs
from lstm_app.errors import StoreError
from lstm_app.outcome import EpochRow
from lstm_app.runs.store import Store


def test_load_returns_spec_series_outcomes_and_comparison(trained_store: tuple[Path, int]) -> None:
    folder, eid = trained_store
    res = runs.load_results(Store(folder / "runs.sqlite"), eid)
    assert res.spec.name == "tiny hotel"
    assert res.frame_error is None and res.frame is not None
    assert len(res.actual) == 115 and res.actual.name == "Cancellations"
    assert set(res.outcomes) == {(i, s, o) for i in (0, 1) for s in (0, 1) for o in (0, 1)}
    assert all(o is not None and o.status == "done" for o in res.outcomes.values())
    assert res.has_forecasts and not res.active and res.finished == 8
    assert set(res.latest) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    # the workers trained each origin on its own rows: consecutive test periods of 10 weeks
    first, last = res.outcomes[(0, 0, 0)], res.outcomes[(0, 0, 1)]
    assert first is not None and last is not None and first.test is not None and last.test is not None
    assert first.test.time[-1] < last.test.time[0] and len(first.test.recursive) == 10
    assert last.test.time[-1] == res.frame.index[-1].isoformat()  # type: ignore[union-attr]
    assert res.comparison.models[1].vs_reference is not None
    assert res.comparison.models[1].vs_reference.rmse.n == 4  # 2 seeds × 2 origins
    assert [m.name for m in res.comparison.models] == ["tanh", "relu"]
    assert res.comparison.reference == "tanh"
    assert all(m.seeds_done == 4 for m in res.comparison.models)  # runs: seeds × origins


def test_reference_is_passed_to_summarize_and_clamped(trained_store: tuple[Path, int]) -> None:
    folder, eid = trained_store
    store = Store(folder / "runs.sqlite")
    assert runs.load_results(store, eid, reference=1).comparison.reference == "relu"
    assert runs.load_results(store, eid, reference=7).comparison.reference == "tanh"


def test_unfinished_runs_get_their_partial_history(trained_store: tuple[Path, int], tmp_path: Path) -> None:
    folder, eid = trained_store
    source = Store(folder / "runs.sqlite")
    row = source.experiment(eid)
    store = Store(tmp_path / "runs.sqlite")
    name, content = source.dataset(row.dataset_sha)
    sha = store.put_dataset(name, content)
    new = store.create_experiment(row.spec, sha)
    run = store.runs(new)[0]
    store.claim_next(worker_pid=12345)
    store.add_epoch(run.id, EpochRow(1, 0.5, 0.6, 0.1, (0.2,)))
    res = runs.load_results(store, new)
    first = res.outcomes[(run.model_index, run.seed, run.origin)]
    assert first is not None and first.status == "running" and run.origin == 1  # the latest origin first
    assert [e.loss for e in first.epochs] == [0.5]
    assert res.outcomes[(1, 1, 0)] is not None and res.outcomes[(1, 1, 0)].status == "queued"
    assert res.active and not res.has_forecasts
    assert all(m.seeds_done == 0 for m in res.comparison.models)


def test_unknown_experiment_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="No experiment 99"):
        runs.load_results(Store(tmp_path / "runs.sqlite"), 99)


def test_inside_table_has_a_row_per_model_and_layer(trained_store: tuple[Path, int]) -> None:
    folder, eid = trained_store
    res = runs.load_results(Store(folder / "runs.sqlite"), eid)
    table = report.inside_table(res.spec, res.latest)  # what the page shows: the latest origin
    assert list(table["Model"]) == ["tanh", "relu"]
    assert list(table["cuDNN on GPU"]) == ["yes", "no"]
    assert (table["Seeds"] == 2).all()
    assert all(math.isfinite(v) and v >= 0 for v in table["max |h|"])
    assert all(0 <= v <= 1 for v in table["Dead units"])
    assert all(v > 0 for v in table["s/epoch (CPU)"])


def test_keras_script_is_python_with_one_block_per_model(trained_store: tuple[Path, int]) -> None:
    folder, eid = trained_store
    spec = Store(folder / "runs.sqlite").experiment(eid).spec
    code = report.keras_script(spec)
    ast.parse(code)
    assert code.count("keras.Sequential(") == 2
    assert "activation='relu'" in code and "shape=(1, 5)" in code


def test_styled_table_highlights_the_best_cell_per_column(trained_store: tuple[Path, int]) -> None:
    folder, eid = trained_store
    comparison = runs.load_results(Store(folder / "runs.sqlite"), eid).comparison
    html = report.styled_table(comparison).to_html()
    best = comparison.best()
    assert best and html.count("background-color: rgba(46, 160, 67, 0.28)") >= 1
    assert "naive (last value)" in html


def test_keras_script_keeps_hostile_names_inside_comments() -> None:
    from lstm_app.spec import DataSpec, ExperimentSpec, LayerSpec, ModelSpec

    spec = ExperimentSpec('x"""; print("exp"); """\\', DataSpec("f.csv", "y"),
                          (ModelSpec('m"""\nprint("model")  #\x00', (LayerSpec(2),)),
                           ModelSpec("ok\r\nimport os", (LayerSpec(2),))))
    code = report.keras_script(spec)
    tree = ast.parse(code)
    calls = [node.func for node in ast.walk(tree) if isinstance(node, ast.Call)]
    assert not any(isinstance(f, ast.Name) and f.id == "print" for f in calls)
    assert not any(isinstance(node, ast.Import) and node.names[0].name == "os" for node in ast.walk(tree))
    assert sum(isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) for node in tree.body) == 0
    assert code.count("keras.Sequential(") == 2
