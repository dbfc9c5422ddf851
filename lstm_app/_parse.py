"""Bytes → a frame of stripped strings, and strings → numbers, for `lstm_app.data`.

Tokenising uses the standard `csv` module rather than `pandas.read_csv` so that every problem
(ragged line, unclosed quote, binary content) can be reported with its line number in one sentence.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import DataError
from .text import quote

__all__ = ["MISSING_TOKENS", "RawTable", "decode", "quote", "split", "to_numbers"]

MISSING_TOKENS = frozenset(
    {"", "na", "n/a", "nan", "null", "none", "-", "--", "?", ".", "#n/a", "missing", "nat"}
)
_SEPARATORS = (",", ";", "\t", "|")
_SEP_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_NUMBER_DOT = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)?(?:\.\d*)?(?:[eE][+-]?\d+)?")
_NUMBER_COMMA = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:\.\d{3})+)?(?:,\d*)?(?:[eE][+-]?\d+)?")
_INF = re.compile(r"[+-]?(?:inf|infinity|∞)", re.IGNORECASE)
_DIGIT_SPACE = re.compile(r"(?<=\d)[ \u00a0\u202f'](?=\d{3}(?!\d))")
_CLEAN_CELL = re.compile(r"[+-]?\d[\d.,:/ T-]*")
# The csv module refuses fields over 128 kB by default, which reads a long text cell in an ignored
# column as "a quote that is never closed"; a field can be as long as the file itself. The limit is
# process-wide, so it is only ever raised.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))


@dataclass(frozen=True)
class RawTable:
    """The file's cells as stripped strings; the index holds each row's line number in the file."""

    cells: pd.DataFrame
    separator: str
    notes: tuple[str, ...]


def decode(data: bytes) -> tuple[str, tuple[str, ...]]:
    """Decode file bytes (UTF-8, UTF-8 with BOM, UTF-16 with BOM, else Windows-1252/Latin-1)."""
    if not data.strip():
        raise DataError("The file is empty: upload a CSV with a header row and at least one data row.")
    head = data[:8]
    if head.startswith(b"PK\x03\x04"):
        raise DataError(
            "The file is a ZIP archive or an Excel workbook, not a CSV: save the sheet as CSV and upload that."
        )
    if head.startswith(b"\x1f\x8b"):
        raise DataError("The file is gzip-compressed, not a plain CSV: decompress it and upload the CSV.")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), ("The file is UTF-16 text; it was decoded as such.",)
        except UnicodeDecodeError:
            pass
    notes: tuple[str, ...] = ()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        notes = ("The file is not UTF-8; it was read as Windows-1252/Latin-1.",)
    sample = text[:65536]
    control = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n\x0c")
    if "\x00" in sample or control > max(2, len(sample) // 100):
        raise DataError(
            "The file looks like binary data, not text: upload a CSV file (comma, semicolon or tab separated)."
        )
    return text, notes


def _sniff(lines: list[str]) -> str:
    """Pick the separator under which the header and the first rows agree best."""
    sample = lines[:60]
    best: tuple[float, int, int] | None = None
    chosen = ","
    for sep in _SEPARATORS:
        try:
            rows = list(csv.reader(sample, delimiter=sep, quotechar='"'))
        except csv.Error:
            continue
        rows = [r for r in rows if any(c.strip() for c in r)]
        if not rows:
            continue
        width = len(_rstrip(rows[0]))
        if width < 2:
            continue
        body = rows[1:] or rows
        fits = sum(1 for r in body if len(_rstrip(r)) <= width and len(r) >= min(width, 2))
        clean = sum(1 for r in body for c in r if _CLEAN_CELL.fullmatch(c.strip()))
        score = (fits / len(body), clean, width)
        if best is None or score > best:
            best, chosen = score, sep
    if best is None:  # one column: pick a separator that splits nothing, so "1,5" stays one value
        chosen = next((sep for sep in ("\t", ";", "|") if not any(sep in ln for ln in sample)), ",")
    return chosen


def _rstrip(row: list[str]) -> list[str]:
    end = len(row)
    while end > 0 and not row[end - 1].strip():
        end -= 1
    return row[:end]


def _looks_numeric(cell: str) -> bool:
    return bool(_NUMBER_DOT.fullmatch(cell) or _NUMBER_COMMA.fullmatch(cell)) and any(
        ch.isdigit() for ch in cell
    )


def split(text: str) -> RawTable:
    """Split decoded text into header + rows of stripped strings, one sentence per problem."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    notes: list[str] = []
    first = 0
    while first < len(lines) and not lines[first].strip():
        first += 1
    forced = re.fullmatch(r"\s*sep=(.)\s*", lines[first]) if first < len(lines) else None
    if forced:
        first += 1
    content = lines[first:]
    sep = forced.group(1) if forced else _sniff([ln for ln in content if ln.strip()])
    reader = csv.reader(io.StringIO("\n".join(content)), delimiter=sep, quotechar='"')
    header: list[str] | None = None
    header_line = 0
    rows: list[list[str]] = []
    numbers: list[int] = []  # the line each row starts on
    row_start = first + 1
    try:
        for row in reader:
            if any("\n" in c and sep in c for c in row):
                raise DataError(
                    f"A quoted value that starts on line {row_start} runs over several lines and holds "
                    "separators: check for a quote that is never closed."
                )
            if any(c.strip() for c in row):
                if header is None:
                    header, header_line = [c.strip() for c in row], row_start
                else:
                    rows.append([c.strip() for c in row])
                    numbers.append(row_start)
            row_start = first + reader.line_num + 1
    except csv.Error as exc:
        raise DataError(
            f"The row starting on line {row_start} could not be read as CSV ({str(exc).rstrip('.')}): "
            "check for a quote that is never closed."
        ) from None
    if header is None:
        raise DataError("The file is empty: upload a CSV with a header row and at least one data row.")
    if all(_looks_numeric(c) or not c for c in header) and any(header):
        rows.insert(0, header)
        numbers.insert(0, header_line)
        header = [f"column {i + 1}" for i in range(len(header))]
        notes.append("The first line holds numbers, not names, so it was read as data (no header row).")
    if not rows:
        raise DataError(
            "The file has a header row but no data rows: add at least a few rows of values below the header."
        )
    width = len(header)
    while width > 1 and not header[width - 1] and all(len(r) < width or not r[width - 1] for r in rows):
        width -= 1
    header = header[:width]
    for i, row in enumerate(rows):
        if len(row) > width:
            extra = _rstrip(row)
            if len(extra) > width:
                raise DataError(
                    f"Line {numbers[i]} has {len(extra)} fields but the header has {width} "
                    f"({_SEP_NAMES.get(sep, repr(sep))}-separated): remove the extra separator "
                    "or put quotes around a value that contains it."
                )
            rows[i] = row[:width]
        elif len(row) < width:
            rows[i] = row + [""] * (width - len(row))
    names = _name_columns(header)
    cells = pd.DataFrame(rows, columns=pd.Index(names, dtype=object), index=pd.Index(numbers), dtype=object)
    if sep != "," and width > 1:
        notes.append(f"Columns are separated by {_SEP_NAMES.get(sep, repr(sep))}s.")
    return RawTable(cells=cells, separator=sep, notes=tuple(notes))


