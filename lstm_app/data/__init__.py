"""CSV bytes → a clean, typed time series, or a one-sentence `DataError` (see `reader`).

The public names of `reader` are re-exported here; `samples` lists the bundled series.
"""

from .reader import MAX_BYTES, MAX_MISSING_SHARE, MIN_ROWS, NO_TIME_LABEL, Table, read_csv, series

__all__ = ["MAX_BYTES", "MAX_MISSING_SHARE", "MIN_ROWS", "NO_TIME_LABEL", "Table", "read_csv", "series"]
