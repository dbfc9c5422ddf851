"""The forecast overlay: the actual series, each model's seed-mean test forecast with its band
over seeds, recursive future forecasts and the shaded train / validation / test / future regions.

`lstm_app.report.charts` re-exports what is public here; import from there. No Streamlit, no
TensorFlow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..num import finite_or_none
from ..outcome import Regions, RunOutcome, RunStatus
from ..spec import ExperimentSpec
from ._charts_clip import beyond, clip_range, flag, shown
from ._charts_look import (
    ACTUAL_COLOR,
    Outcomes,
    figure,
    house,
    legend_key,
    model_colors,
    number_format,
    rgba,
    runs_of,
    sig,
    user_text,
)
from ._charts_refs import ReferenceLine, by_origin, reference_traces
from .compare import forecast_band
from .stats import ForecastBand

__all__ = ["REGION_FILLS", "forecast_overlay"]

# Region name -> fill colour of its shaded band in `forecast_overlay`.
REGION_FILLS: dict[str, str] = {
    "train": "rgba(120,120,120,0.06)", "validation": "rgba(255,170,0,0.10)",
    "test": "rgba(31,119,180,0.08)", "future": "rgba(44,160,44,0.08)",
}
_MENU_PX = 36  # the row above the forecast plot area holding the "Test period / Full series" buttons


def _date_format(index: pd.Index) -> str | None:
    """d3 time format for hover: date, or date and time when any point is not at midnight."""
    if not isinstance(index, pd.DatetimeIndex):
        return None
    timed = len(index) > 0 and bool(((index - index.normalize()) != pd.Timedelta(0)).any())
    return "%Y-%m-%d %H:%M" if timed else "%Y-%m-%d"


def date_hover(index: pd.Index) -> str:
    """The hover template piece for x: a date, a date and time, or a position."""
    when = _date_format(index)
    return f"%{{x|{when}}}" if when else "%{x}"


def _times(labels: Sequence[Any]) -> list[Any]:
    """Stored time labels as axis values: ISO strings become timestamps, positions stay numbers."""
    labels = list(labels)
    if any(isinstance(v, str) for v in labels):
        return list(pd.to_datetime(labels))
    return labels


def _axis_times(values: Sequence[Any] | pd.Index) -> list[Any]:
    """Times as the axis gets them: dates without a time of day as `YYYY-MM-DD` (plotly would send
    `YYYY-MM-DDT00:00:00` for each), others unchanged."""
    index = pd.Index(values)
    if isinstance(index, pd.DatetimeIndex) and index.tz is None and len(index) and (index == index.normalize()).all():
        return list(index.strftime("%Y-%m-%d"))
    return list(values)


def _mean_future(done: Sequence[RunOutcome]) -> pd.Series:
    """The mean over seeds of the recursive future forecasts, by time (runs of one experiment
    share their future times, so the labels are parsed once per distinct set, not per run)."""
    groups: dict[tuple[Any, ...], list[tuple[float, ...]]] = {}
    for o in done:
        f = o.future
        if f is not None and len(f.time) == len(f.forecast) > 0:
            groups.setdefault(tuple(f.time), []).append(f.forecast)
    parts = []
    for labels, rows in groups.items():
        values = np.array([[np.nan if (x := finite_or_none(v)) is None else x for v in row] for row in rows])
        sums, counts = np.nansum(values, axis=0), np.isfinite(values).sum(axis=0)
        parts.append(pd.DataFrame({"sum": sums, "n": counts}, index=_times(labels)))
    if not parts:
        return pd.Series(dtype=float)
    both = pd.concat(parts).groupby(level=0).sum()
    return (both["sum"] / both["n"].where(both["n"] > 0)).dropna().sort_index()


def _regions(regions: Regions | None, future_end: Any) -> tuple[tuple[Any, Any] | None, list[dict[str, Any]],
                                                                 list[dict[str, Any]]]:
    """Shade train / validation / test / future and label each at the top: (test start, end),
    the shapes and the annotations (plain dicts, added to the figure at once: `add_vrect` per
    region is slow)."""
    if regions is None:
        return None, [], []
    val = regions.test_start if regions.val_start is None else regions.val_start
    start, val, test, end = _times([regions.train_start, val, regions.test_start, regions.end])
    spans = [("train", start, val), ("validation", val, test), ("test", test, end)]
    if future_end is not None:
        spans.append(("future", end, future_end))
    shapes, notes = [], []
    # Labels sit at the top, alternating two rows so narrow neighbours never overlap; "train" is
    # right-aligned at its end so it stays visible when zoomed to the test period.
    for k, (label, x0, x1) in enumerate(s for s in spans if s[1] != s[2]):
        shapes.append({"type": "rect", "x0": _iso(x0), "x1": _iso(x1), "xref": "x", "y0": 0, "y1": 1,
                       "yref": "y domain", "fillcolor": REGION_FILLS[label], "line": {"width": 0},
                       "layer": "below", "name": label})
        notes.append({"x": _iso(x1 if label == "train" else x0), "xanchor": "right" if label == "train" else "left",
                      "xshift": -3 if label == "train" else 3, "y": 1 if k % 2 == 0 else 0.93, "yref": "paper",
                      "yanchor": "top", "text": label, "showarrow": False, "font": {"size": 10, "color": "#555"},
                      "bgcolor": "rgba(255,255,255,0.75)", "name": f"region {label}"})
    return (test, end), shapes, notes


def forecast_overlay(spec: ExperimentSpec, actual: pd.Series, outcomes: Outcomes,
                     references: Sequence[ReferenceLine] = ()) -> go.Figure:
    """The actual series with each model's seed-mean one-step test forecast, its min–max band over
    seeds and the recursive future forecast (dashed), over shaded train/validation/test/future,
    with a thin line at each backtest origin's test start.

    `references` (best first) are drawn dashed and thin; only the best is visible until its
    legend entry is clicked. A model whose test or future forecast runs far outside the actual
    series is clipped: the y-axis fits the rest and the model's legend entry says how far it went.
    Only runs with status "done" count; a model without one is left out.
    """
    fmt = number_format(actual)
    origins = spec.backtest.origins
    bands = {m.name: band for i, m in enumerate(spec.models)
             if (band := forecast_band(o for _, o in runs_of(outcomes, i) if o.status == RunStatus.DONE)).n}
    futures = {m.name: future for i, m in enumerate(spec.models) if m.name in bands and not (future := _mean_future(
        [o for _, o in runs_of(outcomes, i, origins - 1) if o.status == RunStatus.DONE])).empty}
    seen = [float(v) for v in actual.to_numpy(dtype=float) if np.isfinite(v)]
    wild = beyond(min(seen), max(seen), {n: (*b.low, *b.high) for n, b in bands.items()}) if seen else {}
    seen += [v for n, b in bands.items() if n not in wild for v in _finite((*b.low, *b.high))]
    wild_future = beyond(min(seen), max(seen), {n: f.tolist() for n, f in futures.items()}) if seen else {}
    colors = model_colors([m.name for m in spec.models])
    traces = [go.Scatter(
        x=_axis_times(actual.index), y=sig(actual.to_numpy(dtype=float)), mode="lines", name="actual",
        line={"color": ACTUAL_COLOR, "width": 1.5}, hovertemplate=f"actual: %{{y:{fmt}}}<extra></extra>")]
    for name, band in bands.items():
        traces += _model_traces(user_text(name), colors[name], band, futures.get(name), fmt,
                                flag(wild[name]) if name in wild else "")
    shown_refs = {line.key: (line.label, _axis_times(_times(line.time)), sig(line.forecast)) for line in references}
    legend = ["actual", *(user_text(n) + (f" ({flag(wild[n])})" if n in wild else "") for n in bands)]
    traces += reference_traces(shown_refs, {references[0].key} if references else set(), f"%{{y:{fmt}}}")
    future_end = max((f.index[-1] for f in futures.values()), default=None)
    yaxis: dict[str, Any] = {"title": {"text": user_text(spec.data.target)}}
    notes = _clip_notes(yaxis, seen, wild, wild_future)
    bounds, shapes, regions = _regions(_backtest_regions(outcomes, origins), future_end)
    marks, labels = _origin_marks(outcomes) if origins > 1 else ([], [])
    zoom = (_zoom_range(actual.index[0], bounds[0], future_end if future_end is not None else bounds[1])
            if bounds is not None and len(actual) else None)
    if not bands:
        notes.append({"text": "No finished run yet: forecasts appear when a run is done.", "xref": "paper",
                      "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False, "font": {"size": 13, "color": "#777"}})
    has_future = future_end is not None
    legend += [*(line.label for line in references), *(["future (recursive)"] if has_future else [])]
    xaxis: dict[str, Any] = {"title": {"text": None if isinstance(actual.index, pd.DatetimeIndex) else "position"},
                             "hoverformat": _date_format(actual.index)}
    layout = {**house(f"{user_text(spec.data.target)}: actual vs test forecasts", body=320, legend=legend,
                      subtitle="one step ahead, mean over seeds · band: min–max over seeds"
                      + (" · dashed: references (click to show)" if len(references) > 1 else "")
                      + (f"<br>test: {origins} backtest origins, one test period after another" if origins > 1 else ""),
                      gap=8 + (_MENU_PX if zoom else 0)),
              "hovermode": "x unified", "xaxis": xaxis, "yaxis": yaxis, "shapes": [*shapes, *marks],
              "annotations": [*regions, *labels, *notes]}
    if zoom:
        _zoom_buttons(layout, zoom)
    return figure(*traces, *([legend_key("future (recursive)", "dash")] if has_future else []), layout=layout)


def _finite(values: Sequence[Any]) -> list[float]:
    return [x for x in map(finite_or_none, values) if x is not None]


def _model_traces(name: str, color: str, band: ForecastBand, future: pd.Series | None, fmt: str,
                  clipped: str) -> list[go.Scatter]:
    """A model's min–max band (with several seeds), its seed-mean test forecast and its future
    forecast; `clipped` (the words, or "") follows its name in the legend and the hover."""
    x = _axis_times(_times(band.time))
    shown = f"{name} ({clipped})" if clipped else name
    out = []
    if band.n > 1:
        out.append(go.Scatter(x=x, y=sig(band.low), mode="lines", line={"width": 0, "color": color},
                              name=f"{name} band low", legendgroup=name, showlegend=False, hoverinfo="skip"))
        out.append(go.Scatter(x=x, y=sig(band.high), mode="lines", line={"width": 0, "color": color},
                              fill="tonexty", fillcolor=rgba(color, 0.18), name=f"{name} band high",
                              legendgroup=name, showlegend=False, hoverinfo="skip"))
    spread = [list(pair) for pair in zip(sig(band.low), sig(band.high), strict=True)]
    out.append(go.Scatter(
        x=x, y=sig(band.mean), customdata=spread, mode="lines+markers",
        name=shown, legendgroup=name, line={"color": color, "width": 2}, marker={"size": 4},
        hovertemplate=(f"{shown}: %{{y:{fmt}}} (seeds %{{customdata[0]:{fmt}}} to "
                       f"%{{customdata[1]:{fmt}}}, n = {band.n})<extra></extra>")))
    if future is not None:  # the future past the end: the latest origin's
        out.append(go.Scatter(
            x=_axis_times(future.index), y=sig(future), mode="lines", name=f"{name} (future)",
            legendgroup=name, showlegend=False, line={"color": color, "width": 2, "dash": "dash"},
            hovertemplate=f"{name} future: %{{y:{fmt}}}<extra></extra>"))
    return out


def _origin_marks(outcomes: Outcomes) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A thin dotted vertical line at each backtest origin's test start, labelled "origin k" at
    the bottom of the plot (the region names sit at the top)."""
    shapes, notes = [], []
    for origin, o in sorted(by_origin(outcomes).items()):
        if o.regions is None:
            continue
        x = _iso(_times([o.regions.test_start])[0])
        shapes.append({"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain",
                       "line": {"color": "#999", "width": 1, "dash": "dot"}, "name": f"origin {origin + 1}"})
        notes.append({"x": x, "xanchor": "left", "xshift": 2, "y": 0, "yref": "y domain", "yanchor": "bottom",
                      "text": f"origin {origin + 1}", "showarrow": False, "font": {"size": 9, "color": "#777"},
                      "name": f"origin {origin + 1}"})
    return shapes, notes


