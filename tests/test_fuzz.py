"""Property-based fuzzing of the two doors user input comes through: experiment JSON and CSV bytes.

Whatever arrives, the answer is a value or a `LabError` whose message is one sentence; any other
exception (TypeError, KeyError, RecursionError, ...) is a bug. The four 2,000-example tests take
about 75 s together on two shared cores (the CSV one most: each read tries every date format).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import os
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lstm_app.data import Table, read_csv, series
from lstm_app.errors import DataError, LabError, SpecError
from lstm_app.spec import ExperimentSpec

# 600 fresh examples per run keep the suite near its 10-minute CI target (2,000 took ~60 s for
# the CSV test alone; every CI run draws new ones); LSTM_LAB_FUZZ_EXAMPLES=20000 searches deeper.
FUZZ = settings(max_examples=int(os.environ.get("LSTM_LAB_FUZZ_EXAMPLES", "600")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def assert_one_sentence(error: LabError) -> None:
    message = str(error)
    assert message and "\n" not in message and "\r" not in message, message
    assert message.endswith((".", ".)")), message
    assert len(message) < 500, message


# --- experiment files --------------------------------------------------------------------------

_SCHEMA_KEYS = [
    "name", "data", "models", "window", "split", "training", "source", "target", "time_column", "features",
    "sha256", "layers", "between", "dense", "dense_activation", "units", "activation", "recurrent_activation",
    "dropout", "recurrent_dropout", "lookback", "framing", "scaling", "future_steps", "test_size", "epochs",
    "batch_size", "optimizer", "learning_rate", "loss", "validation_share", "patience", "seeds", "clipnorm",
    "divergence_loss",
]
_EXTREMES = [0, -1, 1, 2**31, 2**63, 10**30, -(10**30), 10**400, 1e308, -1e308, 5e-324, math.inf, -math.inf,
             math.nan, 0.5, 1.0, True, False, None, "", " ", "relu", "tanh", "steps", "x" * 10_000, [], {}, [[1]],
             [1, 1], {"units": 2}]
_scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
            | st.sampled_from(_EXTREMES))
json_values = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.sampled_from(_SCHEMA_KEYS) | st.text(max_size=8), children, max_size=6),
    max_leaves=40,
)


def _valid_experiment() -> dict[str, Any]:
    return {
        "name": "fuzz",
        "data": {"source": "sample:hotel_h2_weekly_cancellations.csv", "target": "Cancellations",
                 "time_column": "Date", "features": ["x"], "sha256": None},
        "models": [
            {"name": "tanh", "layers": [{"units": 4}, {"units": 2, "activation": "relu"}], "between": "relu",
             "dense": [3], "dense_activation": "relu"},
            {"name": "relu", "layers": [{"units": 3, "activation": "relu", "dropout": 0.1}]},
        ],
        "window": {"lookback": 5, "framing": "features", "scaling": "minmax", "future_steps": 4},
        "split": {"test_size": 10},
        "training": {"epochs": 2, "batch_size": 16, "optimizer": "adam", "learning_rate": 0.01, "loss": "mse",
                     "validation_share": 0.2, "patience": 0, "seeds": [0, 1], "clipnorm": None,
                     "divergence_loss": 1000.0},
    }


def _places(value: Any, path: tuple = ()) -> list[tuple]:
    """Every path to a value inside `value` (dict keys and list indices)."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _places(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _places(item, (*path, i))
    return found


@st.composite
def mutated_experiments(draw: st.DrawFn) -> Any:
    """A valid experiment with one to three things changed: a value replaced, a key dropped or added."""
    raw: Any = _valid_experiment()
    for _ in range(draw(st.integers(1, 3))):
        places = _places(raw)
        path = draw(st.sampled_from(places))
        kind = draw(st.sampled_from(["replace", "replace", "drop", "add"]))
        if not path:
            if kind == "replace":
                raw = copy.deepcopy(draw(json_values))
            continue
        parent = raw
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        if kind == "replace":  # a copy: _EXTREMES holds lists and dicts that must stay as they are
            parent[last] = copy.deepcopy(draw(json_values | st.sampled_from(_EXTREMES)))
        elif kind == "drop":
            del parent[last]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(_SCHEMA_KEYS) | st.text(max_size=8))] = copy.deepcopy(draw(json_values))
        else:
            parent.insert(int(last), copy.deepcopy(parent[last] if draw(st.booleans()) else draw(json_values)))
    return raw


def _load(raw: Any) -> ExperimentSpec | None:
    """from_json on `raw` written as JSON, and from_dict on it directly: a spec or a LabError."""
    text = json.dumps(raw)
    results = []
    for load in (lambda: ExperimentSpec.from_json(text), lambda: ExperimentSpec.from_json(text.encode()),
                 lambda: ExperimentSpec.from_dict(raw)):
        try:
            results.append(load())
        except LabError as exc:
            assert isinstance(exc, SpecError)
            assert_one_sentence(exc)
            results.append(type(exc))
    assert results[0] == results[1]
    spec = results[0]
    if isinstance(spec, ExperimentSpec):
        assert ExperimentSpec.from_json(spec.to_json()) == spec  # what loads, round-trips
        return spec
    return None


@FUZZ
@given(json_values)
def test_any_json_value_loads_or_is_refused_in_one_sentence(raw: Any) -> None:
    _load(raw)


