"""Tests for lstm_app.data: real samples, the CSV corpus, the missing-value policy, limits."""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_app import data
from lstm_app.data import read_csv, reader, series
from lstm_app.data.samples import sample_path
from lstm_app.errors import DataError

CORPUS = Path(__file__).parent / "csv_corpus"
EXPECTED: dict[str, dict] = {
    k: v for k, v in json.loads((CORPUS / "expected.json").read_text(encoding="utf-8")).items()
    if not k.startswith("_")
}
CORPUS_FILES = sorted(p.name for p in CORPUS.iterdir() if p.name != "expected.json")


def assert_sentence(message: str) -> None:
    """A user-facing error: one line, one sentence, ends with a full stop, not too long."""
    assert "\n" not in message and "\r" not in message
    assert message.endswith(".")
    assert len(message) < 300
    assert "Traceback" not in message


def csv_bytes(text: str) -> bytes:
    return text.encode("utf-8")


# --- the real samples ----------------------------------------------------------------------------

REAL = [
    ("hotel_h1_weekly_cancellations.csv", 115, "Date", "weekly", "W-SUN", ("Cancellations",)),
    ("hotel_h2_weekly_cancellations.csv", 115, "Date", "weekly", "W-SUN", ("Cancellations",)),
    ("airline_passengers_monthly.csv", 144, "date", "monthly", "MS", ("passengers",)),
    ("sunspots_annual.csv", 309, "date", "yearly", "YS-JAN", ("SUNACTIVITY",)),
]


@pytest.mark.parametrize(("name", "rows", "time", "label", "alias", "numeric"), REAL)
def test_real_samples_parse(name: str, rows: int, time: str, label: str, alias: str,
                            numeric: tuple[str, ...]) -> None:
    table = read_csv(sample_path(name))
    assert (table.rows, table.time_column, table.frequency_label) == (rows, time, label)
    assert table.frequency == alias
    assert table.numeric_columns == numeric
    assert (table.duplicates, table.gaps, table.dropped) == (0, 0, 0)
    assert table.missing == dict.fromkeys(numeric, 0)
    assert table.target_candidate == numeric[0]
    assert list(table.frame.columns) == [time, *numeric]
    assert table.frame[time].is_monotonic_increasing
    assert all(table.frame[c].dtype == np.float64 for c in numeric)
    frame = series(table, numeric[0])
    assert isinstance(frame.index, pd.DatetimeIndex) and len(frame) == rows
    assert frame.index.name == time


def test_hotel_files_ignore_the_yearweek_text_column() -> None:
    table = read_csv(sample_path("hotel_h2_weekly_cancellations.csv"))
    assert table.text_columns == ("YearWeek",)
    assert table.start == "2015-06-21" and table.end == "2017-08-27"
    assert table.frame["Cancellations"].sum() == 33102
    assert read_csv(sample_path("hotel_h1_weekly_cancellations.csv")).frame["Cancellations"].sum() == 11122


@pytest.mark.parametrize("name", [r[0] for r in REAL])
def test_bytes_and_path_give_the_same_table(name: str) -> None:
    path = sample_path(name)
    a = read_csv(path)
    b = read_csv(path.read_bytes(), name=name)
    assert a.summary() == b.summary()
    pd.testing.assert_frame_equal(a.frame, b.frame)


def test_summary_is_json_and_has_the_cli_keys() -> None:
    summary = read_csv(sample_path("sunspots_annual.csv")).summary().to_dict()
    json.dumps(summary)
    for key in ("rows", "time_column", "numeric_columns", "frequency", "frequency_label", "missing",
                "duplicates", "gaps", "start", "end", "target_candidate", "notes"):
        assert key in summary


# --- the corpus of awkward files ------------------------------------------------------------------