def _backtest_regions(outcomes: Outcomes, origins: int) -> Regions | None:
    """The split to shade: the latest origin's, and with several origins a test region that
    starts at the oldest origin's test start (all test periods, one after another) with no
    validation part drawn (each origin has its own)."""
    finished = [(key[2] if len(key) > 2 else 0, o) for key, o in outcomes.items()
                if o is not None and o.regions is not None]
    finished.sort(key=lambda pair: (-pair[0], pair[1].status != RunStatus.DONE))
    if not finished:
        return None
    latest = finished[0][1].regions
    assert latest is not None
    if origins <= 1:
        return latest
    oldest = min(finished, key=lambda pair: pair[0])[1].regions
    assert oldest is not None
    return dataclasses.replace(latest, val_start=None, test_start=oldest.test_start)


def _clip_notes(yaxis: dict[str, Any], seen: list[float], wild: dict[str, float],
                wild_future: dict[str, float]) -> list[dict[str, Any]]:
    """Fit the y-axis to `seen` (the actual series and the calm test forecasts) when a test or
    future forecast runs away (`wild`, `wild_future`: name -> the value it reaches); the
    annotation that says so in words (none when nothing runs away)."""
    if not wild and not wild_future:
        return []
    yaxis["range"] = clip_range(seen)
    said = [f"the {what} forecast runs away ({', '.join(f'{user_text(n)} reaches {shown(v)}' for n, v in a.items())})"
            for what, a in (("test", wild), ("future", wild_future)) if a]
    # bottom right, one row above the "origin k" labels
    return [{"text": "clipped: " + "; ".join(said), "xref": "paper", "yref": "paper",
             "x": 1, "y": 0, "xanchor": "right", "yanchor": "bottom", "yshift": 14, "showarrow": False,
             "font": {"size": 11, "color": "#b00"}, "bgcolor": "rgba(255,255,255,0.8)", "name": "clipped"}]


