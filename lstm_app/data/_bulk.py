"""CSV bytes → `RawTable` for `lstm_app.data`, parsed in bulk by pyarrow, else line by line.

`read` decodes (for the checks and notes of `_parse.decode`), then lets pyarrow's C parser split
the whole file at once. That fast path only answers for files it reads exactly as the line-by-line
tokeniser `_parse.split` would: one record per line, every record as wide as the header or the
first data row, UTF-8 or a one-byte encoding. Anything else (a ragged line, a value spanning lines,
lone CR line ends, a problem to report) goes to `_parse.split`, which names the line in one
sentence; a record wider than the header is first looked for by `_parse.ragged`, which reads
the file without keeping it. `tests/test_data.py` checks that the paths agree.
"""

from __future__ import annotations

import csv
import ctypes
import ctypes.util
import io
import re

import numpy as np
import pandas as pd

from ._parse import _SEP_NAMES, RawTable, _looks_numeric, _name_columns, _sniff, decode_as, ragged, split

try:  # pyarrow comes with Streamlit; without it every file takes the line-by-line path
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
except ImportError:  # pragma: no cover
    pa = None

__all__ = ["read", "release_memory"]

_HEAD_BYTES = 1 << 20  # the header, the `sep=` line and the sniffing sample must lie in the first MB
_SNIFF_LINES = 60  # as many non-blank lines as `_parse._sniff` looks at
_CHUNK = 1 << 20  # bytes scanned at a time for line ends and spaces (bounds the temporary masks)
_LINE_END = re.compile(r"\r\n|\r|\n")
_FIELD_COUNTS = re.compile(r"Expected (\d+) columns, got (\d+)")  # pyarrow's words for a ragged record
_PYARROW_CODECS = {"utf-8-sig": "utf8", "cp1252": "cp1252", "latin-1": "latin1"}
# malloc hands freed buffers back to the system; pyarrow's default pool keeps them for pyarrow's
# own reuse, and the pandas and numpy work after parsing cannot use them (a 50 MB file kept
# ~60 MB more resident that way).
_POOL = pa.system_memory_pool() if pa is not None else None


def read(data: bytes) -> tuple[RawTable, tuple[str, ...]]:
    """Split CSV bytes into stripped string cells; also return the notes of decoding."""
    if pa is None:
        text, notes, _ = decode_as(data)
        return split(text), notes
    text, notes, codec = decode_as(data, head=_HEAD_BYTES)  # the file is not held twice
    if codec not in _PYARROW_CODECS:
        return split(decode_as(data)[0]), notes
    complete = len(data) <= _HEAD_BYTES
    head = text if complete else text[: text.rfind("\n") + 1]
    wide = False
    try:
        raw = _fast(data, head, complete, codec)
    except _TooWide:
        raw, wide = None, True
    if raw is None:
        text = decode_as(data)[0]
        if wide:  # name the line without building the whole table first
            ragged(text)
        raw = split(text)
    release_memory()
    return raw, notes


class _TooWide(Exception):
    """pyarrow met a record with more fields than the first ones: `_parse.ragged` may name its line."""


def _libc_trim() -> object:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return None


_MALLOC_TRIM = _libc_trim()


