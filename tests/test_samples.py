"""Tests for lstm_app.data.samples: the bundled files, `sample:NAME` and path resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from lstm_app.data import read_csv
from lstm_app.data.samples import SAMPLE_DIR, SAMPLES, resolve, sample_path
from lstm_app.errors import DataError


def test_every_sample_exists_parses_and_is_described() -> None:
    sources = (SAMPLE_DIR / "SOURCES.md").read_text(encoding="utf-8")
    assert len(SAMPLES) == 4
    for name, description in SAMPLES.items():
        path = sample_path(name)
        assert path.is_file() and path.parent == SAMPLE_DIR
        assert description and "\n" not in description
        assert name in sources
        assert read_csv(path).rows > 100


def test_every_csv_in_sample_data_is_listed() -> None:
    assert sorted(p.name for p in SAMPLE_DIR.glob("*.csv")) == sorted(SAMPLES)


def test_sample_path_accepts_a_name_without_extension() -> None:
    assert sample_path("sunspots_annual") == sample_path("sunspots_annual.csv")


def test_unknown_sample_lists_the_known_ones() -> None:
    with pytest.raises(DataError) as info:
        sample_path("nope.csv")
    message = str(info.value)
    assert "'nope.csv'" in message and "hotel_h2_weekly_cancellations.csv" in message
    assert message.endswith(".") and "\n" not in message


def test_resolve(tmp_path: Path) -> None:
    assert resolve("sample:airline_passengers_monthly.csv") == sample_path("airline_passengers_monthly.csv")
    assert resolve("data/x.csv", base=tmp_path) == tmp_path / "data" / "x.csv"
    assert resolve("data/x.csv") == Path("data/x.csv")
    absolute = tmp_path / "y.csv"
    assert resolve(str(absolute), base=Path("/elsewhere")) == absolute
    with pytest.raises(DataError, match="no sample"):
        resolve("sample:missing")