def _iso(x: Any) -> Any:
    return x.isoformat() if isinstance(x, pd.Timestamp) else x


def _zoom_range(first: Any, test_start: Any, last: Any) -> list[Any] | None:
    """The x range of the test period with twice its length of history before it, or None when
    that is not well short of the whole series (then there is nothing to zoom to). Dates are
    measured in float seconds: a difference of nanosecond timestamps overflows past ~292 years
    (the bundled sunspot series spans 1700–2009)."""
    try:
        a, b, c = (_seconds(x) for x in (first, test_start, last))
        span = c - b
        x0 = max(a, b - 2 * span)
        total = c - a
        if not total or (c - x0) / total > 0.8:
            return None
        return [_iso(_from_seconds(x0, last)), _iso(_from_seconds(c + span * 0.03, last))]
    except (TypeError, ValueError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return None  # mixed label kinds, or past the dates pandas can hold: keep the full range


def _seconds(x: Any) -> Any:
    return x.timestamp() if isinstance(x, pd.Timestamp) else x


def _from_seconds(x: Any, like: Any) -> Any:
    if not isinstance(like, pd.Timestamp):
        return x
    stamp = pd.Timestamp(x, unit="s", tz="UTC")
    return stamp.tz_convert(like.tz) if like.tz is not None else stamp.tz_localize(None)


def _zoom_buttons(layout: dict[str, Any], zoom: list[Any]) -> None:
    """Start zoomed to `zoom`, with buttons to switch to the full series and back.

    The buttons sit right-aligned on their own row just above the plot area (paper y = 1,
    anchored at their bottom), in the `_MENU_PX` that `forecast_overlay` adds under the legend.
    Anchored to the plot area rather than to the figure's top, they stay clear of the legend
    however many rows it wraps to: plotly moves the plot area down below the legend, the
    buttons move with it, and they push the top margin by their own height.
    """
    layout["xaxis"]["range"] = zoom
    layout["updatemenus"] = [{
        "type": "buttons", "direction": "right", "active": 0, "showactive": True,
        "x": 1, "xanchor": "right", "y": 1, "yanchor": "bottom", "pad": {"t": 0, "r": 0, "b": 3, "l": 0},
        "font": {"size": 10}, "bgcolor": "#f3f3f3", "bordercolor": "#ccc",
        "buttons": [{"label": "Test period", "method": "relayout", "args": [{"xaxis.range": zoom}]},
                    {"label": "Full series", "method": "relayout", "args": [{"xaxis.autorange": True}]}],
    }]