def test_corpus_is_big_and_every_expectation_has_a_file() -> None:
    assert len(CORPUS_FILES) >= 30
    assert sorted(EXPECTED) == CORPUS_FILES


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_file(name: str) -> None:
    assert name in EXPECTED, f"add an expectation for {name} to tests/csv_corpus/expected.json"
    want = EXPECTED[name]
    if "error" in want:
        with pytest.raises(DataError) as info:
            read_csv(CORPUS / name)
        assert_sentence(str(info.value))
        assert want["error"].lower() in str(info.value).lower()
        return
    table = read_csv(CORPUS / name)
    assert table.rows == want["rows"]
    assert table.time_column == want["time_column"]
    assert list(table.numeric_columns) == want["numeric_columns"]
    assert table.frequency_label == want["frequency_label"]
    for key in ("duplicates", "gaps", "dropped", "missing"):
        if key in want:
            assert getattr(table, key) == want[key], key
    if "first_value" in want:
        assert table.frame[table.target_candidate].iloc[0] == pytest.approx(want["first_value"])
    assert all("\n" not in note for note in table.notes)
    if table.time_column is None:
        assert table.frequency is None and table.start is None
    if "series_error" in want:
        with pytest.raises(DataError) as info:
            series(table, table.target_candidate)
        assert_sentence(str(info.value))
        assert want["series_error"].lower() in str(info.value).lower()
    else:
        frame = series(table, table.target_candidate)
        assert frame.notna().all().all() and len(frame) >= data.MIN_ROWS


def test_decimal_comma_and_thousands_values_are_exact() -> None:
    table = read_csv(csv_bytes("Datum;Wert;Umsatz\n01.02.2020;1,5;1.234,5\n02.02.2020;-2,25;2.000\n"
                               "03.02.2020;3;12.345.678,9\n"))
    assert table.frame["Wert"].tolist() == [1.5, -2.25, 3.0]
    assert table.frame["Umsatz"].tolist() == [1234.5, 2000.0, 12345678.9]
    assert table.frame["Datum"].iloc[0] == pd.Timestamp("2020-02-01")


def test_iso_week_labels_parse_to_mondays() -> None:
    table = read_csv(csv_bytes("week,v\n2015-W27,1\n2015-W28,2\n2015-W29,4\n"))
    assert table.frame["week"].tolist() == [pd.Timestamp("2015-06-29"), pd.Timestamp("2015-07-06"),
                                            pd.Timestamp("2015-07-13")]
    assert all(t.day_name() == "Monday" for t in table.frame["week"])


def test_forced_time_column() -> None:
    text = "Date,YearWeek,Cancellations\n2015-06-21,2015-W27,1\n2015-06-28,2015-W28,2\n2015-07-05,2015-W29,3\n"
    table = read_csv(csv_bytes(text), time_column="YearWeek")
    assert table.time_column == "YearWeek" and table.text_columns == ("Date",)
    with pytest.raises(DataError, match="not in the file"):
        read_csv(csv_bytes(text), time_column="Week")
    with pytest.raises(DataError, match="cannot be the time column"):
        read_csv(csv_bytes(text), time_column="Cancellations")


# --- series() and the missing-value policy ---------------------------------------------------------

POLICY_CSV = (
    "date,y,x\n"
    "2020-01-01,,1\n"        # leading missing target: trimmed
    "2020-01-02,10,2\n"
    "2020-01-03,,3\n"        # interior: interpolated to 15
    "2020-01-04,20,4\n"
    "2020-01-05,30,\n"       # interior missing feature: interpolated to 5
    "2020-01-06,40,6\n"
    "2020-01-07,50,7\n"
    "2020-01-08,60,8\n"
    "2020-01-09,70,9\n"
    "2020-01-10,80,10\n"
    "2020-01-11,90,11\n"
    "2020-01-12,,12\n"       # trailing missing target: trimmed
)


def test_missing_value_policy_trims_ends_and_interpolates_inside() -> None:
    table = read_csv(csv_bytes(POLICY_CSV))
    assert table.missing == {"y": 3, "x": 1}
    frame = series(table, "y", ["x"])
    assert list(frame.columns) == ["y", "x"]
    assert (frame.dtypes == np.float64).all()
    assert frame.index[0] == pd.Timestamp("2020-01-02") and frame.index[-1] == pd.Timestamp("2020-01-11")
    assert frame.loc["2020-01-03", "y"] == 15.0
    assert frame.loc["2020-01-05", "x"] == 5.0
    assert frame.notna().all().all()


