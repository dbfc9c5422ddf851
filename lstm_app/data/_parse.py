"""Bytes → a frame of stripped strings, and strings → numbers, for `lstm_app.data`.

`split` tokenises with the standard `csv` module so that every problem (ragged line, unclosed
quote, binary content) can be reported with its line number in one sentence; `lstm_app._bulk`
reads plain files faster and falls back to it. `to_numbers` works column-wise (pyarrow kernels
where pandas has them), never cell by cell in Python on the common path.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from ..text import quote

try:  # pyarrow comes with Streamlit; without it numbers are converted by pandas alone
    import pyarrow as pa
    import pyarrow.compute as pc
except ImportError:  # pragma: no cover
    pa = None

__all__ = [
    "MISSING_ANY_CASE", "MISSING_TOKENS", "WHITESPACE", "RawTable", "as_text", "decode", "decode_as", "quote",
    "ragged", "split", "to_numbers",
]

MISSING_TOKENS = frozenset(
    {"", "na", "n/a", "nan", "null", "none", "-", "--", "?", ".", "#n/a", "missing", "nat"}
)
# Every capitalisation of the tokens, so that a column is matched as it is, without a lowered copy
# (no other character lowers to one of their ASCII letters; tests/test_data.py checks).
MISSING_ANY_CASE = frozenset(
    "".join(chars) for token in MISSING_TOKENS for chars in itertools.product(*({c, c.upper()} for c in token))
)
_SEPARATORS = (",", ";", "\t", "|")
_SEP_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_NUMBER_DOT = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)?(?:\.\d*)?(?:[eE][+-]?\d+)?")
_NUMBER_COMMA = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:\.\d{3})+)?(?:,\d*)?(?:[eE][+-]?\d+)?")
_INF = re.compile(r"[+-]?(?:inf|infinity|∞)", re.IGNORECASE)
_DIGIT_SPACE = re.compile(r"(?<=\d)[ \u00a0\u202f'](?=\d{3}(?!\d))")
# Python's `\s` spelled out as characters: pandas hands `\s` to Python's `re` (one call per cell),
# a class of plain characters to pyarrow's RE2 (one call per column).
WHITESPACE = "\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_SPACED = "[ \u00a0\u202f']"  # the characters _DIGIT_SPACE removes, as literal characters for pyarrow
_PREFIX = 2000  # values looked at before a whole column when it may be text
_CLEAN_CELL = re.compile(r"[+-]?\d[\d.,:/ T-]*")
_LINE = re.compile(r"[^\n]*\n|[^\n]+")
# The csv module refuses fields over 128 kB by default, which reads a long text cell in an ignored
# column as "a quote that is never closed"; a field can be as long as the file itself. The limit is
# process-wide, so it is only ever raised.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
_MISSING_ARROW = pa.array(sorted(MISSING_ANY_CASE)) if pa is not None else None


@dataclass(frozen=True)
class RawTable:
    """The file's cells as stripped strings; the index holds each row's line number in the file."""

    cells: pd.DataFrame
    separator: str
    notes: tuple[str, ...]


def decode(data: bytes) -> tuple[str, tuple[str, ...]]:
    """Decode file bytes (UTF-8, UTF-8 with BOM, UTF-16 with BOM, else Windows-1252/Latin-1)."""
    text, notes, _ = decode_as(data)
    return text, notes


def decode_as(data: bytes, head: int | None = None) -> tuple[str, tuple[str, ...], str]:
    """`decode`, also naming the codec used: utf-16, utf-8-sig, cp1252 or latin-1.

    With `head`, only the text of the first `head` bytes is returned (all of them are still
    checked), so that a big file is not held twice, as bytes and as text.
    """
    if not data or data.isspace():  # not data.strip(), which would copy the whole file
        raise DataError("The file is empty: upload a CSV with a header row and at least one data row.")
    magic = data[:8]
    if magic.startswith(b"PK\x03\x04"):
        raise DataError(
            "The file is a ZIP archive or an Excel workbook, not a CSV: save the sheet as CSV and upload that."
        )
    if magic.startswith(b"\x1f\x8b"):
        raise DataError("The file is gzip-compressed, not a plain CSV: decompress it and upload the CSV.")
    if magic.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), ("The file is UTF-16 text; it was decoded as such.",), "utf-16"
        except UnicodeDecodeError:
            pass
    notes: tuple[str, ...] = ()
    codec = next(c for c in ("utf-8-sig", "cp1252", "latin-1") if _decodes(data, c))
    if codec != "utf-8-sig":
        notes = ("The file is not UTF-8; it was read as Windows-1252/Latin-1.",)
    if head is None or head >= len(data):
        text = data.decode(codec)
    else:
        text = codecs.getincrementaldecoder(codec)().decode(memoryview(data)[:head])
    sample = text[:65536]
    control = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n\x0c")
    if "\x00" in sample or control > max(2, len(sample) // 100):
        raise DataError(
            "The file looks like binary data, not text: upload a CSV file (comma, semicolon or tab separated)."
        )
    return text, notes, codec


def _decodes(data: bytes, codec: str) -> bool:
    """Whether `data` is valid in `codec`, checked a megabyte at a time (no copy of the whole)."""
    decoder = codecs.getincrementaldecoder(codec)()
    view = memoryview(data)
    try:
        for start in range(0, len(data), 1 << 20):
            decoder.decode(view[start : start + (1 << 20)], final=start + (1 << 20) >= len(data))
    except UnicodeDecodeError:
        return False
    return not decoder.getstate()[0]  # utf-8-sig keeps a lone b"\xef" waiting for a BOM, even when final


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


def _content(text: str) -> tuple[str, int, str]:
    """Line-end-normalised text from the first line after leading blank lines (and an Excel
    ``sep=`` line) on, the number of lines before it, and the separator."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    pos = first = 0
    while True:
        end = text.find("\n", pos)
        line = text[pos:] if end < 0 else text[pos:end]
        if line.strip():
            break
        if end < 0:
            return "", first + 1, ","  # only blank lines
        pos, first = end + 1, first + 1
    forced = re.fullmatch(r"\s*sep=(.)\s*", line)
    if forced:
        end = text.find("\n", pos)
        pos, first = (len(text) if end < 0 else end + 1), first + 1
    content = text[pos:]
    if forced:
        return content, first, forced.group(1)
    sample = list(itertools.islice((ln for ln in _lines(content) if ln.strip()), 60))
    return content, first, _sniff([ln.rstrip("\n") for ln in sample])