@FUZZ
@given(mutated_experiments())
def test_mutated_experiments_load_or_are_refused_in_one_sentence(raw: Any) -> None:
    _load(raw)


def test_the_unmutated_experiment_loads() -> None:
    assert _load(_valid_experiment()) is not None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_any_text_is_valid_json_or_refused_in_one_sentence(text: str | bytes) -> None:
    try:
        ExperimentSpec.from_json(text)
    except SpecError as exc:
        assert_one_sentence(exc)


# --- CSV bytes ---------------------------------------------------------------------------------


def _read(content: bytes) -> Table | None:
    """read_csv, and series() on what it returns: tables and frames or DataErrors, nothing else."""
    try:
        table = read_csv(content, name="fuzz.csv")
    except DataError as exc:
        assert_one_sentence(exc)
        assert "could not be read as a table" not in str(exc)  # read_csv's net for unexpected errors
        return None
    assert table.rows >= 3 and len(table.frame) == table.rows
    assert list(table.frame.columns) == ([table.time_column] if table.time_column else []) + list(
        table.numeric_columns)
    assert all("\n" not in note for note in table.notes)
    try:
        frame = series(table, table.target_candidate, [c for c in table.numeric_columns[1:3]
                                                        if c != table.target_candidate])
    except DataError as exc:
        assert_one_sentence(exc)
    else:
        assert isinstance(frame, pd.DataFrame) and frame.notna().all().all()
    return table


@FUZZ
@given(st.binary(max_size=3000))
def test_any_bytes_read_as_a_table_or_are_refused_in_one_sentence(content: bytes) -> None:
    _read(content)


_cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**25), 10**25).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(lambda d: f"{d:,}"),
    st.floats(-1e6, 1e6).map(lambda v: f"{v:.2f}".replace(".", ",")),
    st.dates().map(lambda d: d.isoformat()),
    st.dates().map(lambda d: d.strftime("%d.%m.%Y")),
    st.dates().map(lambda d: d.strftime("%m/%d/%Y")),
    st.datetimes().map(lambda d: d.isoformat(sep=" ")),
    st.integers(1600, 2400).map(str),
    st.sampled_from(["", " ", "NA", "-", "?", "n/a", "inf", "∞", "2015-W27", "Q3 2020", "Jan 2020", "1 234,5",
                     "1'234", '"', '""', '"a,b"', '"x\ny"', "sep=;", "\t", "é", "\x00", "\ufeff"]),
    st.text(max_size=6),
)


_DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y", "%Y-%m-%d %H:%M:%S", "%Y", "%b %Y", "%G-W%V"]


@st.composite
def csv_texts(draw: st.DrawFn) -> bytes:
    """CSV-ish bytes: mostly a time column and number columns in one decimal style, with noise
    (blanks, missing-value words, text, quotes, ragged rows), random separators, quoting, line
    ends, BOM and encoding."""
    width = draw(st.integers(1, 4))
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    decimal = "," if sep != "," and draw(st.booleans()) else "."
    noise = draw(st.sampled_from([0.0, 0.0, 0.05, 0.3, 1.0]))
    n = draw(st.integers(0, 30))
    timed = draw(st.booleans())
    start = draw(st.dates(min_value=dt.date(1700, 1, 1), max_value=dt.date(2200, 1, 1)))
    step = draw(st.sampled_from([1, 7, 31, 366]))
    fmt = draw(st.sampled_from(_DATE_FORMATS))
    names = draw(st.lists(st.sampled_from(["value", "y", "x", "Sales", ""]) | st.text(max_size=5),
                          min_size=width, max_size=width, unique=draw(st.floats(0, 1)) > 0.1))
    header = (["date"] if timed else []) + names
    rows = []
    for i in range(n):
        row = [(start + dt.timedelta(days=i * step)).strftime(fmt)] if timed else []
        for _ in range(width):
            value = f"{draw(st.floats(-1e6, 1e6, allow_nan=False)):.3f}".replace(".", decimal)
            row.append(draw(_cells) if draw(st.floats(0, 1)) < noise else value)
        if draw(st.floats(0, 1)) < noise / 4:
            row = row[: draw(st.integers(0, len(row)))] + draw(st.lists(_cells, max_size=2))
        rows.append(row)
    quote_all = draw(st.booleans())

    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if quote_all else value

    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines = [sep.join(cell(c) for c in row) for row in [header, *rows]]
    text = draw(st.sampled_from(["", "sep=" + sep + end, end])) + end.join(lines) + draw(st.sampled_from(["", end]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        assume(False)
        raise


@FUZZ
@given(csv_texts())
def test_csv_like_text_reads_as_a_table_or_is_refused_in_one_sentence(content: bytes) -> None:
    _read(content)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.dates(dt.date(1678, 1, 1), dt.date(2261, 12, 31)).map(lambda d: d.isoformat()),
                min_size=3, max_size=30, unique=True),
       st.lists(st.floats(-1e9, 1e9), min_size=30, max_size=30))
def test_clean_csv_is_always_read(dates: list[str], values: list[float]) -> None:
    text = "date,value\n" + "".join(f"{d},{v!r}\n" for d, v in zip(sorted(dates), values, strict=False))
    table = _read(text.encode())
    assert table is not None and table.rows == len(dates) and table.time_column == "date"
