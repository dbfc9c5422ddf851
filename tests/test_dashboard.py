"""The Streamlit pages, driven headless with AppTest against a temporary run store."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lstm_app.errors import DataError
from lstm_app.runs import runner as jobs
from lstm_app.runs import schedule
from lstm_app.runs.store import DATA_ENV, Store
from lstm_app.text import md_escape as esc
from lstm_app.ui import Draft, PageState
from lstm_app.ui.forms import read_upload

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "dashboard.py")
HOTEL = "hotel_h2_weekly_cancellations.csv"
SHOP = b"date,sales,temp\n" + b"".join(
    f"2021-{1 + i // 28:02d}-{1 + i % 28:02d},{100 + i * 3 + (i % 4) * 5},{10 + i % 7}\n".encode() for i in range(60))


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


def go(at: AppTest, name: str) -> AppTest:
    """Open one of the pages: data, models, train or compare."""
    return at.switch_page(f"app_pages/{name}.py").run()


def draft(at: AppTest) -> Draft:
    return PageState(at.session_state).draft


def names(at: AppTest) -> list[str]:
    return [m.name for m in draft(at).models]


def markdown(at: AppTest) -> str:
    return "\n".join(str(m.value) for m in at.markdown)


def plain(text: str) -> str:
    """Markdown as the reader sees it: escapes and invisible word joiners removed."""
    return text.replace("\\", "").replace("\u2060", "")


def frames(at: AppTest) -> list:
    return [d.value for d in at.dataframe]


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    """Upload a file through the Data page's real file uploader."""
    if PageState(at.session_state).draft.kind != "upload":
        at.radio(key="source_kind").set_value("upload").run()
    at.file_uploader(key="uploader").upload(name, content, "text/csv")
    return at.run()


def import_json(at: AppTest, raw: dict) -> AppTest:
    at.sidebar.file_uploader(key="import_json").upload("experiment.json", json.dumps(raw).encode(), "application/json")
    return at.run()


# -- data ---------------------------------------------------------------------------------------------


def test_a_bundled_sample_shows_preview_time_column_and_frequency(page: AppTest) -> None:
    page.run()
    assert not page.exception and not page.error
    assert "Time column: **Date**" in markdown(page) and "Frequency: **weekly**" in markdown(page)
    assert any(list(f.columns) == ["Date", "Cancellations"] and len(f) == 115 for f in frames(page))
    assert page.selectbox(key="target").value == "Cancellations"
    assert page.selectbox(key="sample").value == HOTEL
    assert page.get("plotly_chart"), "the series preview chart is drawn"
    assert page.query_params["draft"] == PageState(page.session_state).draft_id


def test_a_bad_upload_is_one_error_sentence_and_nothing_else_breaks(page: AppTest) -> None:
    upload(page.run(), "notes.csv", b"name,comment\nalpha,hello\nbeta,world\n")
    assert not page.exception
    assert len(page.error) == 1
    message = plain(page.error[0].value)
    assert message.endswith(".") and "Traceback" not in message and message.count(". ") == 0
    assert draft(page).upload is None  # the unusable file is not taken
    assert go(page, "train").button(key="train").disabled
    assert any("Formula" in f.columns for f in frames(go(page, "models")))


def test_an_empty_upload_is_one_error_sentence(page: AppTest) -> None:
    upload(page.run(), "empty.csv", b"")
    assert not page.exception
    assert [e.value for e in page.error] == [
        esc("The file 'empty.csv' is empty: upload a CSV with a header row and one row per time step.")]


def test_user_text_is_escaped_not_interpreted(page: AppTest) -> None:
    csv = b"date,**bold** $x$ <b>y</b>\n" + b"".join(f"2020-01-{d:02d},{d * 1.5}\n".encode() for d in range(1, 29))
    upload(page.run(), "<i>odd</i> *name* https://x.example.csv", csv)
    assert not page.exception and not page.error
    text = markdown(page)
    assert esc("<i>odd</i> *name* https://x.example.csv") in text and "<i>odd</i>" not in text
    assert "https://" not in text
    assert page.selectbox(key="target").value == "**bold** $x$ <b>y</b>"  # a widget option is plain text