def _name_columns(header: list[str]) -> list[str]:
    names: list[str] = []
    for i, name in enumerate(header):
        if not name:
            name = f"column {i + 1}"
        if name in names:
            raise DataError(
                f"The header names column {quote(name)} twice: give every column a unique name."
            )
        names.append(name)
    return names


def to_numbers(cells: pd.Series, separator: str) -> tuple[pd.Series | None, tuple[object, str] | None]:
    """Convert a column of strings to float64, or return (None, (row label, first bad value)).

    Decimal point with `,` thousands and decimal comma with `.` thousands are both tried; when
    both fit every value, commas are read as decimal commas unless the file is comma-separated.
    """
    values = cells.astype(object).map(str).str.strip()
    missing = values.str.lower().isin(MISSING_TOKENS)
    present = values[~missing].str.replace(_DIGIT_SPACE, "", regex=True)
    if present.empty:
        return pd.Series(np.nan, index=values.index, dtype="float64"), None
    is_inf = present.str.fullmatch(_INF)
    finite = present[~is_inf]
    has_digit = finite.str.contains(r"\d", regex=True)
    dot_ok = finite.str.fullmatch(_NUMBER_DOT) & has_digit
    comma_ok = finite.str.fullmatch(_NUMBER_COMMA) & has_digit
    if dot_ok.all() and comma_ok.all():
        has_comma = finite.str.contains(",", regex=False).any()
        style = "comma" if has_comma and separator != "," else "dot"
    elif dot_ok.all():
        style = "dot"
    elif comma_ok.all():
        style = "comma"
    else:
        bad = finite[~(dot_ok | comma_ok)]
        if bad.empty:  # every value is a number, but in two different decimal styles
            bad = finite[~dot_ok]
        return None, (bad.index[0], str(bad.iloc[0]))
    if style == "dot":
        normal = finite.str.replace(",", "", regex=False)
    else:
        normal = finite.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    out = pd.Series(np.nan, index=values.index, dtype="float64")
    out.loc[finite.index] = pd.to_numeric(normal, errors="coerce").astype("float64")
    inf_values = present[is_inf]
    out.loc[inf_values.index] = np.where(inf_values.str.startswith("-"), -np.inf, np.inf)
    return out, None
