"""Fixed-width numeric dates (``31.12.2020 23:59``) read column-wise, for `lstm_app._timeaxis`.

pandas reads an explicit format such as ``%d.%m.%Y %H:%M`` value by value (about 3 µs each, so
3 s for a million rows). Most files write every field zero-padded, so each field sits at a fixed
place: `parse` checks that shape with one regular expression, cuts the fields out as integers and
assembles the times in bulk (an impossible date such as 31.02 becomes NaT, as pandas makes it).
Values of any other shape go to pandas, so the result is pandas' own; `tests/test_data.py`
compares the two on generated values.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

try:  # pyarrow comes with Streamlit; without it pandas reads every value
    import pyarrow as pa
    import pyarrow.compute as pc
except ImportError:  # pragma: no cover
    pa = None

__all__ = ["MIN_VALUES", "nanoseconds", "parse"]

MIN_VALUES = 1000  # fewer values are read by pandas directly: the setup would cost more than it saves
_FIELDS = {"%Y": ("year", 4), "%m": ("month", 2), "%d": ("day", 2), "%H": ("hour", 2), "%M": ("minute", 2),
           "%S": ("second", 2)}
_LIMITS = {"hour": 23, "minute": 59, "second": 61}  # pandas refuses 24:00 and :60 minutes, not :60 seconds


def _layout(fmt: str) -> tuple[str, list[tuple[str, int, int]]] | None:
    """The shape regex of `fmt` and its fields (name, start, width), or None for other directives."""
    pattern, fields, at, i = [], [], 0, 0
    while i < len(fmt):
        if fmt[i] == "%":
            field = _FIELDS.get(fmt[i : i + 2])
            if field is None:
                return None  # %y, %b, %B, %z...: pandas
            name, width = field
            pattern.append(rf"\d{{{width}}}")
            fields.append((name, at, width))
            at, i = at + width, i + 2
        elif fmt[i] != " " and (fmt[i].isspace() or not fmt[i].isascii()):
            return None
        else:  # a space too: pandas takes any run of whitespace there, the shape exactly one space
            pattern.append(re.escape(fmt[i]))
            at, i = at + 1, i + 1
    return "^" + "".join(pattern) + "$", fields


def parse(values: pd.Series, fmt: str, slow: Callable[[pd.Series], pd.Series]) -> pd.Series | None:
    """`slow(values)` (pandas with `fmt`), computed in bulk where the values have `fmt`'s fixed shape.

    None when `fmt` has no fixed shape, pyarrow is missing or there are too few values.
    """
    layout = _layout(fmt)
    if pa is None or layout is None or len(values) < MIN_VALUES:
        return None
    pattern, fields = layout
    text = pa.array(values.to_numpy(dtype=object) if not isinstance(values.dtype, pd.StringDtype) else values,
                    type=pa.large_string())
    shaped = pc.fill_null(pc.match_substring_regex(text, pattern), False).to_numpy(zero_copy_only=False)
    if not shaped.any():
        return None
    kept = pc.filter(text, pa.array(shaped))
    parts = {name: pc.cast(pc.utf8_slice_codeunits(kept, start, start + width), pa.int64()).to_numpy()
             for name, start, width in fields}
    for name in ("year", "month", "day"):
        parts.setdefault(name, np.ones(len(kept), dtype=np.int64))
    # datetime64[ns] spans 1677-09-21 to 2262-04-11: other years are NaT, as `nanoseconds` makes
    # them; the two edge years go to pandas, which knows the exact bounds
    edge = (parts["year"] == 1677) | (parts["year"] == 2262)
    if edge.any():
        shaped[np.flatnonzero(shaped)[edge]] = False
        parts = {name: values[~edge] for name, values in parts.items()}
    valid = (parts["year"] > 1677) & (parts["year"] < 2262)
    for name, top in _LIMITS.items():
        if name in parts:
            valid &= parts[name] <= top
    parts["year"] = np.where(valid, parts["year"], 2000)  # out of range: NaT below, whatever it reads as
    times = pd.to_datetime(pd.DataFrame(parts), errors="coerce").to_numpy(dtype="datetime64[ns]")
    times[~valid] = np.datetime64("NaT")
    out = pd.Series(np.datetime64("NaT", "ns"), index=values.index, dtype="datetime64[ns]")
    out[shaped] = times
    if not shaped.all():
        out[~shaped] = nanoseconds(slow(values[~shaped]))
    return out


def nanoseconds(times: pd.Series) -> pd.Series:
    """`times` as datetime64[ns]; a time outside 1677-2262, which that cannot hold, becomes NaT
    (a row whose time cannot be read, as for any other unreadable time)."""
    try:
        return times.astype("datetime64[ns]")
    except (ValueError, OverflowError):  # OutOfBoundsDatetime is a ValueError
        inside = (times >= pd.Timestamp.min) & (times <= pd.Timestamp.max)
        return times.where(inside).astype("datetime64[ns]")