def _lines(text: str) -> Iterator[str]:
    """The lines of `text` with their line ends, one at a time (no copy of the whole)."""
    return (m.group(0) for m in _LINE.finditer(text))


def _records(content: str, first: int, sep: str) -> Iterator[tuple[list[str], int]]:
    """(row, line it starts on) for every CSV record, with the tokeniser's problems as DataErrors."""
    reader = csv.reader(_lines(content), delimiter=sep, quotechar='"')
    row_start = first + 1
    try:
        for row in reader:
            if any("\n" in c and sep in c for c in row):
                raise DataError(
                    f"A quoted value that starts on line {row_start} runs over several lines and holds "
                    "separators: check for a quote that is never closed."
                )
            yield row, row_start
            row_start = first + reader.line_num + 1
    except csv.Error as exc:
        raise DataError(
            f"The row starting on line {row_start} could not be read as CSV ({str(exc).rstrip('.')}): "
            "check for a quote that is never closed."
        ) from None


def _too_wide(line: int, fields: int, width: int, sep: str) -> DataError:
    return DataError(
        f"Line {line} has {fields} fields but the header has {width} ({_SEP_NAMES.get(sep, repr(sep))}-separated): "
        "remove the extra separator or put quotes around a value that contains it."
    )


def ragged(text: str) -> None:
    """Raise the DataError `split` would raise for a record wider than the header, without storing
    the rows; return quietly when there is none, or when only `split` can tell."""
    content, first, sep = _content(text)
    header: list[str] | None = None
    wide: tuple[int, int] | None = None
    for row, line in _records(content, first, sep):  # to the end: a runaway quote later wins
        if not any(c.strip() for c in row):
            continue
        if header is None:
            header = [c.strip() for c in row]
            if not header[-1] and not (all(_looks_numeric(c) or not c for c in header) and any(header)):
                return  # an unnamed last column may be trimmed away, which only `split` can tell
        elif wide is None and len(row) > len(header) and len(_rstrip(row)) > len(header):
            wide = (line, len(_rstrip(row)))
    if header is not None and wide is not None:
        raise _too_wide(*wide, len(header), sep)


def split(text: str) -> RawTable:
    """Split decoded text into header + rows of stripped strings, one sentence per problem."""
    content, first, sep = _content(text)
    notes: list[str] = []
    header: list[str] | None = None
    header_line = 0
    rows: list[list[str]] = []
    numbers: list[int] = []  # the line each row starts on
    for row, row_start in _records(content, first, sep):
        if any(c.strip() for c in row):
            if header is None:
                header, header_line = [c.strip() for c in row], row_start
            else:
                rows.append([c.strip() for c in row])
                numbers.append(row_start)
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
                raise _too_wide(numbers[i], len(extra), width, sep)
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


