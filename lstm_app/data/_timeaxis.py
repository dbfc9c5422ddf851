"""Time-column detection, date parsing, frequency and gap inference for `lstm_app.data`."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from ._dates import nanoseconds
from ._dates import parse as parse_fixed
from ._parse import MISSING_ANY_CASE, as_text, quote

__all__ = [
    "Axis", "Candidate", "find_time_column", "forced_time_column", "frequency", "gap_count", "name_score",
    "numbers_may_be_time", "parse_times",
]

_EXACT = {"date", "datetime", "timestamp", "time", "ds", "period", "datum", "fecha", "day", "dt"}
_PARTIAL = ("date", "time", "timestamp")
_WORDS = ("week", "month", "year", "quarter", "period", "day", "jahr", "monat", "woche", "zeit")
_WEEK = re.compile(r"(\d{4})\s*-?\s*W(\d{1,2})(?:-?([1-7]))?", re.IGNORECASE)
_YEAR = re.compile(r"([12]\d{3})(?:\.0*)?")
_QUARTER = re.compile(r"(\d{4})\s*-?\s*Q([1-4])|Q([1-4])\s*-?\s*(\d{4})", re.IGNORECASE)
_YEAR_MONTH_M = re.compile(r"(\d{4})M(\d{1,2})", re.IGNORECASE)
_PURE_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d*)?")
_DATES = ("%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%m-%d-%Y", "%Y/%m/%d", "%Y.%m.%d",
          "%d/%m/%y", "%m/%d/%y", "%d.%m.%y")
_FORMATS = (
    "ISO8601",
    *_DATES,
    *(f"{d} %H:%M" for d in _DATES),
    *(f"{d} %H:%M:%S" for d in _DATES),
    "%Y/%m", "%m/%Y", "%m.%Y", "%b %Y", "%B %Y", "%b-%Y", "%b-%y", "%Y-%b", "%d %b %Y", "%d %B %Y",
    "%B %d, %Y", "%b %d, %Y", "%d-%b-%Y", "%d-%b-%y",
)
_SAMPLE = 200
_CHUNK = 100_000  # values parsed as times at a time (every parser reads each value on its own)
_UNITS: tuple[tuple[str, str, str], ...] = (
    # (offset name prefix, unit word, label for one unit)
    ("BMS", "month", "monthly"), ("BME", "month", "monthly"), ("SMS", "half-month", "semi-monthly"),
    ("SME", "half-month", "semi-monthly"), ("BQS", "quarter", "quarterly"), ("BQE", "quarter", "quarterly"),
    ("BYS", "year", "yearly"), ("BYE", "year", "yearly"), ("MS", "month", "monthly"),
    ("ME", "month", "monthly"), ("QS", "quarter", "quarterly"), ("QE", "quarter", "quarterly"),
    ("YS", "year", "yearly"), ("YE", "year", "yearly"), ("W", "week", "weekly"),
    ("B", "business day", "business-daily"), ("D", "day", "daily"), ("h", "hour", "hourly"),
    ("min", "minute", "every minute"), ("s", "second", "every second"),
)


@dataclass(frozen=True)
class Candidate:
    """One column read as times: the parsed values (NaT where unreadable) and how it was read."""

    times: pd.Series
    how: str
    parsed: int
    present: int


@dataclass(frozen=True)
class Axis:
    """The inferred spacing of a sorted, unique time axis."""

    alias: str | None
    label: str
    gaps: int
    first_gap_after: pd.Timestamp | None


def numbers_may_be_time(name: str) -> bool:
    """Whether plain numbers in this column may be years or compact dates (not, say, "visits_per_day")."""
    low = name.strip().lower()
    return low in _EXACT or any(p in low for p in _PARTIAL) or bool(re.search(r"year|jahr|yr|ano|año", low))


def name_score(name: str) -> int:
    """How strongly a column name suggests time: 3 exact, 2 contains date/time, 1 a calendar word."""
    low = name.strip().lower()
    if low in _EXACT:
        return 3
    if any(p in low for p in _PARTIAL):
        return 2
    return 1 if any(w in low for w in _WORDS) else 0


def _regex_parser(pattern: re.Pattern[str],
                  build: Callable[[re.Match[str]], dt.datetime]) -> Callable[[pd.Series], pd.Series]:
    def parse(values: pd.Series) -> pd.Series:
        def one(v: str) -> object:
            m = pattern.fullmatch(v)
            if m is None:
                return pd.NaT
            try:
                return build(m)
            except ValueError:
                return pd.NaT

        return pd.to_datetime(values.map(one), errors="coerce")

    return parse


def _week(m: re.Match[str]) -> dt.datetime:
    monday = dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
    return dt.datetime.combine(monday, dt.time())


def _quarter(m: re.Match[str]) -> dt.datetime:
    year, q = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    return dt.datetime(int(year), 3 * int(q) - 2, 1)


def _format_parser(fmt: str) -> Callable[[pd.Series], pd.Series]:
    def parse(values: pd.Series) -> pd.Series:
        fast = parse_fixed(values, fmt, slow)
        return slow(values) if fast is None else fast

    def slow(values: pd.Series) -> pd.Series:
        try:
            out = pd.to_datetime(values, format=fmt, errors="coerce")
        except (ValueError, TypeError, OverflowError):
            out = pd.to_datetime(values, format=fmt, errors="coerce", utc=True)
        if isinstance(out.dtype, pd.DatetimeTZDtype):
            out = out.dt.tz_convert("UTC").dt.tz_localize(None)
        return out

    return parse


def _mixed(values: pd.Series) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = pd.to_datetime(values, format="mixed", errors="coerce", utc=True)
        except (ValueError, TypeError, OverflowError):
            return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    return out.dt.tz_localize(None)


_GENERAL: tuple[tuple[str, Callable[[pd.Series], pd.Series]], ...] = (
    ("ISO week labels (Monday of each week)", _regex_parser(_WEEK, _week)),
    ("quarter labels", _regex_parser(_QUARTER, _quarter)),
    ("year-month labels", _regex_parser(_YEAR_MONTH_M, lambda m: dt.datetime(int(m[1]), int(m[2]), 1))),
    *((f"dates ({fmt})", _format_parser(fmt)) for fmt in _FORMATS),
)
_YEARS = ("plain years (1 January of each year)", _regex_parser(_YEAR, lambda m: dt.datetime(int(m[1]), 1, 1)))
_COMPACT = ("dates (%Y%m%d)", _format_parser("%Y%m%d"))


def parse_times(cells: pd.Series, *, hinted: bool, numbers: bool = False) -> Candidate | None:
    """Read a column of stripped strings as times with the parser that reads the most values, or None.

    Plain numbers are read as times (years such as 1700, compact dates such as 20150621) only when
    `numbers` is set; free-form parsing is tried only when `hinted` (the name suggests time).
    """
    values = as_text(cells)
    missing = values.isin(MISSING_ANY_CASE).to_numpy(dtype=bool)
    present = values[~missing] if missing.any() else values  # a boolean index copies even when all true
    digits = present.str.contains(r"\d", regex=True).to_numpy(dtype=bool)
    readable = present[digits] if not digits.all() else present
    if readable.empty:
        return None
    total = len(present)
    present = readable
    sample = present.iloc[:_SAMPLE]
    # the sample first: a date in it settles the question without matching every value
    numbers_only = bool(sample.str.fullmatch(_PURE_NUMBER).all() and present.str.fullmatch(_PURE_NUMBER).all())
    parsers = list(_GENERAL) if not numbers_only else [_YEARS, _COMPACT] if numbers else []
    scored = [(int(p(sample).notna().sum()), how, p) for how, p in parsers]
    top = max((s for s, _, _ in scored), default=0)
    if top == 0 and hinted and parsers:
        scored = [(int(_mixed(sample).notna().sum()), "dates (free-form)", _mixed)]
        top = scored[0][0]
    if top == 0:
        return None
    best: Candidate | None = None
    best_key: tuple[int, int] | None = None
    tied = [(how, parser) for score, how, parser in scored if score == top]
    for how, parser in tied:
        parsed_times = _in_chunks(parser, present)
        if len(present) == len(values):  # nothing missing: no alignment needed
            times = parsed_times.set_axis(values.index)
        else:
            times = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
            times.loc[present.index] = parsed_times
        parsed = int(times.notna().sum())
        key = (-parsed, 0)
        if len(tied) > 1:  # the parse with fewer repeated times and gaps wins a tie
            unique = _sorted_unique(times if parsed == len(times) else times.dropna())
            key = (-parsed, parsed - len(unique) + frequency(unique).gaps)
        if best_key is None or key < best_key:
            best, best_key = Candidate(times=times, how=how, parsed=parsed, present=total), key
    return best


def _sorted_unique(times: pd.Series) -> pd.DatetimeIndex:
    """The distinct times in order; for times already in order, without hashing or sorting them."""
    if times.is_monotonic_increasing:
        values = times.to_numpy()
        keep = np.empty(len(values), dtype=bool)
        keep[:1] = True
        np.not_equal(values[1:], values[:-1], out=keep[1:])
        return pd.DatetimeIndex(values[keep])
    return pd.DatetimeIndex(times.drop_duplicates()).sort_values()


def _in_chunks(parser: Callable[[pd.Series], pd.Series], values: pd.Series) -> pd.Series:
    """`parser(values)` as datetime64[ns], a slice at a time: pandas turns the strings it parses
    into Python objects, so slices bound that copy to a fraction of the column."""
    if len(values) <= _CHUNK:
        return nanoseconds(parser(values))
    parsed: pd.Series = pd.concat([nanoseconds(parser(values.iloc[i : i + _CHUNK]))
                                   for i in range(0, len(values), _CHUNK)])
    return parsed


def _unit(alias: str) -> tuple[int, str, str]:
    m = re.fullmatch(r"(\d*)([A-Za-z]+)(?:-[A-Z]+)?", alias)
    if m is None:
        return 1, alias, alias
    n = int(m.group(1) or 1)
    for prefix, word, label in _UNITS:
        if m.group(2) == prefix:
            return n, word, label
    return n, m.group(2), alias


def _label(alias: str) -> str:
    n, word, label = _unit(alias)
    return label if n == 1 else f"every {n} {word}s"


def _period_code(word: str) -> str | None:
    return {"week": "W", "month": "M", "quarter": "Q", "year": "Y"}.get(word)


def gap_count(times: pd.DatetimeIndex, n: int, word: str) -> tuple[int, pd.Timestamp | None]:
    """Missing steps between the first and last time, and the time after which the first one falls."""
    times = times.as_unit("ns")
    code = _period_code(word)
    if word == "business day":
        return 0, None
    if code is not None:
        ordinals = np.asarray(times.to_period(code).asi8, dtype="int64")
        steps = np.diff(ordinals)
    else:
        unit = {"day": "D", "business day": "D", "hour": "h", "minute": "min", "second": "s"}.get(word, "D")
        step = pd.Timedelta(1, unit=unit) * n  # type: ignore[arg-type]  # pandas-stubs wants a Literal unit
        steps = np.rint(np.diff(times.asi8) / step.value).astype("int64") * n
    missing = np.clip(steps // n - 1, 0, None)
    total = int(missing.sum())
    first = times[int(np.argmax(missing > 0))] if total else None
    return total, first


def frequency(times: pd.DatetimeIndex) -> Axis:
    """Infer the spacing of sorted unique times: pandas alias, label, and gaps in the axis."""
    if len(times) < 3:
        return Axis(None, "irregular", 0, None)
    times = times.as_unit("ns")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            found = pd.infer_freq(times)
        except (ValueError, TypeError):
            found = None
    alias = getattr(found, "freqstr", found)
    if alias:
        return Axis(str(alias), _label(str(alias)), 0, None)
    diffs = pd.Series(np.diff(times.asi8)).astype("int64")
    days = float(np.median(diffs)) / pd.Timedelta(1, "D").value
    guess = _guess(days)
    if guess is None:
        return Axis(None, "irregular", 0, None)
    n, word, tolerance = guess
    step_days = _approx_days(word) * n
    regular = np.mean(np.abs(diffs / pd.Timedelta(1, "D").value / step_days - np.rint(
        diffs / pd.Timedelta(1, "D").value / step_days)) <= tolerance)
    if regular < 0.9:
        return Axis(None, "irregular", 0, None)
    gaps, first = gap_count(times, n, word)
    alias = _aligned_alias(times, n, word)
    label = _label(alias) if alias else (_label_for(n, word))
    return Axis(alias, label, gaps, first)


def _approx_days(word: str) -> float:
    return {"second": 1 / 86400, "minute": 1 / 1440, "hour": 1 / 24, "day": 1.0, "week": 7.0,
            "month": 30.44, "quarter": 91.31, "year": 365.25}[word]


def _guess(days: float) -> tuple[int, str, float] | None:
    for word, lo, hi, tol in (("month", 27.5, 31.5, 0.1), ("quarter", 88, 93, 0.05), ("year", 360, 370, 0.02),
                              ("week", 6.5, 7.5, 0.05)):
        if lo <= days <= hi:
            return 1, word, tol
    for word in ("day", "hour", "minute", "second"):
        unit = _approx_days(word)
        n = days / unit
        if n >= 0.999 and abs(n - round(n)) < 1e-6 and (word != "day" or round(n) < 7):
            return round(n), word, 1e-6
    return None


def _label_for(n: int, word: str) -> str:
    for _, w, label in _UNITS:
        if w == word:
            return label if n == 1 else f"every {n} {word}s"
    return "irregular"


def _aligned_alias(times: pd.DatetimeIndex, n: int, word: str) -> str | None:
    """A pandas alias whose grid holds every time, or None when the times sit off any grid."""
    prefix = "" if n == 1 else str(n)
    midnight = bool((times == times.normalize()).all())
    if word in ("day", "hour", "minute", "second"):
        return prefix + {"day": "D", "hour": "h", "minute": "min", "second": "s"}[word]
    if not midnight or n != 1:
        return None
    days = pd.Index(times.day)
    if word == "week":
        wd = set(times.day_of_week)
        return f"W-{times[0].day_name()[:3].upper()}" if len(wd) == 1 else None
    month_start = bool((days == 1).all())
    month_end = bool(times.is_month_end.all())
    if word == "month":
        return "MS" if month_start else ("ME" if month_end else None)
    anchor = times[0].strftime("%b").upper()
    if word == "quarter" and len(set(times.month % 3)) == 1:
        return f"QS-{anchor}" if month_start else (f"QE-{anchor}" if month_end else None)
    if word == "year" and len(set(times.month)) == 1:
        return f"YS-{anchor}" if month_start else (f"YE-{anchor}" if month_end else None)
    return None


def forced_time_column(cells: pd.DataFrame, col: str) -> tuple[str, Candidate, list[str]]:
    """The forced time column `col`, read as times, or a `DataError` if it is absent or not times."""
    if col not in cells.columns:
        names = ", ".join(quote(c) for c in list(cells.columns)[:10])
        raise DataError(f"The time column {quote(col)} is not in the file: choose one of {names}.")
    cand = parse_times(cells[col], hinted=True, numbers=True)
    if cand is None or cand.parsed < 0.8 * cand.present:
        read = 0 if cand is None else cand.parsed
        present = int((cells[col] != "").sum())
        raise DataError(
            f"Column {quote(col)} cannot be the time column: only {read} of {present} values read as times, "
            "so choose another column or fix its dates."
        )
    return col, cand, []


def find_time_column(cells: pd.DataFrame, synthetic: set[str]) -> tuple[str | None, Candidate | None, list[str]]:
    """The automatic time column (see `lstm_app.data`), its parse, and notes; (None, None, notes) if none."""
    notes: list[str] = []
    scored = [(name_score(c) if c not in synthetic else 0, i, c) for i, c in enumerate(cells.columns)]
    hinted = sorted((-s, i, c) for s, i, c in scored if s > 0)
    partial: tuple[str, Candidate] | None = None
    chosen: tuple[str, Candidate] | None = None
    for _, _, col in hinted:
        cand = parse_times(cells[col], hinted=True, numbers=numbers_may_be_time(col))
        if cand is None:
            continue
        if chosen is None and cand.parsed >= 0.8 * cand.present:
            chosen = (col, cand)
        elif chosen is not None and cand.parsed == cand.present:
            notes.append(f"Column {quote(col)} also reads as times, but {quote(chosen[0])} is the time column.")
        elif partial is None:
            partial = (col, cand)
    if chosen is None:
        for s, _, col in scored:
            if s > 0:
                continue
            cand = parse_times(cells[col], hinted=False)
            if cand is not None and cand.parsed == cand.present:
                chosen = (col, cand)
                break
    if chosen is None and partial is not None:
        col, cand = partial
        bad = cells[col][cand.times.isna() & (cells[col] != "")]
        raise DataError(
            f"Column {quote(col)} looks like the time column but only {cand.parsed} of {cand.present} values "
            f"read as times (line {bad.index[0]} has {quote(bad.iloc[0], 30)}): fix those cells or rename the column."
        )
    if chosen is None:
        return None, None, notes
    return chosen[0], chosen[1], notes
