"""Export to MLflow (`lstm_app.runs.mlflow_export`), read back with a real MlflowClient from a real
local sqlite:/// tracking store; the exported experiment is the session's trained store."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from helpers import free_port
from lstm_app import presets
from lstm_app.errors import ExportError
from lstm_app.outcome import EpochRow
from lstm_app.runs import Store, load_results, mlflow_export
from lstm_app.runs import runner as jobs
from lstm_app.runs.store import DATA_ENV
from lstm_app.spec import ExperimentSpec, LayerSpec, ModelSpec, TrainingSpec
from lstm_app.ui import PageState
from lstm_app.ui.state import MLFLOW_DEFAULT

mlflow = pytest.importorskip("mlflow", reason="requirements-mlflow.txt is not installed")
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Run  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TAG = "lstm_lab.run_id"


def _uri(folder: Path) -> str:
    return f"sqlite:///{folder / 'mlflow.db'}"


def _runs(client: MlflowClient, name_part: str) -> tuple[str, list[Run]]:
    experiments = [e for e in client.search_experiments() if name_part in e.name]
    assert len(experiments) == 1, [e.name for e in experiments]
    eid = experiments[0].experiment_id
    return eid, client.search_runs([eid], max_results=1000)


def _snapshot(store: Store, eid: int) -> tuple[object, ...]:
    """What the app's store holds for the experiment (an export must leave it as it was)."""
    return (store.experiment(eid), store.runs(eid), store.outcomes(eid))


@pytest.fixture(scope="module")
def exported(trained_store: tuple[Path, int], tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Store, int, str, mlflow_export.ExportSummary]:
    folder, eid = trained_store
    uri = _uri(tmp_path_factory.mktemp("mlflow"))
    store = Store(folder / "runs.sqlite")
    return store, eid, uri, mlflow_export.export_stored(store, eid, uri)


def test_an_experiment_becomes_parents_per_model_and_a_nested_run_per_seed_and_origin(exported) -> None:
    store, eid, uri, summary = exported
    assert (summary.created, summary.replaced, summary.unchanged) == (8, 0, 0)
    client = MlflowClient(uri)
    mlflow_id, runs = _runs(client, f"lab #{eid}")
    assert summary.experiment_id == mlflow_id
    parents = {r.info.run_id: r for r in runs if "mlflow.parentRunId" not in r.data.tags}
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert sorted(r.info.run_name for r in parents.values()) == ["relu", "tanh"]
    assert len(children) == 8 and all(r.data.tags["mlflow.parentRunId"] in parents for r in children)
    app_runs = {str(r.id): r for r in store.runs(eid)}
    assert {r.data.tags[TAG] for r in children} == set(app_runs)
    for run in children:
        app = app_runs[run.data.tags[TAG]]
        assert parents[run.data.tags["mlflow.parentRunId"]].info.run_name == app.model_name
        assert run.data.params["run.seed"] == str(app.seed) and run.data.params["run.origin"] == str(app.origin)
        assert run.data.tags["status"] == "done" and run.data.tags["engine"] == app.engine.value
        assert run.info.status == "FINISHED"


def test_params_metrics_and_history_match_the_store(exported) -> None:
    store, eid, uri, _ = exported
    client = MlflowClient(uri)
    _, runs = _runs(client, f"lab #{eid}")
    experiment = store.experiment(eid)
    relu = next(r for r in store.runs(eid) if r.model_name == "relu" and r.seed == 1)
    run = next(r for r in runs if r.data.tags.get(TAG) == str(relu.id))
    params = run.data.params
    assert params["data.sha256"] == experiment.dataset_sha
    assert params["model.activation"] == "relu" and params["model.recurrent_activation"] == "sigmoid"
    assert params["model.placement"] == "inside" and params["model.units"] == "3"
    assert params["window.lookback"] == "5" and params["window.framing"] == "features"
    assert params["training.epochs"] == "2" and params["backtest.origins"] == "2" and params["model.target"] == "level"
    history = store.history(relu.id)
    loss = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in loss] == [(e.epoch, pytest.approx(e.loss)) for e in history]
    assert [m.step for m in client.get_metric_history(run.info.run_id, "val_loss")] == [1, 2]
    metrics = store.outcome(relu.id).metrics
    assert run.data.metrics["rmse"] == pytest.approx(metrics.rmse)
    for name in ("mae", "mfe", "mda", "skill", "naive_rmse"):
        assert run.data.metrics[name] == pytest.approx(metrics.get(name)), name
    baselines = [k for k in metrics.as_dict() if k.endswith("_rmse") and k != "naive_rmse" and metrics.get(k)]
    assert all(run.data.metrics[k] == pytest.approx(metrics.get(k)) for k in baselines)