def as_text(cells: pd.Series) -> pd.Series:
    """A column of `RawTable` cells (already stripped) as strings that `.str` matches column-wise."""
    if isinstance(cells.dtype, pd.StringDtype) and not cells.hasnans:
        return cells  # arrow-backed already: no copy
    return cells.astype(object).map(str)


def to_numbers(cells: pd.Series, separator: str) -> tuple[pd.Series | None, tuple[object, str] | None]:
    """Convert a column of stripped strings to float64, or return (None, (row label, first bad value)).

    Decimal point with `,` thousands and decimal comma with `.` thousands are both tried; when
    both fit every value, commas are read as decimal commas unless the file is comma-separated.
    """
    values = as_text(cells)
    plain = _plain_numbers(values)
    if plain is not None:
        return plain, None
    if len(values) > _PREFIX:  # a text column usually shows itself early: look there first
        out, bad, certain = _convert(values.iloc[:_PREFIX], separator)
        if certain:
            return None, bad
    out, bad, _ = _convert(values, separator)
    return out, bad


def _convert(values: pd.Series, separator: str) -> tuple[pd.Series | None, tuple[object, str] | None, bool]:
    """`to_numbers` of stripped strings; the flag says the bad value is bad whatever follows it."""
    missing = values.isin(MISSING_ANY_CASE).to_numpy(dtype=bool)
    present = values[~missing] if missing.any() else values
    spaced = present.str.contains(_SPACED, regex=True).to_numpy(dtype=bool)
    if spaced.any():  # the regex has a look-behind, so it runs in Python: only where it can match
        present = present.copy()
        present[spaced] = present[spaced].str.replace(_DIGIT_SPACE, "", regex=True)
    if present.empty:
        return pd.Series(np.nan, index=values.index, dtype="float64"), None, False
    is_inf = present.str.fullmatch(_INF).to_numpy(dtype=bool)
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
            return None, (bad.index[0], str(bad.iloc[0])), False
        return None, (bad.index[0], str(bad.iloc[0])), True
    if style == "dot":
        normal = finite.str.replace(",", "", regex=False)
    else:
        normal = finite.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    out = np.full(len(values), np.nan)
    where = np.flatnonzero(~missing)
    out[where[~is_inf]] = _floats(normal)
    out[where[is_inf]] = np.where(present[is_inf].str.startswith("-").to_numpy(dtype=bool), -np.inf, np.inf)
    return pd.Series(out, index=values.index, dtype="float64"), None, False


def _floats(numbers: pd.Series) -> np.ndarray:
    """Strings already checked to be numbers → float64 (NaN where one still does not parse)."""
    if pa is not None:
        try:  # pyarrow's parser rounds correctly, like `float`, and is many times faster than pandas'
            return np.asarray(pc.cast(pa.array(numbers, type=pa.string()), pa.float64()), dtype="float64")
        except (pa.ArrowException, TypeError):
            pass
    return pd.to_numeric(numbers, errors="coerce").to_numpy(dtype="float64")


def _plain_numbers(values: pd.Series) -> pd.Series | None:
    """The common case at C speed: every value a missing token or a finite plain number (-1.5e3).

    None when anything else is there. pyarrow's parser reads no finite number that the regexes
    above would not (tested over every short string of digits, signs, points and exponents), so
    a cast that succeeds with finite results is what the general path would have read.
    """
    if pa is None or values.empty:
        return None
    try:
        text = pa.array(values)  # zero-copy for arrow-backed strings
        if not pa.types.is_string(text.type) and not pa.types.is_large_string(text.type):
            return None
        try:
            numbers = pc.cast(text, pa.float64())
        except pa.ArrowInvalid:  # a missing-value token or text: null the tokens and try once more
            missing = pc.is_in(text, value_set=_MISSING_ARROW)
            if not pc.any(missing).as_py():
                return None
            numbers = pc.cast(pc.if_else(missing, pa.scalar(None, text.type), text), pa.float64())
    except (pa.ArrowException, TypeError):
        return None
    if not pc.all(pc.is_finite(numbers)).as_py():  # nulls are skipped; inf and nan words are not plain
        return None
    floats = numbers.to_numpy(zero_copy_only=False) if isinstance(numbers, pa.Array) else numbers.to_numpy()
    return pd.Series(floats, index=values.index, dtype="float64")  # nulls become NaN