def test_missing_value_policy_is_in_the_module_docstring() -> None:
    doc = reader.__doc__ or ""
    assert "Missing-value policy:" in doc
    assert "20%" in doc and "linear interpolation" in doc


def test_too_much_missing_is_rejected() -> None:
    rows = "".join(f"2020-01-{d:02d},{'' if d % 2 else d}\n" for d in range(1, 21))
    table = read_csv(csv_bytes("date,y\n" + rows))
    with pytest.raises(DataError, match="20%") as info:
        series(table, "y")
    assert_sentence(str(info.value))


def test_gaps_are_reported_not_filled() -> None:
    table = read_csv(csv_bytes("date,y\n2020-01-01,1\n2020-01-02,2\n2020-01-05,3\n2020-01-06,5\n"))
    assert table.frequency_label == "daily" and table.gaps == 2
    assert len(series(table, "y")) == 4


def test_duplicates_keep_the_last_row() -> None:
    table = read_csv(csv_bytes("date,y\n2020-01-01,1\n2020-01-02,2\n2020-01-02,7\n2020-01-03,3\n"))
    assert table.duplicates == 1
    assert table.frame["y"].tolist() == [1.0, 7.0, 3.0]


def test_rows_with_unreadable_time_are_dropped_and_counted() -> None:
    table = read_csv(csv_bytes("date,y\n2020-01-01,1\n2020-01-02,2\nsoon,5\n2020-01-03,3\n2020-01-04,4\n"))
    assert (table.dropped, table.rows) == (1, 4)
    assert any("soon" in note for note in table.notes)


@pytest.mark.parametrize(("target", "features", "word"), [
    ("nope", (), "not in the file"),
    ("date", (), "time column"),
    ("label", (), "holds text"),
    ("y", ("y",), "twice"),
    ("y", ("x", "x"), "twice"),
    ("y", ("nope",), "not in the file"),
])
def test_series_rejects_bad_column_choices(target: str, features: tuple[str, ...], word: str) -> None:
    table = read_csv(csv_bytes("date,label,y,x\n" + "".join(
        f"2020-01-{d:02d},a{d},{d * d},{d}\n" for d in range(1, 11))))
    with pytest.raises(DataError, match=word) as info:
        series(table, target, features)
    assert_sentence(str(info.value))
    if word == "not in the file":
        assert "'y', 'x'" in str(info.value)


def test_constant_feature_is_rejected() -> None:
    table = read_csv(csv_bytes("date,y,c\n" + "".join(f"2020-01-{d:02d},{d},1\n" for d in range(1, 11))))
    with pytest.raises(DataError, match="constant"):
        series(table, "y", ["c"])


def test_series_without_time_column_uses_a_range_index() -> None:
    table = read_csv(csv_bytes("y\n1\n2\n4\n8\n"))
    assert table.time_column is None and table.frequency_label == data.NO_TIME_LABEL
    frame = series(table, "y")
    assert isinstance(frame.index, pd.RangeIndex) and frame["y"].tolist() == [1.0, 2.0, 4.0, 8.0]


# --- size limit -------------------------------------------------------------------


