"""CSV bytes → a clean, typed time series, or a one-sentence `DataError` (see `reader`).

The public names of `reader` are re-exported here; `samples` lists the bundled series.
"""

from . import reader
from .reader import *  # noqa: F403  (exactly reader.__all__)

__all__ = list(reader.__all__)