def test_read_upload_raises_data_error_for_bad_bytes() -> None:
    with pytest.raises(DataError):
        read_upload("x.csv", b"a,b\nx,y\n")


# -- models ---------------------------------------------------------------------------------------------


def test_presets_load_their_models_and_the_hotel_recipe_counts_per_layer(page: AppTest) -> None:
    go(page.run(), "models")
    page.button(key="preset_hotel H2 replication").click().run()
    assert not page.exception and not page.error
    assert names(page) == ["tanh", "relu"] and PageState(page.session_state).confirm_preset is None
    values = {k: page.number_input(key=k).value for k in ("lookback", "batch_size", "test_size", "n_seeds", "origins")}
    assert values == {"lookback": 5, "batch_size": 1, "test_size": 10, "n_seeds": 10, "origins": 5}
    assert page.selectbox(key="framing").value == "features"
    formulas = [f for f in frames(page) if "Formula" in f.columns]
    assert len(formulas) == 2
    for table in formulas:
        assert list(table["Formula"])[:2] == ["4 × 4 × (4 + 5 + 1) = 160", "(4 + 1) × 1 = 5"]
        assert list(table["Params"])[-1] == "165"
    page.button(key="preset_tanh vs ReLU inside vs ReLU between").click().run()
    assert names(page) == ["tanh", "relu inside", "relu between"]
    assert [page.text_input(key=f"name_{m.uid}").value for m in draft(page).models] == names(page)
    assert any("80 training windows, 20 validation, 10 test" in c.value for c in go(page, "train").caption)


def test_the_hotel_preset_asks_before_it_replaces_uploaded_data(page: AppTest) -> None:
    upload(page.run(), "shop.csv", SHOP)
    go(page, "models").button(key="preset_hotel H2 replication").click().run()
    assert draft(page).kind == "upload" and len(page.warning) == 1 and "shop\\.csv" in page.warning[0].value
    page.button(key="preset_keep").click().run()
    assert draft(page).kind == "upload" and draft(page).target == "sales" and names(page) == ["tanh", "relu"]
    assert page.number_input(key="lookback").value == 5 and not page.warning
    page.button(key="preset_hotel H2 replication").click().run()
    page.button(key="preset_switch").click().run()
    assert (draft(page).kind, draft(page).target) == ("sample", "Cancellations")


def test_parameter_counts_show_formulas_for_every_layer_of_the_default_models(page: AppTest) -> None:
    go(page.run(), "models")
    tables = [f for f in frames(page) if "Formula" in f.columns]
    assert len(tables) == 3
    tanh, _inside, between = (list(t["Formula"]) for t in tables)
    assert tanh[0] == "4 × 32 × (32 + 1 + 1) = 4,352" and tanh[1] == "4 × 16 × (16 + 32 + 1) = 3,136"
    assert between[1] == "no weights = 0"
    assert len({list(t["Params"])[-1] for t in tables}) == 1, "activations do not change the count"
    assert page.get("plotly_chart"), "the parameter comparison chart is drawn"


def test_the_target_select_sets_the_submitted_models_target_and_the_advice_shows_why(page: AppTest,
                                                                                    tmp_path: Path) -> None:
    go(page.run(), "models")
    models = draft(page).models
    assert [m.target for m in models] == ["difference"] * 3, "the seed preset's models take the advised target"
    assert any(plain(c.value).startswith("Differenced: the series is not level-stationary by KPSS")
               for c in page.caption)
    first = models[0].uid
    assert page.selectbox(key=f"target_{first}").value == "difference"
    page.selectbox(key=f"target_{first}").set_value("level").run()
    page.button(key=f"dup_{first}").click().run()
    assert [m.target for m in draft(page).models] == ["level", "difference", "difference", "level"]
    assert draft(page).targets_touched and not page.exception
    page.number_input(key="epochs").set_value(1)
    page.number_input(key="n_seeds").set_value(1).run()
    page.number_input(key="origins").set_value(1).run()
    go(page, "train")
    page.button(key="train").click().run()
    assert not page.exception and not page.error
    (experiment,) = Store(tmp_path / "runs.sqlite").experiments()
    assert [m.target for m in experiment.spec.models] == ["level", "difference", "difference", "level"]


