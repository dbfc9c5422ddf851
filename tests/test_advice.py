"""lstm_app.ui.advice: the target transform and lookback advised from the data, and the draft
applying them only where nobody chose otherwise."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lstm_app.data import Table, read_csv, series
from lstm_app.data.samples import SAMPLES, sample_path
from lstm_app.ui import Draft
from lstm_app.ui.advice import Advice, advise
from lstm_app.ui.draft import SEED_PRESET
from lstm_app.ui.forms import suggested

SAMPLE_TARGETS = {
    "hotel_h2_weekly_cancellations.csv": "difference",
    "hotel_h1_weekly_cancellations.csv": "difference",
    "airline_passengers_monthly.csv": "seasonal difference",
    "sunspots_annual.csv": "difference",
}


def _monthly(values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"y": values}, index=pd.date_range("2000-01-01", periods=len(values), freq="MS"))


def _advice(frame: pd.DataFrame) -> Advice:
    return advise(frame, suggested(len(frame)))


def test_a_random_walk_with_drift_is_differenced() -> None:
    rng = np.random.default_rng(1)
    advice = _advice(pd.DataFrame({"y": np.cumsum(0.5 + rng.normal(size=200))}))  # no time axis: no season
    assert advice.target == "difference" and advice.lookback is None
    assert advice.reason.startswith("Differenced: the series has a unit root"), advice.reason


def test_a_strongly_seasonal_monthly_series_is_seasonally_differenced_with_a_season_of_lookback() -> None:
    rng = np.random.default_rng(2)
    t = np.arange(240)
    frame = _monthly(100 + 0.2 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(scale=0.5, size=t.size))
    settings = suggested(len(frame))
    settings.lookback = 6
    advice = advise(frame, settings)
    assert advice.target == "seasonal difference" and advice.lookback == 12
    assert "season of 12 months is strong" in advice.reason and "Lookback 12" in advice.reason


def test_white_noise_stays_level() -> None:
    rng = np.random.default_rng(3)
    advice = _advice(_monthly(rng.normal(size=200)))
    assert advice.target == "level"
    assert advice.reason.startswith("Level: neither ADF") and "season is weak" in advice.reason, advice.reason


def test_a_short_or_flat_series_stays_level() -> None:
    assert _advice(_monthly(np.arange(10.0))).target == "level"
    assert _advice(_monthly(np.ones(50))).target == "level"


@pytest.mark.parametrize("name", SAMPLES)
def test_the_bundled_samples_get_their_advice(name: str) -> None:  # its time: bench/bench_advice.py
    table = read_csv(sample_path(name).read_bytes(), name=name)
    frame = series(table, table.target_candidate, [])
    advice = advise(frame, suggested(len(frame)))
    assert advice.target == SAMPLE_TARGETS[name], advice.reason
    if name.startswith("hotel"):  # 115 weekly rows: a season of 52 fits neither as a difference nor as a window
        assert "but a seasonal difference or a lookback of a whole season leaves too few training windows for 3 " \
               "backtest origins" in advice.reason
    print(f"{name}: {advice.target}, lookback {advice.lookback}: {advice.reason}")


def _airline() -> tuple[Draft, Table]:
    d = Draft()
    d.choose_sample("airline_passengers_monthly.csv")
    return d, read_csv(sample_path("airline_passengers_monthly.csv").read_bytes(), name="airline")


def test_new_data_sets_the_advised_target_on_the_untouched_seed_preset_models() -> None:
    d, table = _airline()
    d.adopt(table)
    assert [m.target for m in d.models] == ["seasonal difference"] * 3
    assert all(m.spec().target == "seasonal difference" and m.season is None for m in d.models)
    assert d.advice_line is not None and d.advice_line.startswith("Seasonally differenced")
    d.add_model()
    assert d.models[-1].target == "seasonal difference"
    again = Draft.from_json(d.to_json())
    assert again.advice == d.advice and json.loads(again.to_json()) == json.loads(d.to_json())
    d.apply_preset(SEED_PRESET)
    assert [m.target for m in d.models] == ["seasonal difference"] * 3


def test_advice_never_overrides_a_chosen_target_or_edited_models() -> None:
    d, table = _airline()
    d.update_model(d.models[0].uid, target="level")
    d.adopt(table)
    assert [m.target for m in d.models] == ["level"] * 3 and d.advice is not None
    assert d.advice_line is not None and "the models keep the targets set for them" in d.advice_line
    edited, table = _airline()
    edited.update_model(edited.models[0].uid, name="mine")
    edited.adopt(table)
    assert [m.target for m in edited.models] == ["level"] * 3
