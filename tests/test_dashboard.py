"""The Streamlit page, driven headless with AppTest against a temporary run store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lstm_app.data.samples import sample_path
from lstm_app.errors import DataError
from lstm_app.page_state import esc, read_upload
from lstm_app.runs import runner as jobs
from lstm_app.runs.store import DATA_ENV, Store

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "dashboard.py")
HOTEL = "hotel_h2_weekly_cancellations.csv"


@pytest.fixture
def page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    """The page on an empty store in tmp_path, its runner limited to one worker."""
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    jobs.get_runner(tmp_path / "runs.sqlite", concurrency=1, idle_seconds=1.0)
    yield AppTest.from_file(PAGE, default_timeout=60)
    jobs.shutdown_all()


@pytest.fixture
def trained_page(trained_store: tuple[Path, int], monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    """The page on the store that holds a finished tiny experiment."""
    folder, _ = trained_store
    monkeypatch.setenv(DATA_ENV, str(folder))
    jobs.get_runner(folder / "runs.sqlite", concurrency=1, idle_seconds=1.0)
    yield AppTest.from_file(PAGE, default_timeout=60)
    jobs.shutdown_all()


def markdown(at: AppTest) -> str:
    return "\n".join(str(m.value) for m in at.markdown)


def frames(at: AppTest) -> list:
    return [d.value for d in at.dataframe]


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    """What the uploader's on_change callback stores, fed in directly (AppTest cannot upload)."""
    at.session_state["source_kind"] = "Upload a CSV"
    at.session_state["upload"] = (name, content)
    return at.run()


def test_a_bundled_sample_shows_preview_time_column_and_frequency(page: AppTest) -> None:
    page.run()
    assert not page.exception
    assert not page.error
    text = markdown(page)
    assert "Time column: **Date**" in text and "Frequency: **weekly**" in text
    assert any(list(f.columns) == ["Date", "Cancellations"] and len(f) == 115 for f in frames(page))
    assert page.selectbox(key="target").value == "Cancellations"
    assert page.sidebar.selectbox(key="sample").value == HOTEL
    assert page.get("plotly_chart"), "the series preview chart is drawn"


def test_a_bad_upload_is_one_error_sentence_and_nothing_else_breaks(page: AppTest) -> None:
    upload(page, "notes.csv", b"name,comment\nalpha,hello\nbeta,world\n")
    assert not page.exception
    assert len(page.error) == 1
    message = page.error[0].value
    assert message.endswith(".") and "Traceback" not in message and message.count(". ") == 0
    # the rest of the page still works: the models and their counts are there
    assert page.button(key="train").disabled
    assert any("Formula" in f.columns for f in frames(page))


def test_an_empty_upload_is_one_error_sentence(page: AppTest) -> None:
    upload(page, "empty.csv", b"")
    assert not page.exception
    assert [e.value for e in page.error] == [
        "The file 'empty.csv' is empty: upload a CSV with a header row and one row per time step."]


def test_a_good_upload_is_read_with_its_frequency(page: AppTest) -> None:
    upload(page, "air.csv", sample_path("airline_passengers_monthly.csv").read_bytes())
    assert not page.exception and not page.error
    assert "Frequency: **monthly**" in markdown(page)
    assert page.selectbox(key="target").value == "passengers"


def test_user_text_is_escaped_not_interpreted(page: AppTest) -> None:
    csv = b"date,**bold** $x$ <b>y</b>\n" + b"".join(f"2020-01-{d:02d},{d * 1.5}\n".encode() for d in range(1, 29))
    upload(page, "<i>odd</i> *name*.csv", csv)
    assert not page.exception and not page.error
    text = markdown(page)
    assert esc("<i>odd</i> *name*.csv") in text and "<i>odd</i>" not in text
    assert page.selectbox(key="target").value == "**bold** $x$ <b>y</b>"  # a widget option is plain text


def test_escape_helper_neutralises_markdown_latex_and_html() -> None:
    assert esc("**a** _b_ $c$ <d> [e](f) :red[g]") == (
        r"\*\*a\*\* \_b\_ \$c\$ \<d\> \[e\]\(f\) \:red\[g\]")
    assert esc("line\nbreak") == "line break"