def test_the_forecast_select_and_horizon_make_a_direct_model_and_its_head_count(page: AppTest) -> None:
    go(page.run(), "models")
    first = draft(page).models[0].uid
    assert page.selectbox(key=f"strategy_{first}").value == "recursive"
    page.selectbox(key=f"strategy_{first}").set_value("direct").run()
    assert any("argument `horizon`" in plain(e.value) for e in page.error), "a direct model needs a horizon"
    page.number_input(key=f"horizon_{first}").set_value(6).run()
    model = draft(page).models[0]
    assert (model.strategy, model.horizon) == ("direct", 6) and not page.error and not page.exception
    spec = model.spec()
    table = next(f for f in frames(page) if "Formula" in f.columns)
    assert list(table["Layer"])[-2] == "Dense 6 (output, direct)" and spec.outputs == 6
    assert list(table["Formula"])[-2] == "(16 + 1) × 6 = 102"
    page.number_input(key=f"horizon_{first}").set_value(0).run()
    assert draft(page).models[0].horizon is None


def test_a_model_can_be_added_duplicated_and_removed_and_a_sweep_replaces_them(page: AppTest) -> None:
    go(page.run(), "models")
    page.button(key="add_model").click().run()
    models = draft(page).models
    assert len(models) == 4 and models[-1].name == "model"
    page.button(key=f"dup_{models[0].uid}").click().run()
    assert names(page)[-1] == "tanh copy"
    page.button(key=f"rm_{draft(page).models[1].uid}").click().run()
    assert names(page) == ["tanh", "relu between", "model", "tanh copy"] and not page.exception
    page.multiselect(key="sweep_acts").set_value(["tanh", "relu", "elu"])
    page.text_input(key="sweep_units").set_value("8,4; 8")
    page.button(key="sweep").click().run()
    assert names(page)[:3] == ["tanh 8→4", "relu inside 8→4", "relu between 8→4"]
    assert len(names(page)) == 8  # 8→4: tanh + 2 activations × 2 placements; 8: tanh, relu inside, elu inside
    page.text_input(key="sweep_units").set_value("eight").run()
    page.button(key="sweep").click().run()
    assert len(page.error) == 1 and not page.exception


# -- train, compare, history ------------------------------------------------------------------------------


def test_too_many_backtest_origins_are_one_sentence_on_the_train_page(page: AppTest, tmp_path: Path) -> None:
    go(page.run(), "models")
    page.number_input(key="origins").set_value(40).run()
    go(page, "train")
    assert not page.exception and len(page.error) == 1
    text = plain(page.error[0].value)
    assert text.startswith("40 backtest origins need") and "use at most 5 origins" in text, text
    assert not any(b.key == "train" and not b.disabled for b in page.button), "nothing to train"
    assert Store(tmp_path / "runs.sqlite").experiments() == []


def test_a_target_transform_the_series_cannot_take_is_one_sentence_on_the_train_page(page: AppTest,
                                                                                     tmp_path: Path) -> None:
    go(page.run(), "models")
    first = draft(page).models[0]
    page.selectbox(key=f"target_{first.uid}").set_value("seasonal difference").run()
    go(page, "train")
    assert not page.exception and len(page.error) == 1
    text = plain(page.error[0].value)
    assert text.startswith(f"Model '{first.name}': a seasonal difference of lag 52 leaves 63 rows"), text
    assert not any(b.key == "train" and not b.disabled for b in page.button), "nothing to train"
    assert Store(tmp_path / "runs.sqlite").experiments() == []