def test_artifacts_forecasts_experiment_json_and_verdicts(exported) -> None:
    store, eid, uri, _ = exported
    client = MlflowClient(uri)
    _, runs = _runs(client, f"lab #{eid}")
    child = next(r for r in runs if "mlflow.parentRunId" in r.data.tags)
    parent = next(r for r in runs if r.info.run_name == "tanh")
    child_files = {a.path for a in client.list_artifacts(child.info.run_id)}
    assert "forecasts.csv" in child_files
    app = store.run(int(child.data.tags[TAG]))
    if app.model_path:  # a run trained through Keras keeps its .keras file; the export carries it
        assert Path(app.model_path).name in child_files
    assert {"experiment.json", "verdict.txt", "forecasts.csv"} <= {a.path for a in client.list_artifacts(
        parent.info.run_id)}
    folder = Path(client.download_artifacts(parent.info.run_id, "", str(Path(uri.removeprefix("sqlite:///")).parent
                                                                        / "down")))
    assert store.experiment(eid).spec.to_json() == (folder / "experiment.json").read_text()
    verdict = load_results(store, eid).comparison.models[0].verdict
    assert verdict in (folder / "verdict.txt").read_text()
    rows = (folder / "forecasts.csv").read_text().splitlines()
    assert rows[0] == "seed,origin,time,actual,forecast,naive" and len(rows) > 4


def test_a_second_export_duplicates_nothing_and_leaves_the_store_alone(exported) -> None:
    store, eid, uri, _ = exported
    before = _snapshot(store, eid)
    again = mlflow_export.export_stored(store, eid, uri)
    assert (again.created, again.replaced, again.unchanged) == (0, 0, 8)
    client = MlflowClient(uri)
    _, runs = _runs(client, f"lab #{eid}")
    assert len(runs) == 10
    assert all(len(client.get_metric_history(r.info.run_id, "loss")) == 2 for r in runs
               if "mlflow.parentRunId" in r.data.tags)
    assert _snapshot(store, eid) == before


def test_a_run_that_changed_is_replaced_not_added(exported, tmp_path: Path) -> None:
    """A headless run exported twice, the second time with one run trained an epoch further."""
    store, eid, _, _ = exported
    res = load_results(store, eid)
    outcomes = {k: o for k, o in res.outcomes.items() if o is not None}
    uri = _uri(tmp_path)
    sha = store.experiment(eid).dataset_sha
    first = mlflow_export.export_outcomes(res.spec, sha, len(res.frame), outcomes, {}, res.comparison, uri)
    assert first.created == 8
    key = next(iter(outcomes))
    longer = dataclasses.replace(outcomes[key], epochs=[*outcomes[key].epochs, EpochRow(3, 0.01, 0.02, 0.1)])
    second = mlflow_export.export_outcomes(res.spec, sha, len(res.frame), {**outcomes, key: longer}, {},
                                           res.comparison, uri)
    assert (second.created, second.replaced, second.unchanged) == (0, 1, 7)
    client = MlflowClient(uri)
    _, runs = _runs(client, res.spec.name)
    assert len(runs) == 10
    tag = f"m{key.model}-s{key.seed}-o{key.origin}"
    run = next(r for r in runs if r.data.tags[TAG] == tag)
    assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == [1, 2, 3]


@pytest.mark.parametrize("uri, says", [
    ("http://127.0.0.1:{port}", "cannot be reached"),
    ("foo://nowhere", "is not an MLflow tracking URI"),
    ("sqlite:///{file}/mlflow.db", "cannot be written (a file stands where its folder should be)"),
])
def test_a_bad_uri_is_one_sentence_and_changes_nothing(exported, tmp_path: Path, uri: str, says: str) -> None:
    store, eid, _, _ = exported
    before = _snapshot(store, eid)
    (tmp_path / "file").write_text("not a folder")
    bad = uri.format(port=free_port(), file=tmp_path / "file")
    with pytest.raises(ExportError) as info:
        mlflow_export.export_stored(store, eid, bad)
    text = str(info.value)
    assert says in text and "\n" not in text and text.endswith(".") and len(text) < 300, text
    assert _snapshot(store, eid) == before


