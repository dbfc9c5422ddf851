"""Read and validate a CSV into a clean time series, or raise a one-sentence `DataError`.

The reader copes with comma, semicolon, tab or pipe separators (an Excel ``sep=;`` first line is
honoured), decimal commas, thousands separators, UTF-8 (with or without BOM), UTF-16 with BOM and
Windows-1252/Latin-1, quoted fields, Windows line endings and extra text columns. The time column
is the first column whose name suggests time (date, time, week, month, year, period, timestamp,
ds, ...) and whose values read as dates, datetimes, plain years, ISO week labels (``2015-W27``,
read as the Monday of that week) or quarter labels; failing that, the first column whose every
value reads as a date. A file without a time column is used in row order.

Missing-value policy:
Rows whose time cannot be parsed are dropped and counted. Duplicate timestamps keep the last row
and are counted. In `series()`, leading and trailing missing values of the chosen columns are
trimmed and interior missing values are filled by linear interpolation, but a chosen column with
more than 20% of its values missing is rejected. Gaps in the time axis are reported, not filled:
consecutive rows are treated as consecutive steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from ._bulk import read, release_memory
from ._parse import WHITESPACE, quote, to_numbers
from ._summary import TableSummary, TargetSummary
from ._timeaxis import Candidate, find_time_column, forced_time_column, frequency

__all__ = [
    "MAX_BYTES",
    "MAX_MISSING_SHARE",
    "MIN_ROWS",
    "NO_TIME_LABEL",
    "UPLOAD_LIMIT_MB",
    "Table",
    "TableSummary",
    "TargetSummary",
    "load_bytes",
    "read_csv",
    "series",
    "target_summary",
]

# Must equal `server.maxUploadSize` in .streamlit/config.toml (a test reads both). Streamlit's
# browser code counts that many megabytes of 1,000,000 bytes (1,048,576 on Windows only) and its
# server 1,048,576; the reader takes the smaller, the limit the upload widget shows and enforces.
UPLOAD_LIMIT_MB = 50
MAX_BYTES: int = UPLOAD_LIMIT_MB * 1_000_000
MIN_ROWS = 3
MAX_MISSING_SHARE = 0.2
NO_TIME_LABEL = "no time column (row order)"
_TARGET_HINTS = ("target", "value", "sales", "demand", "cancel", "passeng", "count", "load", "price",
                 "close", "volume", "sunactivity", "y")


@dataclass(frozen=True)
class Table:
    """A parsed CSV: time column (if any) plus float numeric columns, sorted by time.

    `frame` holds only the time column and the numeric columns, with a fresh RangeIndex;
    `text_columns` are the file's other columns, ignored; `dropped` counts rows dropped because
    their time could not be read; `gaps` counts missing steps in the time axis.
    """

    name: str
    frame: pd.DataFrame
    time_column: str | None
    numeric_columns: tuple[str, ...]
    frequency: str | None
    frequency_label: str
    rows: int
    missing: dict[str, int]
    duplicates: int
    gaps: int
    notes: tuple[str, ...]
    text_columns: tuple[str, ...] = ()
    dropped: int = 0
    start: str | None = None
    end: str | None = None

    @property
    def target_candidate(self) -> str:
        """The numeric column most likely to be the target: a name hint, else the first one."""
        for hint in _TARGET_HINTS:
            for col in self.numeric_columns:
                low = col.lower()
                if (low == hint if len(hint) == 1 else hint in low) and self.missing[col] < self.rows:
                    return col
        usable = [c for c in self.numeric_columns if self.missing[c] < self.rows]
        return (usable or list(self.numeric_columns))[0]

    def summary(self) -> TableSummary:
        """What ``python -m lstm_app inspect`` prints (``--json``: `TableSummary.to_dict`)."""
        return TableSummary(
            name=self.name, rows=self.rows, time_column=self.time_column, numeric_columns=self.numeric_columns,
            text_columns=self.text_columns, frequency=self.frequency, frequency_label=self.frequency_label,
            start=self.start, end=self.end, missing=dict(self.missing), duplicates=self.duplicates,
            gaps=self.gaps, dropped=self.dropped, target_candidate=self.target_candidate, notes=self.notes,
        )


def target_summary(table: Table, target: str) -> TargetSummary:
    """`target` of `table` after the missing-value policy of `series` (a `DataError` if unusable)."""
    frame = series(table, target)
    col = frame[target]
    known = table.frame[target].notna().to_numpy()
    ends = np.flatnonzero(known)  # series() raised if there were none
    filled = int((~known[ends[0] : ends[-1] + 1]).sum())  # gaps inside, interpolated
    return TargetSummary(column=target, rows=len(frame), trimmed=table.rows - len(frame), filled=filled,
                         min=float(col.min()), max=float(col.max()), mean=float(col.mean()))


def _iso(ts: pd.Timestamp) -> str:
    return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat()


def _load(source: str | Path | bytes, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        _check_size(len(data))
        return data, name or "upload.csv"
    if not isinstance(source, str | Path):
        raise TypeError(f"source must be a path or bytes, got {type(source).__name__}")
    return load_bytes(source), name or Path(source).name


def load_bytes(source: str | Path) -> bytes:
    """The bytes of a CSV file; a missing file, a folder or a file over `MAX_BYTES` is a `DataError`."""
    path = Path(source).expanduser()
    if not path.exists():
        raise DataError(f"There is no file at {quote(path, 80)}: check the path, or use sample:NAME for a sample.")
    if path.is_dir():
        raise DataError(f"{quote(path, 80)} is a folder, not a file: give the path of a CSV file.")
    try:
        _check_size(path.stat().st_size)
        return path.read_bytes()
    except OSError as exc:
        raise DataError(
            f"The file {quote(path, 80)} could not be opened ({exc.strerror}): check its permissions."
        ) from None


def _check_size(size: int) -> None:
    if size > MAX_BYTES:
        raise DataError(
            f"The file has {size:,} bytes, more than the upload limit of {UPLOAD_LIMIT_MB} MB "
            f"({MAX_BYTES:,} bytes): upload a smaller CSV, for example with older rows removed."
        )


def read_csv(source: str | Path | bytes, *, name: str | None = None, time_column: str | None = None) -> Table:
    """Read a CSV from a path or from uploaded bytes into a `Table`; raise `DataError` if unusable.

    `time_column` forces that column to be the time axis instead of the automatic choice.
    """
    data, name = _load(source, name)
    try:
        return _build(data, name, time_column)
    except DataError:
        raise
    except (ValueError, TypeError, OverflowError, KeyError, IndexError) as exc:
        detail = " ".join(str(exc).split())[:80].rstrip(".")
        raise DataError(
            f"The file could not be read as a table ({type(exc).__name__}: {detail}): "
            "check that it is a CSV with one header row and one row per time step."
        ) from None


def _build(data: bytes, name: str, forced: str | None) -> Table:
    raw, decode_notes = read(data)
    cells, separator = raw.cells, raw.separator
    notes = [*decode_notes, *raw.notes]
    del raw  # `cells` alone holds the strings now; each column goes as soon as it is read
    synthetic = {c for c in cells.columns if c.startswith("column ")}
    time_col: str | None
    cand: Candidate | None
    if forced is not None:
        time_col, cand, time_notes = forced_time_column(cells, forced)
    else:
        time_col, cand, time_notes = find_time_column(cells, synthetic)
    dropped = 0
    if cand is not None and time_col is not None:
        notes.append(f"Time column {quote(time_col)} was read as {cand.how}.")
        ok = cand.times.notna()
        dropped = int((~ok).sum())
        if dropped:
            bad_rows = cells.loc[~ok, time_col]
            notes.append(
                f"{dropped} row(s) were dropped because their {quote(time_col)} is not a time "
                f"(first: line {bad_rows.index[0]}, {quote(bad_rows.iloc[0], 30)})."
            )
        cells = cells[ok] if dropped else cells
        times = cand.times[ok] if dropped else cand.times
        cells.pop(time_col)
    notes.extend(time_notes)
    numeric: dict[str, pd.Series] = {}
    text_cols: list[str] = []
    first_bad: tuple[str, object, str] | None = None
    column: pd.Series | None = None
    for col in list(cells.columns):
        column = cells.pop(col)  # the previous column's strings are freed here
        release_memory()
        values, bad = to_numbers(column, separator)
        if values is None:
            text_cols.append(col)
            if bad is not None and first_bad is None and _mostly_numeric(column):
                first_bad = (col, bad[0], bad[1])
                notes.append(
                    f"Column {quote(col)} was ignored as text because line {bad[0]} holds "
                    f"{quote(bad[1], 30)}, which is not a number."
                )
            continue
        if col in synthetic and (values.isna().all() or _is_row_counter(values)):
            if not values.isna().all():
                notes.append(f"The unnamed column {quote(col)} only counts rows; it was ignored as a row index.")
            continue
        infinite = values[np.isinf(values)]
        if not infinite.empty:
            raise DataError(
                f"Column {quote(col)} has an infinite value in line {infinite.index[0]}: "
                "replace it with a number or leave the cell empty."
            )
        numeric[col] = values
    column = None
    release_memory()
    if text_cols:
        notes.append("Ignored text column(s): " + ", ".join(quote(c) for c in text_cols) + ".")
    if not numeric:
        if first_bad is not None:
            col, line, value = first_bad
            raise DataError(
                f"No column holds only numbers: column {quote(col)} has {quote(value, 30)} in line {line}, "
                "which is not a number; fix that cell or leave it empty."
            )
        found = ", ".join(quote(c) for c in text_cols[:8]) or "none"
        raise DataError(
            f"No column of the file holds numbers (found only {found}): "
            "a series needs at least one column of numbers."
        )
    frame = pd.DataFrame(numeric, index=cells.index)
    if all(frame[c].isna().all() for c in frame.columns):
        raise DataError(
            f"Every value of {', '.join(quote(c) for c in frame.columns)} is missing: "
            "fill in the numbers of the series."
        )
    duplicates = 0
    start = end = None
    if time_col is not None:
        frame.insert(0, time_col, times.astype("datetime64[ns]"))
        if not frame[time_col].is_monotonic_increasing:
            notes.append("Rows were not in time order; they were sorted by time.")
            frame = frame.sort_values(time_col, kind="mergesort")
        before = len(frame)
        repeated = frame[time_col].duplicated(keep="last").to_numpy()
        if repeated.any():  # indexing copies the frame even when nothing goes, so only when needed
            frame = frame[~repeated]
        duplicates = before - len(frame)
        if duplicates and duplicates * 2 > before:
            raise DataError(
                f"Column {quote(time_col)} gives only {len(frame)} distinct times for {before} rows: "
                "put one full date per row in the time column (for example 1949-01-01)."
            )
        if duplicates:
            notes.append(f"{duplicates} row(s) repeat an earlier timestamp; the last row of each time was kept.")
    frame.index = pd.RangeIndex(len(frame))  # reset_index would copy every column
    rows = len(frame)
    if rows < MIN_ROWS:
        lost = f" ({dropped + duplicates} dropped)" if dropped + duplicates else ""
        raise DataError(
            f"The file has only {rows} usable row(s){lost}: a time series needs at least {MIN_ROWS} rows."
        )
    if time_col is not None:
        index = pd.DatetimeIndex(frame[time_col])
        axis = frequency(index)
        alias, label, gaps = axis.alias, axis.label, axis.gaps
        start, end = _iso(index[0]), _iso(index[-1])
        if gaps and axis.first_gap_after is not None:
            notes.append(
                f"The time axis has {gaps} missing step(s) (the first after {_iso(axis.first_gap_after)}); "
                "they are not filled: consecutive rows are treated as consecutive steps."
            )
    else:
        alias, label, gaps = None, NO_TIME_LABEL, 0
        notes.append("No time column was found; rows are used in file order.")
    missing = {c: int(frame[c].isna().sum()) for c in numeric}
    for col, count in missing.items():
        if count:
            notes.append(f"Column {quote(col)} has {count} missing value(s).")
    return Table(
        name=name, frame=frame, time_column=time_col, numeric_columns=tuple(numeric), frequency=alias,
        frequency_label=label, rows=rows, missing=missing, duplicates=duplicates, gaps=gaps,
        notes=tuple(notes), text_columns=tuple(text_cols), dropped=dropped, start=start, end=end,
    )


def _is_row_counter(values: pd.Series) -> bool:
    """True for a pandas-style index column: 0, 1, 2, ... or 1, 2, 3, ... in file order."""
    v = values.to_numpy()
    return bool(len(v) > 1 and not np.isnan(v).any() and (np.diff(v) == 1).all() and v[0] in (0, 1))


def _mostly_numeric(cells: pd.Series) -> bool:
    values = cells[cells != ""]
    looks = values.str.fullmatch(f"[+-]?[\\d.,{WHITESPACE}]*\\d[\\d.,{WHITESPACE}]*(?:[eE][+-]?\\d+)?")
    return bool(len(values)) and float(looks.mean()) >= 0.8


def _columns_list(table: Table) -> str:
    names = [quote(c) for c in table.numeric_columns[:10]]
    more = len(table.numeric_columns) - len(names)
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def series(table: Table, target: str, features: Sequence[str] = ()) -> pd.DataFrame:
    """The target and feature columns as float64, indexed by time, with the missing-value policy applied."""
    columns = [target, *features]
    seen: set[str] = set()
    for col in columns:
        if col in seen:
            raise DataError(
                f"Column {quote(col)} is chosen twice (as target and feature, or twice as feature): choose it once."
            )
        seen.add(col)
        if col in table.numeric_columns:
            continue
        if col == table.time_column:
            why = "is the time column"
        elif col in table.text_columns:
            why = "holds text, not numbers"
        else:
            why = "is not in the file"
        raise DataError(f"Column {quote(col)} {why}: choose one of the numeric columns {_columns_list(table)}.")
    df = table.frame[columns].astype("float64")
    if table.time_column is not None:
        df.index = pd.DatetimeIndex(table.frame[table.time_column], name=table.time_column)
    for col in columns:
        if df[col].isna().all():
            raise DataError(f"Column {quote(col)} has no values in any of its {len(df)} rows: choose another column.")
    complete = df.notna().all(axis=1).to_numpy()
    if not complete.any():
        raise DataError("No row has values in all the chosen columns at once: choose fewer feature columns.")
    first, last = int(np.argmax(complete)), len(complete) - 1 - int(np.argmax(complete[::-1]))
    df = df.iloc[first : last + 1]
    for col in columns:
        share = float(df[col].isna().mean())
        if share > MAX_MISSING_SHARE:
            raise DataError(
                f"Column {quote(col)} is missing {share:.0%} of its values inside the series, more than the "
                f"{MAX_MISSING_SHARE:.0%} that are filled by interpolation: fill in the gaps or choose another column."
            )
    df = df.interpolate(method="linear", limit_area="inside")
    for col in columns:
        if df[col].nunique() == 1:
            raise DataError(
                f"Column {quote(col)} is constant (every value is {df[col].iloc[0]:g}): "
                "a forecast needs a series that changes, so choose another column."
            )
    if len(df) < MIN_ROWS:
        raise DataError(
            f"Only {len(df)} row(s) have values in all the chosen columns: a series needs at least {MIN_ROWS}."
        )
    return df