def test_train_submits_the_experiment_and_creates_runs_in_the_store(page: AppTest, tmp_path: Path) -> None:
    go(page.run(), "models")
    page.button(key="preset_hotel H2 replication").click().run()
    page.number_input(key="epochs").set_value(1)
    page.number_input(key="n_seeds").set_value(1).run()
    page.number_input(key="origins").set_value(1).run()
    go(page, "train")
    assert any("2 models × 1 seed = 2 runs of 1 epoch on" in c.value for c in page.caption)
    estimate = next(c.value for c in page.caption if c.value.startswith("Estimated time: about "))
    assert "on one worker" in estimate and "with reference rates" in estimate and "calibrate" in estimate
    assert "for a worker to start" in estimate  # no worker runs yet: its start is counted in
    # Rates measured on this machine (`python -m lstm_app calibrate`) are what the estimate then uses.
    schedule.save_rates(tmp_path, {"keras_overhead": 0.2, "batched_overhead": 0.2})  # a very slow machine
    page.run()
    slow = next(c.value for c in page.caption if c.value.startswith("Estimated time: about "))
    assert "with this machine's measured rates" in slow and slow != estimate, (estimate, slow)
    page.text_input(key="exp_name").set_value("smoke").run()
    # Train returns at once: with the runner's supervisor held (no worker can start), the click
    # completes and every run is still queued (a page that waited for training would time out).
    with jobs.get_runner(tmp_path / "runs.sqlite")._lock:
        page.button(key="train").click().run()
        store = Store(tmp_path / "runs.sqlite")
        (experiment,) = store.experiments()
        runs = store.runs(experiment.id)
        assert [r.status for r in runs] == ["queued", "queued"]
        assert any("submitted: 2 runs queued" in s.value for s in page.success)
        # The progress: a line and a grid per model (a cell per run), each model with its own Cancel.
        blocks = [h.proto.body for h in page.get("html")]
        assert sum("<b>tanh</b> <span" in b and "1 queued" in b for b in blocks) == 1, blocks
        assert any('title="relu · seed 0: queued, waiting for a worker"' in b for b in blocks), blocks
        assert any("2 runs: 2 queued" in m.value for m in page.markdown)
        assert not page.toggle(key="progress_rows").value  # the per-run rows only on demand
        page.button(key="cancel_model_1").click().run()
        assert [r.status for r in store.runs(experiment.id)] == ["queued", "cancelled"]
        page.toggle(key="progress_rows").set_value(True).run()
        assert [plain(p.proto.text) for p in page.get("progress")] == [
            "queued, waiting for a worker", "cancelled: cancelled before it started"]
        runs = store.runs(experiment.id)
    assert not page.exception and not page.error
    assert experiment.name == "smoke" and experiment.spec.training.epochs == 1
    assert [(r.model_name, r.seed) for r in runs] == [("tanh", 0), ("relu", 0)]
    assert runs[0].status == "queued" and runs[1].status == "cancelled"
    assert PageState(page.session_state).experiment_id == experiment.id
    assert page.query_params["experiment"] == str(experiment.id)
    assert any(f"Progress of experiment {experiment.id}" in h.value for h in page.subheader)
    assert page.text_input(key="exp_name").value == "", "the next experiment gets a fresh default name"


