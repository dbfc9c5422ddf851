"""The bundled sample series in ``sample_data/`` and the ``sample:NAME`` source syntax."""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from ._parse import quote

__all__ = ["PREFIX", "SAMPLES", "SAMPLE_DIR", "resolve", "sample_path"]

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data"
PREFIX = "sample:"
SAMPLES: dict[str, str] = {
    "hotel_h2_weekly_cancellations.csv": (
        "Weekly cancellations at H2, a Lisbon city hotel, 2015–2017 (115 weeks) — "
        "the data behind the well-known ReLU-vs-tanh answer"
    ),
    "hotel_h1_weekly_cancellations.csv": (
        "Weekly cancellations at H1, an Algarve resort hotel, 2015–2017 (115 weeks)"
    ),
    "airline_passengers_monthly.csv": (
        "Monthly international airline passengers, 1949–1960 (144 months, Box & Jenkins)"
    ),
    "sunspots_annual.csv": "Yearly sunspot numbers, 1700–2008 (309 years, NOAA via statsmodels)",
}


def sample_path(name: str) -> Path:
    """The path of a bundled sample, by file name (``.csv`` may be left off)."""
    key = name if name in SAMPLES else f"{name}.csv"
    if key not in SAMPLES:
        known = ", ".join(sorted(SAMPLES))
        raise DataError(f"There is no sample named {quote(name)}: choose one of {known}.")
    return SAMPLE_DIR / key


def resolve(source: str, base: Path | None = None) -> Path:
    """Turn ``sample:NAME`` into a sample's path, or a path (relative ones resolved against `base`)."""
    if source.startswith(PREFIX):
        return sample_path(source[len(PREFIX) :].strip())
    path = Path(source).expanduser()
    if base is not None and not path.is_absolute():
        path = Path(base) / path
    return path
