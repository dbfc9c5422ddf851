"""CSV bytes → a clean, typed time series, or a one-sentence `DataError` (see `reader`).

The public names of `reader` are re-exported here, with the bundled samples (`samples`:
`SAMPLES`, `sample_path`, and `samples.resolve` for the ``sample:NAME`` syntax).
"""

from . import reader, samples
from .reader import *  # noqa: F403  (exactly reader.__all__)
from .samples import SAMPLES, sample_path

__all__ = [*reader.__all__, "SAMPLES", "sample_path", "samples"]