def test_a_finished_experiment_renders_the_compare_page(trained_page: AppTest) -> None:
    at = go(trained_page.run(), "compare")
    assert not at.exception and not at.error
    # forecast, params, RMSE by horizon, loss, replication, histograms, gradients
    assert len(at.get("plotly_chart")) >= 7
    horizon = next(c for c in at.get("plotly_chart") if "RMSE by forecast horizon" in c.proto.spec)
    assert '"naive (last value)"' in horizon.proto.spec
    text = plain(markdown(at))
    assert "**Verdicts**" in text and "tanh: the reference" in text and "over 4 runs" in text
    assert "2 models × 2 seeds × 2 backtest origins on hotel_h2_weekly_cancellations.csv" in text
    captions = [c.value.replace("\\", "").replace("\u2060", "") for c in at.caption]
    assert any("Backtest: 2 test periods of 10 points" in c for c in captions), captions
    assert any(c.startswith("relu differs from tanh in: activation relu (reference: tanh)") for c in captions)
    tables = frames(at)
    per_origin = next(f for f in tables if "Test period" in f.columns)
    assert list(per_origin["Origin"]) == [1, 2]
    assert {"tanh", "relu", "Best baseline", "Best reference"} <= set(per_origin.columns)
    forecast = [c for c in at.get("plotly_chart") if "actual vs test forecasts" in c.proto.spec]
    assert len(forecast) == 1 and '"legendonly"' in forecast[0].proto.spec  # the references, fitted at the end
    assert '"origin 2"' in forecast[0].proto.spec and '"ETS"' in forecast[0].proto.spec
    metrics = next(f for f in tables if "RMSE" in f.columns and "Runs" in f.columns)
    assert list(metrics.index)[2:] == ["naive (last value)", "seasonal naive (baseline)", "drift (baseline)",
                                       "ETS (reference)", "ARIMA (reference)", "Theta (reference)"]
    # Baselines first: the first message says whether any model beats the best of them.
    first = [*at.success, *at.warning, *at.info][0].value.replace("\\", "")
    assert "the best baseline, " in first
    assert "±" in metrics.loc["tanh", "RMSE"]
    inside = next(f for f in tables if "Dead units" in f.columns)
    assert all(0 <= v <= 100 for v in inside["Dead units"])  # a percentage, as in the histogram titles
    assert list(inside["cuDNN on GPU"]) == ["yes", "no"]
    assert any("only on a GPU" in c.value for c in at.caption)
    assert {b.label for b in at.get("download_button")} >= {"Metrics CSV", "Experiment JSON", "Keras code"}
    loss = next(c for c in at.get("plotly_chart") if "Loss per epoch" in c.proto.spec)
    assert "seed 0" not in loss.proto.spec and "band high" in loss.proto.spec  # the mean and a band
    at.toggle(key="loss_seeds").set_value(True).run()
    loss = next(c for c in at.get("plotly_chart") if "Loss per epoch" in c.proto.spec)
    assert "tanh seed 0" in loss.proto.spec and "relu seed 1 (validation)" in loss.proto.spec
    at.toggle(key="per_seed").set_value(True).run()
    per_seed = next(f for f in frames(at) if "Seed" in f.columns)
    assert len(per_seed) == 8 and set(per_seed["Status"]) == {"done"} and set(per_seed["Origin"]) == {1, 2}
    eid = PageState(at.session_state).experiment_id
    at.selectbox(key=f"reference_{eid}").set_value(1).run()
    assert not at.exception and "relu: the reference" in plain(markdown(at))


def test_history_delete_asks_first_then_refreshes_the_rename_box(page: AppTest, tmp_path: Path, lab_spec,
                                                                 lab_csv: bytes) -> None:
    store = Store(tmp_path / "runs.sqlite")
    sha = store.put_dataset("tiny.csv", lab_csv)
    first = store.create_experiment(lab_spec("first"), sha)
    old = store.create_experiment(lab_spec("old name"), sha)
    store.cancel_experiment(first), store.cancel_experiment(old)
    page.run()
    assert page.sidebar.selectbox(key="history_pick").value == old and not page.exception
    assert "#2 old name · tiny.csv · 0/1 done" in page.sidebar.selectbox(key="history_pick").options
    page.sidebar.text_input(key=f"rename_{old}").set_value("new name")
    page.sidebar.button(key="rename").click().run()
    assert store.experiment(old).name == "new name"
    assert page.sidebar.text_input(key=f"rename_{old}").value == "new name"
    page.sidebar.button(key="rerun").click().run()
    newest = store.experiments()[0]
    assert newest.name == "new name (re-run)" and PageState(page.session_state).experiment_id == newest.id
    page.sidebar.selectbox(key="history_pick").set_value(old).run()
    page.sidebar.button(key="delete").click().run()
    assert old in [e.id for e in store.experiments()], "one click deletes nothing"
    assert "Delete experiment 2 **new name**" in page.sidebar.warning[0].value
    page.sidebar.button(key="delete_no").click().run()
    assert not page.sidebar.warning and old in [e.id for e in store.experiments()]
    page.sidebar.button(key="delete").click().run()
    page.sidebar.button(key="delete_yes").click().run()
    assert [e.id for e in store.experiments()] == [newest.id, first] and not page.exception
    shown = PageState(page.session_state).experiment_id
    assert shown == newest.id and page.sidebar.text_input(key=f"rename_{shown}").value == "new name (re-run)"
    assert store.dataset(sha), "the other experiments keep their data"


