"""`feasible.check`: a target transform that cannot work on the series is refused before any
run is queued, in one sentence that names the model (page and CLI)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstm_app import feasible, presets
from lstm_app.cli import main
from lstm_app.errors import DataError
from lstm_app.spec import BacktestSpec, ExperimentSpec


def _weekly(values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"y": values}, index=pd.date_range("2015-01-04", periods=len(values), freq="W"))


def _with(spec: ExperimentSpec, target: str, origins: int = 1, season: int | None = None) -> ExperimentSpec:
    models = (spec.models[0], dataclasses.replace(spec.models[1], target=target, season=season))
    return dataclasses.replace(spec, models=models, backtest=BacktestSpec(origins))


def test_every_transform_that_fits_passes() -> None:
    spec, frame = presets.hotel_replication(), _weekly(np.linspace(10.0, 50.0, 160))
    for target in ("level", "difference", "seasonal difference", "log", "log difference"):
        feasible.check(_with(spec, target), frame)


def test_a_log_of_values_at_or_below_zero_names_the_model_and_the_fix() -> None:
    spec, frame = presets.hotel_replication(), _weekly(np.r_[0.0, np.linspace(1.0, 5.0, 159)])
    feasible.check(_with(spec, "difference"), frame)
    with pytest.raises(DataError) as caught:
        feasible.check(_with(spec, "log difference"), frame)
    text = str(caught.value)
    assert text.startswith(f"Model {spec.models[1].name!r}: its log difference target needs every value of y")
    assert "lowest is 0" in text and "use difference or level" in text and "\n" not in text


def test_a_seasonal_difference_needs_a_season_and_rows_for_every_origin() -> None:
    spec = presets.hotel_replication()
    positions = pd.DataFrame({"y": np.linspace(1.0, 9.0, 160)})  # no time axis, so no season
    with pytest.raises(DataError, match="needs a season"):
        feasible.check(_with(spec, "seasonal difference"), positions)
    feasible.check(_with(spec, "seasonal difference", season=4), positions)  # a season given by the model
    weekly = _weekly(np.linspace(1.0, 9.0, 115))  # 52 lost to the yearly difference
    feasible.check(_with(spec, "level", origins=5), weekly)
    with pytest.raises(DataError, match=r"seasonal difference of lag 52 leaves 63 rows, too few"):
        feasible.check(_with(spec, "seasonal difference", origins=5), weekly)


def test_the_cli_refuses_before_training_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = _with(presets.hotel_replication(), "log")
    csv = tmp_path / "s.csv"
    _weekly(np.r_[-1.0, np.linspace(1.0, 5.0, 159)]).rename_axis("week").to_csv(csv)
    data = dataclasses.replace(spec.data, source=csv.name, target="y", time_column="week")
    spec = dataclasses.replace(spec, data=data)
    (tmp_path / "exp.json").write_text(spec.to_json())
    assert main(["run", str(tmp_path / "exp.json"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "log target needs every value of y to be positive" in err and "Traceback" not in err
    assert not (tmp_path / "o" / "results.json").exists()