def test_read_upload_raises_data_error_for_bad_bytes() -> None:
    with pytest.raises(DataError):
        read_upload("x.csv", b"a,b\nx,y\n")


def test_seed_question_preset_loads_three_models(page: AppTest) -> None:
    page.run()
    page.button(key="preset_hotel H2 replication").click().run()
    page.button(key="preset_tanh vs ReLU inside vs ReLU between").click().run()
    assert not page.exception
    names = [m["name"] for m in page.session_state["models"]]
    assert names == ["tanh", "relu inside", "relu between"]
    assert [page.text_input(key=f"name_{m['uid']}").value for m in page.session_state["models"]] == names


def test_hotel_preset_sets_the_published_recipe_and_counts_per_layer(page: AppTest) -> None:
    page.run()
    page.button(key="preset_hotel H2 replication").click().run()
    assert not page.exception and not page.error
    assert [m["name"] for m in page.session_state["models"]] == ["tanh", "relu"]
    assert page.number_input(key="lookback").value == 5
    assert page.selectbox(key="framing").value == "features"
    assert page.number_input(key="batch_size").value == 1
    assert page.number_input(key="test_size").value == 10
    assert page.number_input(key="n_seeds").value == 5
    formulas = [f for f in frames(page) if "Formula" in f.columns]
    assert len(formulas) == 2
    for table in formulas:
        assert list(table["Formula"])[:2] == ["4 × 4 × (4 + 5 + 1) = 160", "(4 + 1) × 1 = 5"]
        assert list(table["Params"])[-1] == "165"
    assert any("80 training windows, 20 validation, 10 test" in c.value for c in page.caption)


def test_parameter_counts_show_formulas_for_every_layer_of_the_default_models(page: AppTest) -> None:
    page.run()
    tables = [f for f in frames(page) if "Formula" in f.columns]
    assert len(tables) == 3
    tanh, _inside, between = (list(t["Formula"]) for t in tables)
    assert tanh[0] == "4 × 64 × (64 + 1 + 1) = 16,896" and tanh[1] == "4 × 32 × (32 + 64 + 1) = 12,416"
    assert between[1] == "no weights = 0"
    assert len({list(t["Params"])[-1] for t in tables}) == 1, "activations do not change the count"
    assert page.get("plotly_chart"), "the parameter comparison chart is drawn"


def test_a_model_can_be_added_duplicated_and_removed(page: AppTest) -> None:
    page.run()
    page.button(key="add_model").click().run()
    models = page.session_state["models"]
    assert len(models) == 4 and models[-1]["name"] == "model"
    page.button(key=f"dup_{models[0]['uid']}").click().run()
    models = page.session_state["models"]
    assert [m["name"] for m in models][-1] == "tanh copy"
    page.button(key=f"rm_{models[1]['uid']}").click().run()
    assert [m["name"] for m in page.session_state["models"]] == ["tanh", "relu between", "model", "tanh copy"]
    assert not page.exception


def test_a_sweep_replaces_the_models(page: AppTest) -> None:
    page.run()
    page.multiselect(key="sweep_acts").set_value(["tanh", "relu", "elu"])
    page.text_input(key="sweep_units").set_value("8,4; 8")
    page.button(key="sweep").click().run()
    names = [m["name"] for m in page.session_state["models"]]
    assert names[:3] == ["tanh 8→4", "relu inside 8→4", "relu between 8→4"]
    assert len(names) == 8  # 8→4: tanh + 2 activations × 2 placements; 8: tanh, relu inside, elu inside
    page.text_input(key="sweep_units").set_value("eight").run()
    page.button(key="sweep").click().run()
    assert len(page.error) == 1 and not page.exception