# -- the page remembers: URL, refresh, imports -----------------------------------------------------------


def test_a_fresh_session_with_the_same_query_restores_the_setup_data_and_experiment(page: AppTest, tmp_path: Path,
                                                                                    lab_spec, lab_csv) -> None:
    store = Store(tmp_path / "runs.sqlite")
    older = store.create_experiment(lab_spec("older"), store.put_dataset("tiny.csv", lab_csv))
    store.create_experiment(lab_spec("newer"), store.put_dataset("tiny.csv", lab_csv))
    page.query_params["experiment"] = str(older)  # a link to a result opens it
    upload(page.run(), "shop.csv", SHOP)
    assert "Frequency: **daily**" in markdown(page) and page.selectbox(key="target").value == "sales"
    page.multiselect(key="features").set_value(["temp"]).run()
    go(page, "models").number_input(key="epochs").set_value(5).run()
    page.selectbox(key="test_mode").set_value("share").run()
    page.number_input(key="test_share").set_value(0.25).run()
    page.text_input(key=f"name_{draft(page).models[0].uid}").set_value("my tanh").run()
    assert page.query_params == {"draft": PageState(page.session_state).draft_id, "experiment": str(older)}
    params = dict(page.query_params)

    again = AppTest.from_file(PAGE, default_timeout=60)  # a refresh: a new session, the same URL
    again.query_params.update(params)
    again.run()
    assert not again.exception and not again.error
    assert "**shop\\.csv** — 60 rows" in markdown(again)
    assert again.selectbox(key="target").value == "sales" and again.multiselect(key="features").value == ["temp"]
    go(again, "models")
    assert again.number_input(key="epochs").value == 5 and again.number_input(key="test_share").value == 0.25
    assert names(again)[0] == "my tanh"
    assert PageState(again.session_state).experiment_id == older
    assert f"experiment {older}" in markdown(go(again, "compare"))


def test_each_browser_keeps_its_own_setup_and_a_bare_url_starts_a_fresh_one(page: AppTest) -> None:
    upload(page.run(), "shop.csv", SHOP)  # the first browser's setup, saved as it changes
    first = PageState(page.session_state).draft_id
    other = AppTest.from_file(PAGE, default_timeout=60)  # a second browser on the bare URL
    other.run()
    assert not other.exception and PageState(other.session_state).draft_id != first
    assert draft(other).kind == "sample" and other.selectbox(key=PageState.SAMPLE).value == HOTEL
    go(other, "models").number_input(key="epochs").set_value(3).run()  # editing there
    assert go(page, "data").selectbox(key=PageState.TARGET).value == "sales"  # leaves the first tab alone
    assert draft(page).kind == "upload" and draft(page).settings.epochs != 3
    again = AppTest.from_file(PAGE, default_timeout=60)  # the first tab refreshed: its own ?draft= again
    again.query_params.update(dict(page.query_params))
    assert "**shop\\.csv** — 60 rows" in markdown(again.run())


def test_the_sweep_builder_keeps_its_choices_off_the_page_and_stays_open_after_an_error(page: AppTest) -> None:
    go(page.run(), "models")
    page.text_input(key=PageState.SWEEP_UNITS).set_value("16,8").run()
    page.multiselect(key=PageState.SWEEP_ACTS).set_value(["elu"]).run()
    assert not page.expander[0].proto.expanded
    go(go(page, "data"), "models")  # leaving the page drops the widgets' keys
    assert page.text_input(key=PageState.SWEEP_UNITS).value == "16,8"
    assert page.multiselect(key=PageState.SWEEP_ACTS).value == ["elu"]
    assert page.multiselect(key=PageState.SWEEP_PLACES).value == ["inside", "between"]
    page.text_input(key=PageState.SWEEP_UNITS).set_value("sixteen")
    page.button(key="sweep").click().run()
    assert len(page.error) == 1 and page.expander[0].proto.expanded
    assert page.text_input(key=PageState.SWEEP_UNITS).value == "sixteen"


