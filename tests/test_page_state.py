"""lstm_app.page_state: the dashboard's pure helpers (no Streamlit needed)."""

from __future__ import annotations

import pytest

from lstm_app import page_state as ps
from lstm_app.errors import DataError, SpecError
from lstm_app.presets import hotel_replication
from lstm_app.runs.store import RunRow
from lstm_app.spec import ModelSpec
from lstm_app.windows import suggest


def test_model_dict_round_trips_through_to_model() -> None:
    spec = ModelSpec("relu between", ps.layers_from_rows("x", [{"units": 8}, {"units": 4}]), between="relu")
    d = ps.model_dict(spec)
    assert d["between"] == "relu" and [r["units"] for r in d["layers"]] == [8, 4]
    assert ps.to_model(d) == spec
    assert ps.model_dict(spec)["uid"] != d["uid"]


def test_to_model_names_the_model_and_layer_in_errors() -> None:
    d = {"name": "m", "layers": [{"units": 4}], "between": ps.NONE}
    with pytest.raises(SpecError, match="Layer 2 of model 'm' needs a whole number of units"):
        ps.to_model(d, [{"units": 4}, {"units": float("nan")}])
    with pytest.raises(SpecError, match=r"Layer 1 of model 'm'.*activation"):
        ps.to_model(d, [{"units": 4, "activation": "nope"}])
    with pytest.raises(SpecError, match="needs at least one LSTM layer"):
        ps.to_model(d, [])
    with pytest.raises(SpecError, match="name"):
        ps.to_model({**d, "name": "  "})


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
    assert ps.suggested(115)["lookback"] == suggest(115)[0].lookback
    assert ps.suggested(5000)["batch_size"] > ps.suggested(115)["batch_size"]


def test_split_line_and_its_error() -> None:
    spec = hotel_replication()
    assert ps.split_line(115, spec.window, spec.split, spec.training).startswith(
        "115 points → 80 training windows, 20 validation, 10 test")
    with pytest.raises(DataError):
        ps.split_line(20, spec.window, spec.split, spec.training)


def _run(**changes: object) -> RunRow:
    base = dict(id=1, experiment_id=1, model_index=0, model_name="m", seed=0, status="running", epoch=3,
                epochs_total=10, loss=0.0123, val_loss=0.02, elapsed=3.0, eta_seconds=125.0, message="",
                exit_code=None, worker_pid=1, cancel_requested=False, model_path=None, created_at=0.0,
                started_at=0.0, finished_at=None)
    return RunRow(**{**base, **changes})  # type: ignore[arg-type]


def test_run_line_says_epoch_loss_eta_and_endings_in_words() -> None:
    assert ps.run_line(_run()) == (0.3, "epoch 3/10 · loss 0.0123, val 0.02 · ETA 2 min 05 s")
    assert ps.run_line(_run(status="queued", epoch=0))[1] == "queued, waiting for a worker"
    _, line = ps.run_line(_run(status="diverged", message="training loss became NaN at epoch 4"))
    assert line == "diverged: training loss became NaN at epoch 4"
    assert ps.run_line(_run(status="failed", message="worker process exited with code 1"))[1].startswith("failed:")
    assert ps.run_line(_run(cancel_requested=True))[1].endswith("cancelling…")


def test_seed_list_keeps_imported_seeds_and_tops_up() -> None:
    from lstm_app.page_state import seed_list

    assert seed_list((7, 11), 2) == (7, 11)
    assert seed_list((7, 11), 4) == (7, 11, 0, 1)
    assert seed_list((7, 11, 0), 1) == (7,)
    assert seed_list((), 3) == (0, 1, 2)