def test_train_submits_the_experiment_and_creates_runs_in_the_store(page: AppTest, tmp_path: Path) -> None:
    page.run()
    page.button(key="preset_hotel H2 replication").click().run()
    page.number_input(key="epochs").set_value(1)
    page.number_input(key="n_seeds").set_value(1)
    page.text_input(key="exp_name").set_value("smoke").run()
    start = time.monotonic()
    page.button(key="train").click().run()
    assert time.monotonic() - start < 20, "Train returns at once"
    assert not page.exception and not page.error
    store = Store(tmp_path / "runs.sqlite")
    (experiment,) = store.experiments()
    assert experiment.name == "smoke" and experiment.spec.training.epochs == 1
    runs = store.runs(experiment.id)
    assert [(r.model_name, r.seed) for r in runs] == [("tanh", 0), ("relu", 0)]
    assert all(r.status in ("queued", "running", "done") for r in runs)
    assert any("submitted" in s.value for s in page.success)
    assert page.session_state["experiment_id"] == experiment.id
    assert any(f"Progress of experiment {experiment.id}" in h.value for h in page.subheader)


def test_a_finished_experiment_renders_the_compare_section(trained_page: AppTest) -> None:
    at = trained_page.run()
    assert not at.exception
    assert not at.error
    charts = at.get("plotly_chart")
    assert len(charts) >= 7  # series, params, forecast, params, loss, replication, histograms, gradients
    text = markdown(at)
    assert "**Verdicts**" in text and "tanh: the reference" in text.replace("\\", "")
    tables = frames(at)
    metrics = next(f for f in tables if "RMSE" in f.columns and "Seeds" in f.columns)
    assert list(metrics.index)[-1] == "naive (last value)"
    assert "±" in metrics.loc["tanh", "RMSE"]
    inside = next(f for f in tables if "Dead units" in f.columns)
    assert list(inside["cuDNN on GPU"]) == ["yes", "no"]
    assert any("cuDNN applies only on a GPU" in c.value or "only on a GPU" in c.value for c in at.caption)
    assert {b.label for b in at.get("download_button")} >= {"Metrics CSV", "Experiment JSON", "Keras code"}


def test_per_seed_toggle_and_reference_selector(trained_page: AppTest, trained_store: tuple[Path, int]) -> None:
    _, eid = trained_store
    at = trained_page.run()
    at.toggle(key="per_seed").set_value(True).run()
    assert not at.exception
    per_seed = next(f for f in frames(at) if "Seed" in f.columns)
    assert len(per_seed) == 4 and set(per_seed["Status"]) == {"done"}
    at.selectbox(key=f"reference_{eid}").set_value(1).run()
    assert not at.exception
    assert "relu: the reference" in markdown(at).replace("\\", "")


def test_history_renames_reruns_and_deletes_an_experiment(page: AppTest, tmp_path: Path, lab_spec,
                                                          lab_csv) -> None:
    store = Store(tmp_path / "runs.sqlite")
    eid = store.create_experiment(lab_spec("old name"), store.put_dataset("tiny.csv", lab_csv))
    store.cancel_experiment(eid)
    page.run()
    assert not page.exception
    assert page.sidebar.selectbox(key="history_pick").value == eid
    page.sidebar.text_input(key="rename_to").set_value("new name")
    page.sidebar.button(key="rename").click().run()
    assert store.experiment(eid).name == "new name"
    page.sidebar.button(key="rerun").click().run()
    newest = store.experiments()[0]
    assert newest.id != eid and newest.name == "new name (re-run)" and newest.total == 1
    assert page.session_state["experiment_id"] == newest.id and not page.exception
    page.sidebar.selectbox(key="history_pick").set_value(eid).run()
    page.sidebar.button(key="delete").click().run()
    assert [e.id for e in store.experiments()] == [newest.id] and not page.exception


PROBE = """
import os, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=60).run()
at.button(key="preset_hotel H2 replication").click().run()
assert not at.exception, at.exception
from lstm_app.runs import runner as jobs
jobs.shutdown_all()
loaded = [m for m in sys.modules if m == "tensorflow" or m.startswith(("tensorflow.", "keras"))]
print("TF-LOADED" if loaded else "TF-FREE")
"""


def test_the_page_process_never_imports_tensorflow(tmp_path: Path) -> None:
    env = {**os.environ, DATA_ENV: str(tmp_path), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", PROBE, PAGE], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "TF-FREE"