def test_without_the_package_the_export_says_how_to_install_it(trained_store: tuple[Path, int]) -> None:
    folder, eid = trained_store
    code = ("import sys; sys.modules['mlflow'] = None\n"  # what a venv without requirements-mlflow.txt sees
            "from lstm_app.cli import main\n"
            f"sys.exit(main(['export-mlflow', '{eid}', '--data-dir', {str(folder)!r}, '--uri', 'sqlite:///x.db']))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         check=False)
    assert out.returncode == 2
    assert out.stderr.strip() == ("error: MLflow is not installed: install it with pip install -r "
                                  "requirements-mlflow.txt, then export again.")


def test_the_cli_exports_a_stored_experiment(trained_store: tuple[Path, int], tmp_path: Path) -> None:
    folder, eid = trained_store
    uri = _uri(tmp_path)
    cmd = [sys.executable, "-m", "lstm_app", "export-mlflow", str(eid), "--data-dir", str(folder), "--uri", uri]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=180, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("8 new, 0 updated, 0 unchanged."), out.stdout
    assert len(_runs(MlflowClient(uri), f"lab #{eid}")[1]) == 10
    cmd[-1] = f"http://127.0.0.1:{free_port()}"
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=180, check=False)
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert out.stderr.startswith("error: The MLflow server at") and "cannot be reached" in out.stderr


def test_run_with_mlflow_trains_then_exports_and_a_bad_uri_stops_it_before_training(tmp_path: Path) -> None:
    """`run … --mlflow URI`: a real tiny headless run (1 model × 2 seeds, 2 epochs, its .keras files saved)."""
    base = presets.hotel_replication()
    spec = ExperimentSpec("cli tiny", base.data, (ModelSpec("tanh", (LayerSpec(3),)),), base.window, base.split,
                          TrainingSpec(epochs=2, batch_size=16, seeds=(0, 1), patience=0))
    exp_file = tmp_path / "exp.json"
    exp_file.write_text(spec.to_json())
    uri = _uri(tmp_path)
    cmd = [sys.executable, "-m", "lstm_app", "run", str(exp_file), "--out", str(tmp_path / "out"), "--save-models",
           "--mlflow", f"http://127.0.0.1:{free_port()}"]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=240, check=False)
    assert out.returncode == 2 and "cannot be reached" in out.stderr and "epochs" not in out.stdout, out.stdout
    cmd[-1] = uri
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=240, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("2 new, 0 updated, 0 unchanged."), out.stdout[-500:]
    client = MlflowClient(uri)
    _, runs = _runs(client, "cli tiny")
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(runs) == 3 and sorted(r.data.tags[TAG] for r in children) == ["m0-s0-o0", "m0-s1-o0"]
    assert all(r.info.status == "FINISHED" and r.info.end_time for r in runs)
    for run in children:
        assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == [1, 2]
        files = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"forecasts.csv", f"tanh-seed{run.data.params['run.seed']}.keras"} <= files, files


def test_send_to_mlflow_from_the_compare_page(trained_store: tuple[Path, int], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    folder, eid = trained_store
    monkeypatch.setenv(DATA_ENV, str(folder))
    jobs.get_runner(folder / "runs.sqlite", concurrency=1, idle_seconds=1.0)
    try:
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=240).run()
        at = at.switch_page("app_pages/compare.py").run()
        field = at.text_input(key=PageState.MLFLOW_URI)
        assert field.value == MLFLOW_DEFAULT
        field.input(f"http://127.0.0.1:{free_port()}")
        at = at.button(key=PageState.MLFLOW_SEND).click().run()
        assert len(at.error) == 1 and "cannot be reached" in at.error[0].value and not at.exception
        uri = _uri(tmp_path)
        at.text_input(key=PageState.MLFLOW_URI).input(uri)
        at = at.button(key=PageState.MLFLOW_SEND).click().run()
        assert not at.error and "8 new, 0 updated, 0 unchanged" in at.success[-1].value.replace("\\", "")
        at = at.switch_page("app_pages/data.py").run().switch_page("app_pages/compare.py").run()
        assert at.text_input(key=PageState.MLFLOW_URI).value == uri  # remembered for the session
        assert len(_runs(MlflowClient(uri), f"lab #{eid}")[1]) == 10
    finally:
        jobs.shutdown_all()