def _shop_experiment(sha: str | None) -> dict:
    return {
        "name": "shop import", "data": {"source": "shop.csv", "target": "sales", "time_column": "date",
                                        "features": ["temp"], "sha256": sha},
        "models": [{"name": "a", "layers": [{"units": 4}]},
                   {"name": "b", "layers": [{"units": 4, "activation": "relu"}]}],
        "window": {"lookback": 3, "future_steps": 2}, "split": {"test_size": 0.2},
        "training": {"epochs": 5, "seeds": [7, 8], "batch_size": 8},
    }


def test_import_before_upload_keeps_the_settings_until_the_matching_csv_arrives(page: AppTest) -> None:
    import_json(page.run(), _shop_experiment(hashlib.sha256(SHOP).hexdigest()))
    assert not page.exception and draft(page).pending is not None
    assert any("waits for its data file" in i.value for i in page.info)
    assert names(page) == ["tanh", "relu inside", "relu between"] and draft(page).settings.epochs == 100
    assert any("training now uses the models and settings" in w.value for w in go(page, "train").warning)
    go(page, "data")
    upload(page, "shop.csv", SHOP.replace(b",1", b",2"))  # same name, other bytes: still waiting
    assert draft(page).pending is not None and draft(page).features == []
    upload(page, "shop.csv", SHOP)
    assert draft(page).pending is None and any("now has its data file" in s.value for s in page.success)
    assert page.multiselect(key="features").value == ["temp"] and page.selectbox(key="target").value == "sales"
    go(page, "models")
    assert names(page) == ["a", "b"] and page.number_input(key="epochs").value == 5
    assert page.selectbox(key="test_mode").value == "share" and page.number_input(key="test_share").value == 0.2


def test_import_of_a_fractional_or_missing_test_size_round_trips(page: AppTest) -> None:
    raw = {**_shop_experiment(None), "data": {"source": f"sample:{HOTEL}", "target": "Cancellations"}}
    go(page.run(), "models").number_input(key="test_size").set_value(33).run()
    import_json(page, raw)
    assert page.selectbox(key="test_mode").value == "share" and page.number_input(key="test_share").value == 0.2
    go(page, "train")
    assert any("115 points → " in c.value and " 23 test " in c.value for c in page.caption)
    del raw["split"]
    go(page, "models")
    import_json(page, {**raw, "name": "no split"})
    assert page.number_input(key="test_share").value == 0.15, "the spec's default, not the page's previous 33"
    page.selectbox(key="test_mode").set_value("points").run()
    assert page.number_input(key="test_size").value == 33


