"""Which lines run away on a chart, and how the charts say so in words.

A line runs away when it goes further outside the calm values' range than that range is wide
(the forecast chart: beyond the actual series' range by more than its span), or, for errors
that start at zero (RMSE by horizon), past `RMSE_FACTOR` times the largest calm value. A chart
fits its y-axis to the calm values and names each clipped line with the value it reaches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..num import finite_or_none

__all__ = ["RMSE_FACTOR", "beyond", "clip_range", "flag", "shown"]

RMSE_FACTOR = 5.0  # an RMSE line above this many times the largest calm value is clipped


def _finite(values: Iterable[object]) -> list[float]:
    return [x for x in map(finite_or_none, values) if x is not None]


def beyond(lo: float, hi: float, lines: Mapping[str, Iterable[object]], *, factor: float | None = None
           ) -> dict[str, float]:
    """Name -> the value furthest outside, for each line that leaves [lo − span, hi + span]
    (span = hi − lo, or |hi|, or 1), or with `factor` rises above `factor` × hi."""
    span = (hi - lo) or abs(hi) or 1.0
    low, high = (-float("inf"), factor * hi) if factor is not None else (lo - span, hi + span)
    out: dict[str, float] = {}
    for name, values in lines.items():
        xs = _finite(values)
        outside = [x for x in xs if x < low or x > high]
        if outside:
            out[name] = max(outside, key=lambda x: x - high if x > high else low - x)
    return out


def clip_range(values: Iterable[object], *, from_zero: bool = False) -> list[float] | None:
    """A y-axis range around the finite `values` with 8% padding (from 0 with `from_zero`)."""
    xs = _finite(values)
    if not xs:
        return None
    lo, hi = (0.0 if from_zero else min(xs)), max(xs)
    span = (hi - lo) or abs(hi) or 1.0
    return [lo if from_zero else lo - 0.08 * span, hi + 0.08 * span]


def shown(value: float) -> str:
    """A clipped line's extreme as the legend writes it: 26,000 · −2.0e5 · 1.0e12 · 0.512."""
    if abs(value) >= 1e5:
        mantissa, exponent = f"{abs(value):.1e}".split("e")
        text = f"{mantissa}e{int(exponent)}"
    elif abs(value) >= 100:
        text = f"{abs(value):,.0f}"
    else:
        text = f"{abs(value):.3g}"
    return ("−" if value < 0 else "") + text


def flag(value: float) -> str:
    """The words a clipped line carries in its legend entry and hover."""
    return f"clipped: runs away to {shown(value)}"