def release_memory() -> None:
    """Hand freed heap memory back to the system after the big temporary buffers of a read.

    glibc keeps what is freed inside its heap for reuse (after a large free it even stops giving
    big blocks their own mappings), so a 50 MB file would leave about 60 MB more resident after
    each parsing step; `malloc_trim` returns it. Elsewhere this does nothing.
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)  # type: ignore[operator]  # a ctypes function


def _fast(data: bytes, head: str, complete: bool, codec: str) -> RawTable | None:
    """The table of a plain rectangular file, or None when `_parse.split` must read it."""
    lines = head.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not complete:
        lines.pop()  # the head ends with a line break: the last item is the start of the next line
    first = 0
    while first < len(lines) and not lines[first].strip():
        first += 1
    forced = re.fullmatch(r"\s*sep=(.)\s*", lines[first]) if first < len(lines) else None
    start = first + 1 if forced else first
    nonblank = [ln for ln in lines[start:] if ln.strip()]
    if not complete and len(nonblank) <= _SNIFF_LINES:
        return None
    sep = forced.group(1) if forced else _sniff(nonblank)
    if not (sep.isascii() and (sep.isprintable() or sep == "\t") and sep != '"'):
        return None
    # The header and the first data row, exactly as the line-by-line tokeniser finds them.
    reader = csv.reader(io.StringIO("\n".join(lines[start:])), delimiter=sep, quotechar='"')
    found: list[tuple[list[str], int, int]] = []  # (row, first line index, line index after it)
    row_start = start
    try:
        for row in reader:
            end = start + reader.line_num
            if any("\n" in c for c in row):
                return None
            if any(c.strip() for c in row):
                found.append((row, row_start, end))
                if len(found) == 2:
                    break
            row_start = end
    except csv.Error:
        return None
    if len(found) < 2:
        return None
    (header_row, header_at, header_end), (first_row, _, _) = found
    header = [c.strip() for c in header_row]
    numeric_header = all(_looks_numeric(c) or not c for c in header) and any(header)
    body_at = header_at if numeric_header else header_end
    width_read = max(len(header_row), len(first_row))
    cells, line_numbers = _parse_body(data, head, codec, body_at, sep, width_read)
    if cells is None:
        return None
    return _assemble(cells, line_numbers, header, numeric_header, sep)


def _byte_offset(data: bytes, head: str, codec: str, line: int) -> int:
    """Where line `line` (0-based) starts in `data`."""
    starts = [0] + [m.end() for m in _LINE_END.finditer(head)]
    chars = starts[line] if line < len(starts) else len(head)
    bom = 3 if codec == "utf-8-sig" and data.startswith(b"\xef\xbb\xbf") else 0
    return bom + len(head[:chars].encode("utf-8" if codec == "utf-8-sig" else codec))


def _parse_body(data: bytes, head: str, codec: str, body_at: int, sep: str,
                width: int) -> tuple[list[pa.ChunkedArray] | None, np.ndarray]:
    """The body's columns as strings and each record's line number, or (None, _) if not plain."""
    offset = _byte_offset(data, head, codec, body_at)
    numbers = _record_lines(data, offset, body_at + 1)
    release_memory()  # the line scan's temporary arrays
    if numbers is None:
        return None, np.empty(0)
    names = [f"c{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data)[offset:]),
            read_options=pacsv.ReadOptions(column_names=names, encoding=_PYARROW_CODECS[codec], use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=sep, quote_char='"', double_quote=True, escape_char=False,
                                              newlines_in_values=True, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.large_string()), null_values=[],
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
            memory_pool=_POOL,
        )
    except (pa.ArrowException, UnicodeError) as exc:  # a ragged record, bytes of another encoding: line by line
        fields = _FIELD_COUNTS.search(str(exc))
        if fields and int(fields[2]) > int(fields[1]):
            raise _TooWide from None
        return None, np.empty(0)
    if table.num_rows != len(numbers):
        return None, np.empty(0)  # some record spans lines
    columns = table.columns
    del table
    if _edge_spaces(data, offset, sep):
        for i in range(width):  # one column at a time, so that only one untrimmed copy is alive
            columns[i] = pc.utf8_trim_whitespace(columns[i], memory_pool=_POOL)
    if data.find(b'"', offset) >= 0 and any(pc.any(pc.match_substring_regex(c, "[\r\n]")).as_py() for c in columns):
        return None, np.empty(0)  # an unclosed quote ran to the end of the file
    blank = None
    for column in columns:
        empty = pc.equal(column, "")
        blank = empty if blank is None else pc.and_(blank, empty)
    if blank is not None and pc.any(blank).as_py():
        keep = pc.invert(blank)
        columns = [c.filter(keep) for c in columns]
        numbers = numbers[~blank.to_numpy()]
    return columns, numbers


def _record_lines(data: bytes, offset: int, first_line: int) -> np.ndarray | None:
    """The 1-based line number of every non-empty line from `offset` on, or None for lone CR line ends."""
    raw = np.frombuffer(data, dtype=np.uint8, offset=offset)
    ends = _find(raw, 10)
    if data.find(b"\r", offset) >= 0:
        before = raw[np.maximum(ends - 1, 0)] == 13
        if int(before.sum()) != len(_find(raw, 13)):
            return None  # a lone CR ends a line for the csv module, not for this count
    else:
        before = np.zeros(len(ends), dtype=bool)
    starts = np.concatenate([[0], ends + 1])
    stops = np.concatenate([ends - before, [len(raw)]])
    return np.flatnonzero(stops > starts) + first_line


def _edge_spaces(data: bytes, offset: int, sep: str) -> bool:
    """Whether a value from `offset` on may start or end with whitespace, which `split` strips.

    True unless the bytes are ASCII and no whitespace byte touches a separator, a quote, a line
    end or either end of the data (spaces inside values, as in ``2020-01-01 00:00``, are fine).
    """
    raw = np.frombuffer(data, dtype=np.uint8, offset=offset)
    space = np.zeros(256, dtype=bool)
    space[[9, 11, 12, 32, 28, 29, 30, 31]] = True  # Python's ASCII whitespace but line ends
    edge = np.zeros(256, dtype=bool)
    edge[[ord(sep), ord('"'), 10, 13]] = True
    for start in range(0, len(raw), _CHUNK):
        chunk = raw[max(start - 1, 0) : start + _CHUNK + 1]  # one byte either side: the neighbours
        if (chunk >= 128).any():
            return True  # non-ASCII whitespace (no-break space, ...) is left to the trimming
        at = np.flatnonzero(space[chunk])
        if not len(at):
            continue
        if at[0] == 0 or at[-1] == len(chunk) - 1:
            if (start == 0 and at[0] == 0) or (start + _CHUNK >= len(raw) and at[-1] == len(chunk) - 1):
                return True
            at = at[(at > 0) & (at < len(chunk) - 1)]
        if edge[chunk[at - 1]].any() or edge[chunk[at + 1]].any():
            return True
    return False


def _find(raw: np.ndarray, byte: int) -> np.ndarray:
    """Positions of `byte` in `raw`, scanned in chunks so the temporary mask stays small."""
    parts = [np.flatnonzero(raw[i : i + _CHUNK] == byte) + i for i in range(0, len(raw), _CHUNK)]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def _assemble(columns: list[pa.ChunkedArray], numbers: np.ndarray, header: list[str], numeric_header: bool,
              sep: str) -> RawTable | None:
    """`_parse.split`'s table from the parsed columns: header naming, width trimming, notes."""
    notes: list[str] = []
    if numeric_header:
        header = [f"column {i + 1}" for i in range(len(header))]
        notes.append("The first line holds numbers, not names, so it was read as data (no header row).")
    if not len(numbers):
        return None  # no data rows: `_parse.split` says so
    width = len(header)
    nonblank = [bool(pc.any(pc.not_equal(c, "")).as_py()) for c in columns]
    while width > 1 and not header[width - 1] and not nonblank[width - 1]:
        width -= 1
    if any(nonblank[width:]):
        return None  # a record wider than the header: `_parse.split` names its line
    names = _name_columns(header[:width])
    index = pd.Index(numbers, dtype="int64")
    series = {}
    for i, name in enumerate(names):
        series[name] = columns[i].to_pandas()
        series[name].index = index
        columns[i] = None  # pandas may hold a converted copy: let the arrow one go
    frame = pd.DataFrame(series, index=index, copy=False)
    frame.columns = pd.Index(names, dtype=object)  # as `_parse.split` names them
    if sep != "," and width > 1:
        notes.append(f"Columns are separated by {_SEP_NAMES.get(sep, repr(sep))}s.")
    return RawTable(cells=frame, separator=sep, notes=tuple(notes))