def test_bytes_over_the_limit_are_rejected() -> None:
    payload = b"y\n" + b"1\n" * ((data.MAX_BYTES - 2) // 2 + 1)
    assert len(payload) == data.MAX_BYTES + 2 - (data.MAX_BYTES % 2)
    assert len(payload) > data.MAX_BYTES
    with pytest.raises(DataError, match="50 MB") as info:
        read_csv(payload)
    assert_sentence(str(info.value))


def test_file_over_the_limit_is_rejected_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("wb") as f:
        f.truncate(data.MAX_BYTES + 1)
    with pytest.raises(DataError, match="50 MB"):
        read_csv(big)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no file") as info:
        read_csv(tmp_path / "absent.csv")
    assert_sentence(str(info.value))
    with pytest.raises(DataError, match="folder"):
        read_csv(tmp_path)


# --- round trip over random separators and decimal styles -------------------------------------------

_values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda v: round(v, 3))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    columns=st.lists(st.lists(_values, min_size=5, max_size=5), min_size=1, max_size=3),
    style=st.sampled_from([(",", "."), (";", ","), (";", "."), ("\t", "."), ("\t", ","), ("|", ",")]),
    with_time=st.booleans(),
    crlf=st.booleans(),
    bom=st.booleans(),
)
def test_random_frames_round_trip(columns: list[list[float]], style: tuple[str, str], with_time: bool,
                                  crlf: bool, bom: bool) -> None:
    sep, decimal = style
    names = [f"v{i}" for i in range(len(columns))]
    header = (["date"] if with_time else []) + names
    lines = [sep.join(header)]
    for r in range(5):
        cells = [f"{c[r]:.3f}".replace(".", decimal) for c in columns]
        lines.append(sep.join(([f"2021-03-{r + 1:02d}"] if with_time else []) + cells))
    text = ("\r\n" if crlf else "\n").join(lines) + "\n"
    table = read_csv((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    assert table.numeric_columns == tuple(names)
    assert table.time_column == ("date" if with_time else None)
    for name, col in zip(names, columns, strict=True):
        got = table.frame[name].tolist()
        assert all(math.isclose(a, b, abs_tol=1e-9) for a, b in zip(got, col, strict=True))


def test_numbers_in_a_calendar_named_column_are_not_years() -> None:
    table = read_csv(csv_bytes("visits_per_day,sales\n1200,5\n1350,6\n1500,7\n1720,9\n"))
    assert table.time_column is None
    assert table.numeric_columns == ("visits_per_day", "sales")
    assert table.target_candidate == "sales"


def test_unclosed_quote_in_a_long_file_names_the_line_it_opens_on() -> None:
    rows = b"".join(b"2020-01-%02d,%d\n" % (i % 28 + 1, i) for i in range(20000))
    with pytest.raises(DataError, match="line 2") as info:
        read_csv(b'date,value\n2020-01-01,"5\n' + rows)
    assert_sentence(str(info.value))


def test_upload_limit_agrees_with_the_streamlit_config() -> None:
    import tomllib

    config = tomllib.loads((Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml").read_text())
    megabytes = config["server"]["maxUploadSize"]
    assert megabytes == data.UPLOAD_LIMIT_MB
    # Streamlit's upload widget counts a megabyte as 1,000,000 bytes (except on Windows), so a file
    # the browser lets through is at most this big, and the reader must accept exactly that.
    assert megabytes * 1_000_000 == data.MAX_BYTES
    read_csv(b"y\n" + b"1\n" * 5)  # well under the limit
    with pytest.raises(DataError, match=f"upload limit of {megabytes} MB"):
        read_csv(b" " * (data.MAX_BYTES + 1))


def test_a_long_text_cell_in_an_ignored_column_is_read() -> None:
    note = "lorem ipsum, " * 16_000  # 208 kB, over the csv module's default field limit of 128 kB
    text = "date,value,note\n" + "".join(f'2020-01-{d:02d},{d},"{note if d == 2 else "x"}"\n' for d in range(1, 11))
    table = read_csv(csv_bytes(text))
    assert table.rows == 10 and table.numeric_columns == ("value",) and table.text_columns == ("note",)


# --- the bulk (pyarrow) path reads exactly what the line-by-line path reads ------------------------


def _fast_and_slow(content: bytes) -> tuple[object, object]:
    """(bulk result or None if it declines, line-by-line result), a DataError given as its message."""
    from lstm_app.data import _bulk, _parse

    def attempt(read):  # type: ignore[no-untyped-def]
        try:
            return read()
        except DataError as exc:
            return f"DataError: {exc}"

    text, _, codec = _parse.decode_as(content)
    if codec not in _bulk._PYARROW_CODECS:
        return None, None
    slow = attempt(lambda: _parse.split(text))
    named = attempt(lambda: _parse.ragged(text))  # the quick scan for a too-wide record
    assert named is None or named == slow
    try:
        fast = attempt(lambda: _bulk._fast(content, text, True, codec))
    except _bulk._TooWide:  # the quick scan names the line, or split does
        return None, slow
    return fast, slow


def assert_same_split(fast: object, slow: object) -> None:
    if isinstance(fast, str) or isinstance(slow, str):
        assert fast == slow
        return
    pd.testing.assert_frame_equal(fast.cells.astype(object), slow.cells)
    assert (fast.separator, fast.notes) == (slow.separator, slow.notes)


SPLIT_FILES = [CORPUS / n for n in CORPUS_FILES if n != "expected.json"] + sorted(
    sample_path(r[0]) for r in REAL)


@pytest.mark.parametrize("path", SPLIT_FILES, ids=lambda p: p.name)
def test_bulk_split_equals_line_by_line_split(path: Path) -> None:
    try:
        fast, slow = _fast_and_slow(path.read_bytes())
    except DataError:
        return  # refused while decoding (binary, empty, ZIP, gzip): the same for both paths
    if fast is not None:
        assert_same_split(fast, slow)


def test_the_bulk_path_reads_most_of_the_corpus() -> None:
    taken = 0
    for path in SPLIT_FILES:
        with contextlib.suppress(DataError):  # refused while decoding
            taken += _fast_and_slow(path.read_bytes())[0] is not None
    assert taken >= 0.8 * len(SPLIT_FILES)


_cell = st.one_of(
    st.sampled_from(["", " ", "NA", "-", "1,5", "1.234,5", "2020-01-03", "03/01/2020", "2015-W27", '"', '""',
                     "a b", "x;y", "1e5", "inf", "ä", "  7 ", "\t", "sep=;"]),
    st.floats(allow_nan=False, allow_infinity=False).map(str),
    st.integers(-10**6, 10**6).map(str),
    st.text(alphabet=' ,;|\t"abc01.-\r\n', max_size=6),
)


_rectangular = st.integers(1, 4).flatmap(
    lambda width: st.lists(st.lists(_cell, min_size=width, max_size=width), min_size=1, max_size=8))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=_rectangular | st.lists(st.lists(_cell, min_size=1, max_size=4), min_size=1, max_size=8),
    sep=st.sampled_from([",", ";", "\t", "|"]),
    quote_all=st.booleans(),
    line_end=st.sampled_from(["\n", "\r\n", "\r"]),
    lead=st.sampled_from(["", "\n", "sep=;\n", " \n"]),
)
def test_bulk_split_equals_line_by_line_split_on_generated_text(rows: list[list[str]], sep: str, quote_all: bool,
                                                                 line_end: str, lead: str) -> None:
    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if quote_all else value

    text = lead + line_end.join(sep.join(cell(c) for c in row) for row in rows) + line_end
    try:
        fast, slow = _fast_and_slow(text.encode("utf-8"))
    except DataError:
        return
    if fast is not None:
        assert_same_split(fast, slow)


@settings(max_examples=200, deadline=None)
@given(
    cells=st.lists(st.sampled_from(["1", "22", " 3", "4 ", "5\t", "\x1f6", "7 8", '"9"', '" 9"', "", "x"]),
                   min_size=1, max_size=12),
    sep=st.sampled_from([",", ";", "\t"]),
    chunk=st.integers(1, 9),
)
def test_edge_space_scan_finds_every_value_that_needs_stripping(cells: list[str], sep: str, chunk: int) -> None:
    from unittest import mock

    from lstm_app.data import _bulk

    text = "\n".join(sep.join(cells[i : i + 3]) for i in range(0, len(cells), 3))
    raw = text.encode()
    needs = any(value.strip('"') != value.strip('"').strip() for line in text.split("\n")
                for value in line.split(sep))
    with mock.patch.object(_bulk, "_CHUNK", chunk):  # small chunks: values straddle their borders
        found = _bulk._edge_spaces(b"xx" + raw, 2, sep)
    assert found or not needs  # it may say yes when unsure, never no when a value needs stripping


_number_text = st.one_of(
    st.floats(allow_nan=False).map(repr), st.integers().map(str),
    st.sampled_from(["", "NA", "nan", "N/A", "-", "inf", "-Infinity", "1,5", "1.234,5", "1 000", "+.5", "5.", "1e5",
                     "1E-3", "x", "0x10", "1_000", "١٢", "nan(1)", "-0", "00.1", "1e400", "-.e1"]),
)


@settings(max_examples=400, deadline=None)
@given(values=st.lists(_number_text, min_size=1, max_size=8), sep=st.sampled_from([",", ";"]),
       arrow=st.booleans())
def test_plain_number_fast_path_agrees_with_the_general_rules(values: list[str], sep: str, arrow: bool) -> None:
    from lstm_app.data import _parse

    column = pd.Series(values, index=range(2, 2 + len(values)), dtype="str" if arrow else object)
    fast = _parse._plain_numbers(column)
    general, bad, _ = _parse._convert(_parse.as_text(column), sep)
    if fast is not None:
        assert bad is None
        pd.testing.assert_series_equal(fast, general, check_exact=True)
    assert _parse.to_numbers(column, sep)[1] == bad


@pytest.mark.parametrize("tail", [["x"], ["1.234,5"], ["1,5", "x"], ["NA", "7"], ["∞"], ["1 234"]])
@pytest.mark.parametrize("head", [["1.5"], ["1,5"], ["x"], ["12.345"]])
def test_long_columns_give_what_the_whole_column_rules_give(head: list[str], tail: list[str]) -> None:
    from lstm_app.data import _parse

    values = head * (_parse._PREFIX + 5) + tail
    column = pd.Series(values, index=range(2, 2 + len(values)), dtype="str")
    got, bad = _parse.to_numbers(column, ";")
    want, want_bad, _ = _parse._convert(column, ";")
    assert bad == want_bad
    if want is None:
        assert got is None
    else:
        pd.testing.assert_series_equal(got, want, check_exact=True)


def test_a_time_outside_what_pandas_can_hold_is_an_unreadable_time() -> None:
    table = read_csv(csv_bytes("date,y\n2020-01-01,1\n2020-01-02,2\n6822-11-01,3\n2020-01-03,4\n2020-01-04,5\n"))
    assert (table.rows, table.dropped) == (4, 1)
    assert any("line 4" in note and "6822-11-01" in note for note in table.notes)


@pytest.mark.parametrize("content", [b"\xef", b"\xef\xbb", b"a\xef", b"\xef\xbb\xbf"])
def test_a_cut_off_byte_order_mark_is_not_an_internal_error(content: bytes) -> None:
    with pytest.raises(DataError) as info:
        read_csv(content)
    assert_sentence(str(info.value))
    assert "could not be read as a table" not in str(info.value)


_NUMERIC_FORMATS = ["%d.%m.%Y %H:%M", "%d/%m/%Y", "%m/%d/%Y %H:%M:%S", "%Y/%m/%d", "%d-%m-%Y %H:%M", "%Y%m%d",
                    "%m/%Y", "%Y.%m.%d"]


@st.composite
def _date_texts(draw: st.DrawFn) -> tuple[str, list[str]]:
    fmt = draw(st.sampled_from(_NUMERIC_FORMATS))
    values = []
    for _ in range(draw(st.integers(1, 30))):
        fields = {"Y": draw(st.integers(0, 9999)), "m": draw(st.integers(0, 13)), "d": draw(st.integers(0, 32)),
                  "H": draw(st.integers(0, 25)), "M": draw(st.integers(0, 61)), "S": draw(st.integers(0, 61))}
        padded = draw(st.booleans()) or draw(st.booleans())
        text = fmt
        for code, number in fields.items():
            shown = f"{number:04d}" if code == "Y" else f"{number:02d}" if padded else str(number)
            text = text.replace("%" + code, shown)
        text = draw(st.sampled_from([text, text, text, text.replace(" ", "  "), text + "x", " " + text,
                                     text.replace(" ", "T"), ""]))
        values.append(text)
    return fmt, values


@settings(max_examples=300, deadline=None)
@given(_date_texts(), st.booleans())
def test_fixed_width_dates_read_in_bulk_as_pandas_reads_them(case: tuple[str, list[str]], arrow: bool) -> None:
    from unittest import mock

    from lstm_app.data import _dates

    fmt, values = case
    column = pd.Series(values, index=range(5, 5 + len(values)), dtype="str" if arrow else object)

    def slow(v: pd.Series) -> pd.Series:
        return pd.to_datetime(v, format=fmt, errors="coerce")

    with mock.patch.object(_dates, "MIN_VALUES", 1):
        fast = _dates.parse(column, fmt, slow)
    if fast is not None:
        pd.testing.assert_series_equal(fast, _dates.nanoseconds(slow(column)))
