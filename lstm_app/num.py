"""Numbers from loose sources (JSON, SQLite, numpy, Keras logs) as finite floats or None.

The lowest module of the package: it imports nothing of it, so the store, the engine, the
reports and the page all read numbers the same way.
"""

from __future__ import annotations

import math

__all__ = ["finite_or_none"]


def finite_or_none(value: object) -> float | None:
    """`value` as a float, or None when it is missing, not a number, NaN or infinite."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
