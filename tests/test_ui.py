"""lstm_app.ui: the page's state, forms and words (no Streamlit needed)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime
from pathlib import Path

import pytest

from lstm_app.data import read_csv
from lstm_app.data.samples import sample_path
from lstm_app.errors import DataError, SpecError, StoreError
from lstm_app.outcome import RunStatus
from lstm_app.presets import hotel_replication
from lstm_app.runs.store import ExperimentInfo, RunRow, Store
from lstm_app.spec import (
    BacktestSpec,
    DataSpec,
    ExperimentSpec,
    LayerSpec,
    ModelSpec,
    SplitSpec,
    TrainingSpec,
    WindowSpec,
)
from lstm_app.ui import Draft, LayerDraft, ModelDraft, Note, PageState, Upload, labels, progress
from lstm_app.ui import forms as ps
from lstm_app.ui.draft import DEFAULT_SAMPLE, HOTEL_PRESET, SEED_PRESET, sample_sha
from lstm_app.windows import suggest


def test_model_draft_round_trips_through_its_spec_and_json() -> None:
    spec = ModelSpec("relu between", (LayerSpec(8), LayerSpec(4)), between="relu")
    d = ModelDraft.of(spec)
    assert d.between == "relu" and [layer.units for layer in d.layers] == [8, 4]
    assert d.spec() == spec
    assert ModelDraft.of(spec).uid != d.uid
    again = ModelDraft.from_dict(json.loads(json.dumps(d.to_dict())))
    assert again.spec() == spec and again.uid != d.uid
    seasonal = ModelSpec("s", (LayerSpec(4),), target="seasonal difference", season=12)
    d = ModelDraft.of(seasonal)
    assert (d.target, d.season) == ("seasonal difference", 12) and d.spec() == seasonal
    assert ModelDraft.from_dict(json.loads(json.dumps(d.to_dict()))).spec() == seasonal
    assert d.renamed("t").target == "seasonal difference", "a duplicate keeps the target"
    direct = ModelSpec("d", (LayerSpec(4),), horizon=6, strategy="direct")
    d = ModelDraft.of(direct)
    assert (d.strategy, d.horizon) == ("direct", 6) and d.spec() == direct
    assert ModelDraft.from_dict(json.loads(json.dumps(d.to_dict()))).spec() == direct
    old = {k: v for k, v in d.to_dict().items() if k not in ("strategy", "horizon")}  # a draft saved before
    assert (ModelDraft.from_dict(old).strategy, ModelDraft.from_dict(old).horizon) == ("recursive", None)
    with pytest.raises(SpecError, match=r"^Model 'd': .*argument `horizon`"):
        dataclasses.replace(d, horizon=None).spec()


def test_model_draft_names_the_model_and_layer_in_errors() -> None:
    d = ModelDraft("m", (LayerDraft(4),))
    rows = [{"units": 4}, {"units": float("nan")}]
    with pytest.raises(SpecError, match="Layer 2 of model 'm' needs a whole number of units"):
        ModelDraft("m", tuple(LayerDraft.from_row(r) for r in rows)).spec()
    with pytest.raises(SpecError, match=r"Layer 1 of model 'm'.*activation"):
        ModelDraft("m", (LayerDraft(4, "nope"),)).spec()
    with pytest.raises(SpecError, match="needs at least one LSTM layer"):
        ModelDraft("m", ()).spec()
    with pytest.raises(SpecError, match="name"):
        ModelDraft("  ", d.layers).spec()


def test_settings_take_their_defaults_from_the_specs() -> None:
    window, split, training = ps.build_specs(ps.Settings())
    assert window == WindowSpec() and ps.backtest_of(ps.Settings()) == BacktestSpec()
    assert training == TrainingSpec() and ps.Settings().test_share == SplitSpec().test_size
    assert split == SplitSpec(ps.Settings().test_size)


def test_unique_name_and_parse_units() -> None:
    assert ps.unique_name("model", ["model", "model 2"]) == "model 3"
    assert ps.unique_name("fresh", ["model"]) == "fresh"
    assert ps.parse_units("64,32; 32") == ((64, 32), (32,))
    assert ps.parse_units("16 8") == ((16, 8),)
    for bad in ("", "a,b", "0"):
        with pytest.raises(SpecError):
            ps.parse_units(bad)


def test_settings_round_trip_to_specs() -> None:
    spec = hotel_replication()
    window, split, training = ps.build_specs(ps.settings_from(spec.window, spec.split, spec.training))
    assert (window, split) == (spec.window, spec.split)
    assert training == spec.training
    assert ps.suggested(115).lookback == suggest(115)[0].lookback
    assert ps.suggested(5000).batch_size > ps.suggested(115).batch_size
    # A long series: fewer, longer epochs and 3 seeds, so the default experiment stays near a minute.
    long, short = ps.suggested(2300), ps.suggested(115)
    assert (long.n_seeds, long.epochs, long.patience) == (3, 20, 5)
    assert (short.n_seeds, short.epochs, short.patience) == (5, 100, 10)


def test_split_line_and_its_error() -> None:
    spec = hotel_replication()
    assert labels.split_line(115, spec.window, spec.split, spec.training).startswith(
        "115 points → 80 training windows, 20 validation, 10 test")
    with pytest.raises(DataError):
        labels.split_line(20, spec.window, spec.split, spec.training)


def _run(**changes: object) -> RunRow:
    base = dict(id=1, experiment_id=1, model_index=0, model_name="m", seed=0, status="running", epoch=3,
                epochs_total=10, loss=0.0123, val_loss=0.02, elapsed=3.0, eta_seconds=125.0, message="",
                exit_code=None, worker_pid=1, cancel_requested=False, model_path=None, created_at=0.0,
                started_at=0.0, finished_at=None)
    return RunRow(**{**base, **changes})  # type: ignore[arg-type]


def test_run_line_says_epoch_loss_eta_and_endings_in_words() -> None:
    assert labels.run_line(_run()) == (0.3, "epoch 3/10 · loss 0.0123, val 0.02 · ETA 2 min 05 s")
    assert labels.run_line(_run(status="queued", epoch=0))[1] == "queued, waiting for a worker"
    _, line = labels.run_line(_run(status="diverged", message="training loss became NaN at epoch 4"))
    assert line == "diverged: training loss became NaN at epoch 4"
    assert labels.run_line(_run(status="failed", message="worker process exited with code 1"))[1].startswith("failed:")
    assert labels.run_line(_run(cancel_requested=True))[1].endswith("cancelling…")


def test_progress_gives_each_model_a_line_and_a_cell_per_seed_and_origin() -> None:
    runs = [_run(id=k, model_index=m, model_name=name, seed=seed, origin=origin, status=status, epoch=epoch,
                 eta_seconds=eta, cancel_requested=cancel)
            for k, (m, name, seed, origin, status, epoch, eta, cancel) in enumerate([
                (0, "tanh", 0, 0, "done", 10, None, False), (0, "tanh", 1, 0, "running", 4, 30.0, False),
                (0, "tanh", 0, 1, "running", 2, 95.0, False), (0, "tanh", 1, 1, "queued", 0, None, False),
                (1, "relu <b>", 0, 0, "failed", 3, None, False), (1, "relu <b>", 1, 0, "done", 10, None, False),
                (1, "relu <b>", 0, 1, "running", 5, 12.0, True), (1, "relu <b>", 1, 1, "cancelled", 1, None, False),
            ])]
    assert progress.overall_line(runs) == (
        "8 runs: 2 done · 3 running · 1 queued · 1 failed · 1 cancelled · "
        "ETA 1 min 35 s for the running runs, then the queued runs")
    tanh, relu = progress.models(runs, lambda r: "no progress for 70 s" if r.id == 2 else "")
    assert (tanh.index, tanh.name, tanh.active) == (0, "tanh", 3)
    assert tanh.line == "1 done · 2 running · 1 queued · ETA 1 min 35 s, then the queued runs · 1 without progress"
    assert relu.line == "1 done · 1 running · 1 failed · 1 cancelled · ETA 12 s" and relu.active == 1
    # one cell per seed × origin, origins labelled, each cell's title the run's own line
    assert tanh.cells.count("<span title=") == 4 and ">o1<" in tanh.cells and ">o2<" in tanh.cells
    assert 'title="tanh · seed 1 · origin 1: epoch 4/10 · loss 0.0123, val 0.02 · ETA 30 s"' in tanh.cells
    assert "no progress for 70 s · epoch 2/10" in tanh.cells
    # a running cell fills by its epochs; a cancel asked for is outlined; colours follow the state
    assert "linear-gradient(to top, #3b82c4 20%, #c9def2 20%)" in tanh.cells
    assert relu.cells.count("outline:2px") == 1 and progress.COLOURS[RunStatus.FAILED] in relu.cells
    assert "relu &lt;b&gt;" in relu.block and "<b>relu <b>" not in relu.block  # a model's name is text
    legend = progress.legend_html(runs)
    assert all(s in legend for s in ("done", "running", "queued", "failed", "cancelled")) and "diverged" not in legend
    # without a backtest, no origin labels
    single = progress.models([_run(id=1, seed=0), _run(id=2, seed=1, status="queued", epoch=0)])
    assert ">o1<" not in single[0].cells and single[0].cells.count("<span title=") == 2


def test_seed_list_keeps_imported_seeds_and_tops_up() -> None:
    seed_list = ps.seed_list

    assert seed_list((7, 11), 2) == (7, 11)
    assert seed_list((7, 11), 4) == (7, 11, 0, 1)
    assert seed_list((7, 11, 0), 1) == (7,)
    assert seed_list((), 3) == (0, 1, 2)


# -- Markdown escaping, plurals ---------------------------------------------------------------------


def test_plural() -> None:
    assert [labels.plural(n, "model") for n in (0, 1, 2)] == ["0 models", "1 model", "2 models"]
    assert labels.plural(1200, "run") == "1,200 runs"


# -- Settings: a fractional test size, a missing split ---------------------------------------------------


def test_a_fractional_test_size_round_trips_through_settings() -> None:
    spec = hotel_replication()
    for test_size, mode in ((0.2, "share"), (10, "points")):
        split = SplitSpec(test_size)
        settings = ps.settings_from(spec.window, split, spec.training)
        assert settings.test_mode == mode
        assert ps.build_specs(settings)[1] == split
        assert ps.Settings.from_dict(json.loads(json.dumps(settings.to_dict()))) == settings


# -- the working setup (Draft) ----------------------------------------------------------------------------

SHOP = b"date,sales,temp\n" + b"".join(
    f"2021-01-{d:02d},{100 + d * 3 + (d % 4) * 5},{10 + d % 7}\n".encode() for d in range(1, 29))


QUARTER = SplitSpec(0.25)


def _shop_spec(*, sha: str | None, split: SplitSpec | None = QUARTER) -> ExperimentSpec:
    raw = ExperimentSpec(
        "shop import", DataSpec("shop.csv", "sales", "date", ("temp",), sha256=sha),
        (ModelSpec("a", (LayerSpec(4),)), ModelSpec("b", (LayerSpec(4, "relu"),))),
        WindowSpec(lookback=3, future_steps=2), split or SplitSpec(), TrainingSpec(epochs=5, seeds=(7, 8)),
    ).to_dict()
    if split is None:
        del raw["split"]
    return ExperimentSpec.from_dict(raw)


def test_import_before_upload_keeps_everything_pending_until_the_matching_file() -> None:
    d = Draft()
    d.adopt(read_csv(sample_path(DEFAULT_SAMPLE).read_bytes(), name=DEFAULT_SAMPLE))
    before = (d.to_json(), d.settings.epochs)
    sha = hashlib.sha256(SHOP).hexdigest()
    note = d.import_spec(_shop_spec(sha=sha))
    assert note.kind == "info" and "waits for its data file **shop\\.csv**" in note.text
    assert d.pending is not None and d.settings.epochs == before[1] and len(d.models) == 3
    other = b"date,sales,temp\n" + SHOP.split(b"\n", 1)[1].replace(b",1", b",2")
    d.choose_upload("shop.csv", hashlib.sha256(other).hexdigest())
    assert d.adopt(read_csv(other, name="shop.csv")) is None and d.pending is not None  # same name, other bytes
    d.choose_upload("shop.csv", sha)
    note = d.adopt(read_csv(SHOP, name="shop.csv"))
    assert note is not None and note.kind == "success" and d.pending is None
    assert (d.target, d.features, d.settings.epochs, d.settings.seeds) == ("sales", ["temp"], 5, (7, 8))
    assert (d.settings.test_mode, d.settings.test_share) == ("share", 0.25)
    assert [m.name for m in d.models] == ["a", "b"]


def test_import_applies_at_once_when_the_store_has_the_file_and_without_split_takes_the_default_share() -> None:
    d = Draft()
    d.settings.test_size = 33
    sha = hashlib.sha256(SHOP).hexdigest()
    note = d.import_spec(_shop_spec(sha=sha, split=None), stored_name="shop (1).csv")
    assert note.kind == "success" and d.pending is None and d.upload == Upload("shop (1).csv", sha)
    assert d.adopt(read_csv(SHOP, name="shop.csv")) is None
    assert (d.settings.test_mode, d.settings.test_share) == ("share", SplitSpec().test_size)
    assert d.features == ["temp"]


def test_pending_import_can_be_applied_to_other_data_and_says_what_it_left_out() -> None:
    d = Draft()
    d.import_spec(_shop_spec(sha=None))
    table = read_csv(sample_path(DEFAULT_SAMPLE).read_bytes(), name=DEFAULT_SAMPLE)
    note = d.apply_pending_here(table)
    assert note.kind == "warning" and "\\*\\*" not in note.text and "**sales**" in note.text
    assert d.target == "Cancellations" and d.features == [] and d.settings.epochs == 5


def test_hotel_preset_keeps_uploaded_data_when_asked_to() -> None:
    d = Draft()
    d.choose_upload("shop.csv", hashlib.sha256(SHOP).hexdigest())
    d.adopt(read_csv(SHOP, name="shop.csv"))
    assert d.preset_moves_data(HOTEL_PRESET) and not d.preset_moves_data(SEED_PRESET)
    d.apply_preset(HOTEL_PRESET, keep_data=True)
    assert d.kind == "upload" and d.target == "sales" and d.settings.lookback == 5
    d.apply_preset(HOTEL_PRESET)
    assert (d.kind, d.sample, d.target) == ("sample", DEFAULT_SAMPLE, "Cancellations")
    assert not Draft().preset_moves_data(HOTEL_PRESET)
    same = Draft()
    same.choose_upload("my copy.csv", sample_sha(DEFAULT_SAMPLE))  # the sample's very bytes, uploaded
    assert not same.preset_moves_data(HOTEL_PRESET)
    same.apply_preset(HOTEL_PRESET)
    assert (same.kind, same.target, same.settings.lookback) == ("upload", "Cancellations", 5)


def test_default_names_are_origin_data_and_date() -> None:
    d = Draft()
    when = datetime(2025, 3, 4, 5, 6)
    assert d.experiment_name(when) == f"{SEED_PRESET} · hotel_h2_weekly_cancellations · 2025-03-04 05:06"
    d.origin = "x" * 200
    assert len(d.auto_name(when)) <= 120 and d.auto_name(when).endswith("2025-03-04 05:06")
    d.name = "  mine "
    assert d.experiment_name(when) == "mine"


def test_history_label_shows_the_data_file() -> None:
    spec = hotel_replication()
    row = ExperimentInfo(4, "smoke", 0.0, "x", spec.data.source, 1, 1, {RunStatus.DONE: 2, RunStatus.QUEUED: 1})
    assert labels.history_label(row) == "#4 smoke · hotel_h2_weekly_cancellations.csv · 2/3 done"
    named = ExperimentInfo(5, "preset · hotel_h2_weekly_cancellations · 2025-01-01 10:00", 0.0, "x",
                           spec.data.source, 1, 1, {})
    assert labels.history_label(named) == "#5 preset · hotel_h2_weekly_cancellations · 2025-01-01 10:00 · 0/0 done"


def test_draft_json_round_trip_and_bad_text() -> None:
    d = Draft()
    d.import_spec(_shop_spec(sha="ab" * 32))
    d.add_model()
    d.name = "x"
    again = Draft.from_json(d.to_json())
    assert again.to_json() == d.to_json()
    assert {m.uid for m in again.models}.isdisjoint(m.uid for m in d.models)
    for bad in ("{", "[]", '{"version": 99}', d.to_json().replace('"sample"', '"nope"', 1)):
        with pytest.raises(ValueError, match="not a saved working setup"):
            Draft.from_json(bad)


def test_a_draft_saved_before_model_drafts_still_loads() -> None:
    old = json.loads(Draft().to_json())
    old["models"] = [{"name": "a", "layers": [{"units": 8}, {"units": 4.0, "activation": "relu", "dropout": None}],
                      "between": "none", "dense": []}, {"name": "b", "layers": [{"units": 2}]}]
    d = Draft.from_json(json.dumps(old))
    assert [m.spec() for m in d.models] == [
        ModelSpec("a", (LayerSpec(8), LayerSpec(4, "relu"))), ModelSpec("b", (LayerSpec(2),))]
    assert [(m.target, m.season) for m in d.models] == [("level", None)] * 2, "saved before targets: level"
    assert d.advice is None and not d.targets_touched
    assert json.loads(d.to_json())["models"][0]["layers"][1] == {
        "units": 4, "activation": "relu", "recurrent_activation": None, "dropout": None}


def test_say_escapes_only_the_user_parts_and_export_names_keep_the_dataset_and_date() -> None:
    note = labels.say("warning", "Model **{}** on {}.", "*x*", "[a](b)")
    assert note == Note("warning", "Model **\\*x\\*** on \\[a\\]\\(b\\).")
    name = "tanh vs ReLU inside vs ReLU between · hotel_h2_weekly_cancellations · 2025-03-04 05:06"
    stem = labels.file_stem(name)
    assert stem.endswith("hotel-h2-weekly-cancellations-2025-03-04-05-06") and len(stem) > 40
    assert labels.file_stem("···") == "experiment"


# -- PageState over a plain dict, and the store's drafts ---------------------------------------------------


def test_page_state_opens_saves_and_restores_the_setup_from_the_url(tmp_path: Path) -> None:
    store = Store(tmp_path / "runs.sqlite")
    first = PageState({})
    first.open(store, {})
    assert first.started and first.url() == {"draft": first.draft_id}
    sha = store.put_dataset("shop.csv", SHOP)
    first.draft.choose_upload("shop.csv", sha)
    first.draft.settings.epochs = 5
    assert first.save(store) and not first.save(store)  # only changes are written
    second = PageState({})
    second.open(store, {"draft": first.draft_id})
    assert second.draft.to_json() == first.draft.to_json() and second.draft_id == first.draft_id
    third = PageState({})
    third.open(store, {})  # no draft in the URL: a fresh one, never another browser's
    assert third.draft_id != first.draft_id and third.draft.to_json() == Draft().to_json()
    third.draft.settings.epochs = 9
    third.save(store)
    assert Draft.from_json(store.draft(first.draft_id) or "").settings.epochs == 5
    fourth = PageState({})
    fourth.open(store, {"draft": "nosuch", "experiment": "12"})
    assert fourth.draft_id == "nosuch" and fourth.experiment_id is None
    assert [n.kind for n in fourth.flashes()] == ["info", "warning"] and fourth.flashes() == []


def test_page_state_binds_widgets_to_the_draft_and_commits_back() -> None:
    session: dict = {}
    s = PageState(session)
    s.new_draft()
    assert s.bind("epochs") == "epochs" and session["epochs"] == s.draft.settings.epochs
    session["epochs"] = 7
    s.commit("epochs")
    assert s.draft.settings.epochs == 7 and s.draft.settings_touched
    uid = s.draft.models[0].uid
    name, _, layers = s.bind_model(uid)
    session[name] = "renamed"
    s.commit_model(uid, "name")
    assert not s.draft.targets_touched
    session[s.bind_target(uid)] = "log"
    s.commit_model(uid, "target")
    assert s.draft.models[0].target == "log" and s.draft.targets_touched
    s.set_layers(uid, [{"units": 8, "activation": "tanh", "recurrent_activation": "sigmoid", "dropout": float("nan")}])
    assert s.draft.models[0].name == "renamed" and s.draft.models[0].layers[0].dropout is None
    assert s.editor_base(uid)[0]["units"] == 32  # the editor keeps its base while it is on the page
    session[layers] = {}
    s.bind_model(uid)
    assert s.editor_base(uid)[0]["units"] == 32
    del session[layers]  # left the page: the editor starts again from the draft
    s.bind_model(uid)
    assert s.editor_base(uid)[0]["units"] == 8
    s.experiment_id, s.confirm_delete = 3, 3
    s.experiment_id = 4
    assert s.confirm_delete is None
    assert s.bind_rename(4, "four") == "rename_4" and s.rename_to(4) == "four"


def test_a_draft_keeps_its_uploaded_dataset_when_the_experiments_on_it_are_deleted(tmp_path: Path, lab_spec,
                                                                                   lab_csv: bytes) -> None:
    store = Store(tmp_path / "runs.sqlite")
    sha = store.put_dataset("tiny.csv", lab_csv)
    eid = store.create_experiment(lab_spec(), sha)
    store.save_draft("d1", "{}", sha)
    store.delete_experiment(eid)
    assert store.dataset(sha) == ("tiny.csv", lab_csv)
    store.save_draft("d1", "{}", None)
    store.delete_experiment(store.create_experiment(lab_spec(), sha))
    with pytest.raises(StoreError):
        store.dataset(sha)
    assert store.draft("d1") == "{}" and store.draft("d2") is None
    store.save_draft("d2", "[]")
    assert store.draft("d2") == "[]"