PROBE = """
import os, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=60).run()
at.switch_page("app_pages/models.py").run()
at.button(key="preset_hotel H2 replication").click().run()
at.switch_page("app_pages/train.py").run()
at.switch_page("app_pages/compare.py").run()
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


def test_a_second_server_on_the_same_folder_shows_results_read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     lab_spec, lab_csv) -> None:
    import fcntl
    import os

    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    store = Store(tmp_path / "runs.sqlite")
    eid = store.create_experiment(lab_spec("theirs", epochs=400), store.put_dataset("a.csv", lab_csv))
    other = os.open(tmp_path / "server.lock", os.O_RDWR | os.O_CREAT)  # another server holds the folder
    try:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(other, b"4242")
        at = AppTest.from_file(PAGE, default_timeout=60).run()
        assert not at.exception
        [error] = at.error
        assert error.value.startswith("Another LSTM Activation Lab server \\(process 4242\\) is using the data folder")
        assert go(at, "train").button(key="train").disabled
        assert [r.status for r in store.runs(eid)] == ["queued"]  # its runs are not relabelled
    finally:
        os.close(other)
        jobs.shutdown_all()


@pytest.mark.parametrize("content, word", [
    ("[" * 50_000 + "]" * 50_000, "levels"),
    (json.dumps({"name": "e", "data": {"source": "f.csv", "target": "y", "features": [[1]]},
                 "models": [{"name": "a", "layers": [{"units": 2}]}]}), "argument `features`"),
    (json.dumps({"name": "e", "data": {"source": "f.csv", "target": "y"},
                 "models": [{"name": "a", "layers": [{"units": 4096}] * 8}]}), "units"),
])
def test_a_bad_experiment_file_is_refused_in_one_sentence_and_keeps_the_setup(page: AppTest, content: str,
                                                                               word: str) -> None:
    page.run()
    before = names(page)
    page.sidebar.file_uploader(key="import_json").upload("experiment.json", content.encode(), "application/json")
    page.run()
    assert not page.exception
    [error] = page.error
    plain = error.value.replace("\\", "")  # the sentence is Markdown-escaped
    assert word in plain and plain.count(". ") <= 1 and "Traceback" not in plain
    assert names(page) == before  # nothing already set up was lost


def test_a_model_name_with_markdown_and_a_formula_stays_plain_text(page: AppTest) -> None:
    page.run()
    evil = "=cmd|' /C calc'!A0 ![x](http://evil.example/x.png) [y](http://evil.example)"
    import_json(page, {"name": "e", "data": {"source": HOTEL, "target": "Cancellations"},
                       "models": [{"name": evil, "layers": [{"units": 2}]}]})
    assert not page.exception
    assert names(page) == [evil]
    for where in ("models", "train"):
        go(page, where)
        assert not page.exception
        shown = " ".join(m.value for m in [*page.markdown, *page.caption, *page.success, *page.info, *page.error])
        assert not re.search(r"(?<!\\)\]\(", shown) and "http://evil" not in shown  # never a live link or image
    go(page, "models")
    assert evil in [t.value for t in page.text_input]  # the name itself is kept and shown as plain text


@pytest.mark.parametrize("where", ["a_file", "under_a_file"])
def test_an_unusable_data_folder_is_said_in_one_sentence_under_the_title(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch,
                                                                         where: str) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    monkeypatch.setenv(DATA_ENV, str(blocker if where == "a_file" else blocker / "lab"))
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["LSTM Activation Lab"]
    [error] = at.error
    plain = error.value.replace("\\", "").replace("\u2060", "")
    assert f"because {blocker} is a file, not a folder" in plain and "set LSTM_LAB_DATA to another folder" in plain
    assert blocker.read_text() == "not a folder"  # nothing touched


def test_compare_shows_finished_runs_while_others_train(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        lab_spec, lab_csv) -> None:
    import fcntl

    from factories import make_outcome

    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    store = Store(tmp_path / "runs.sqlite")
    eid = store.create_experiment(lab_spec("partial", seeds=(0, 1, 2)), store.put_dataset("a.csv", lab_csv))
    runs = store.claim_runs(4242, [r.id for r in store.runs(eid)], "keras", "test")
    actual = [float(v) for v in range(10, 20)]
    store.finish(runs[0].id, make_outcome(actual=actual, forecast=[v + 1 for v in actual], previous=9.0),
                 attempt=runs[0].attempt)
    other = os.open(tmp_path / "server.lock", os.O_RDWR | os.O_CREAT)  # its server holds the folder
    try:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        at = AppTest.from_file(PAGE, default_timeout=60)
        at.query_params["experiment"] = str(eid)
        at.run()
        at = go(at, "compare")
        assert not at.exception
        assert any("1 of 3 runs done: the comparison below uses the finished runs" in i.value for i in at.info)
        assert any("2 runs still training; this page updates as each one finishes." in c.value for c in at.caption)
        assert "m0: the reference" in plain(markdown(at))
    finally:
        os.close(other)
        jobs.shutdown_all()
