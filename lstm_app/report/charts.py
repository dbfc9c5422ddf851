"""Plotly figures from stored results: every builder returns a `go.Figure` and displays nothing.

Colours follow the models: `model_colors` gives each model name a colour by its place in the
experiment's model order, and every figure that draws models uses it, so a model looks the
same everywhere. No Streamlit, no TensorFlow: the page imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..outcome import Regions, RunOutcome, RunStatus
from ..params import LayerCount, LayerKind
from ..spec import ExperimentSpec
from ._charts_diag import (
    ACTUAL_COLOR,
    MAX_HISTOGRAM_MODELS,
    NEUTRAL,
    PALETTE,
    Outcomes,
    cell,
    figure,
    finite,
    gradient_norms,
    grid,
    house,
    layer_histograms,
    legend_key,
    loss_curves,
    model_colors,
    note,
    number_format,
    rgba,
    runs_of,
    sig,
    user_text,
)
from .compare import BEST, LABELS, Comparison, ModelSummary, forecast_band

__all__ = [
    "MAX_HISTOGRAM_MODELS", "PALETTE", "REGION_FILLS", "forecast_overlay", "gradient_norms", "layer_histograms",
    "loss_curves", "metric_overview", "model_colors", "param_comparison", "replication_figure", "series_preview",
    "user_text",
]

# Region name -> fill colour of its shaded band in `forecast_overlay`.
REGION_FILLS: dict[str, str] = {
    "train": "rgba(120,120,120,0.06)", "validation": "rgba(255,170,0,0.10)",
    "test": "rgba(31,119,180,0.08)", "future": "rgba(44,160,44,0.08)",
}
_UNITS: dict[str, str] = {
    "rmse": "RMSE (series units)", "mae": "MAE (series units)", "mfe": "MFE (series units, + = over-forecast)",
    "mda": "MDA (share of steps moving the right way)", "skill": "skill vs naive (1 − RMSE / naive RMSE)",
    "volatility_ratio": "std(forecast) / std(actual)", "seconds_per_epoch": "seconds per epoch",
    "params": "trainable parameters",
}
_MENU_PX = 36  # the row above the forecast plot area holding the "Test period / Full series" buttons
_SLOT_ALPHA = (0.9, 0.6, 0.42, 0.3)  # fill strength of LSTM 1, 2, 3, 4+ segments; the head is lightest
_HEAD_ALPHA = 0.15


def _date_format(index: pd.Index) -> str | None:
    """d3 time format for hover: date, or date and time when any point is not at midnight."""
    if not isinstance(index, pd.DatetimeIndex):
        return None
    timed = len(index) > 0 and bool(((index - index.normalize()) != pd.Timedelta(0)).any())
    return "%Y-%m-%d %H:%M" if timed else "%Y-%m-%d"


def _date_hover(index: pd.Index) -> str:
    """The hover template piece for x: a date, a date and time, or a position."""
    when = _date_format(index)
    return f"%{{x|{when}}}" if when else "%{x}"


def _ticks(names: Sequence[str], colors: Mapping[str, str]) -> list[str]:
    """Axis labels for raw model `names`: a dot in the model's colour, then the escaped name."""
    return [f"<span style='color:{colors[n]}'>●</span> {user_text(n)}" for n in names]


def series_preview(frame: pd.DataFrame, target: str) -> go.Figure:
    """A small (~250 px) line chart of the `target` column over the frame's index."""
    if target not in frame.columns:
        raise ValueError(f"Received an invalid value for argument `target`, expected one of "
                         f"{', '.join(map(str, frame.columns))}, got {target!r}.")
    values, label = frame[target], user_text(target)
    return figure(go.Scatter(
        x=frame.index, y=values, mode="lines", name=label, line={"color": ACTUAL_COLOR, "width": 1.4},
        hovertemplate=f"{_date_hover(frame.index)}<br>{label}: %{{y:{number_format(values)}}}<extra></extra>"),
        layout={**house(f"{label} — {len(frame):,} points", body=176, bottom=32, left=56),
                "xaxis": {"title": {"text": None if isinstance(frame.index, pd.DatetimeIndex) else "position"}},
                "yaxis": {"title": {"text": label}}})


_ROW_PX, _BAR_GAP = 52, 0.45  # per model: a bar, and above it the gap that holds its total label


def param_comparison(counts: Mapping[str, Sequence[LayerCount]]) -> go.Figure:
    """Stacked horizontal bars of trainable parameters: one bar per model, one segment per layer.

    Each model's total sits in the gap above its bar, from the left edge of the plot, so it never
    overlaps a bar and is never cut at the right edge however narrow the column is. An activation
    layer between LSTMs has no weights, so it has no visible segment: the total label says "+0"
    for it and its hover lists it with 0.
    """
    names = list(counts)
    colors, shown = model_colors(names), {name: user_text(name) for name in names}  # shown: escaped
    totals = {name: sum(r.params for r in rows) for name, rows in counts.items()}
    traces: list[go.Bar] = []
    slots: dict[str, float] = {}
    for name, rows in counts.items():
        lstm, label = 0, shown[name]
        for row in rows:
            if row.kind is LayerKind.BETWEEN:
                continue
            if row.kind is LayerKind.LSTM:
                lstm += 1
                slot, alpha = f"LSTM {lstm}", _SLOT_ALPHA[min(lstm, len(_SLOT_ALPHA)) - 1]
            else:
                slot, alpha = "dense head", _HEAD_ALPHA
            slots.setdefault(slot, alpha)
            layer = user_text(row.label)
            traces.append(go.Bar(
                x=[row.params], y=[label], orientation="h", name=f"{label} · {layer}", legendgroup=slot,
                showlegend=False, text=[layer], textposition="inside", insidetextanchor="middle",
                marker={"color": rgba(colors[name], alpha), "line": {"color": colors[name], "width": 1.5}},
                hovertemplate=f"<b>{label}</b><br>{layer}<br>{user_text(row.formula)}<extra></extra>"))
    # Half a bar's height in px: the label's bottom sits just above its bar.
    lift = round((1 - _BAR_GAP) * _ROW_PX / 2) + 1
    notes = []
    for name, rows in counts.items():
        between = [user_text(str(r.kwargs["activation"])) for r in rows if r.kind is LayerKind.BETWEEN]
        text = f"{totals[name]:,}" + (f" ({', '.join(between)} between: +0)" if between else "")
        notes.append({
            "x": 0, "y": shown[name], "xanchor": "left", "yanchor": "bottom", "yshift": lift, "showarrow": False,
            "text": f"<b>{text}</b>", "font": {"color": colors[name], "size": 12}, "name": f"total {shown[name]}",
            "hovertext": f"<b>{shown[name]}: {totals[name]:,} parameters</b><br>"
                         + "<br>".join(user_text(f"{r.label}: {r.formula}") for r in rows)})
    keys = [go.Bar(x=[None], y=[None], orientation="h", name=slot, legendgroup=slot,
                   marker={"color": rgba("#555555", alpha), "line": {"color": "#555", "width": 1}})
            for slot, alpha in slots.items()]
    same = len(set(totals.values())) == 1 and len(totals) > 1
    # Short lines: SVG text never wraps, and the chart may sit in a ~300–600 px column.
    subtitle = ("Activations add no weights: tanh or ReLU,<br>inside or between, the count is the same"
                + (".<br>All models here have the same total." if same else "."))
    n = len(names)
    fig = figure(*traces, *keys, layout={
        **house("Trainable parameters per layer", body=round(_ROW_PX * (max(n, 1) + _BAR_GAP)), subtitle=subtitle,
                legend=list(slots), left=110),
        "barmode": "stack", "uniformtext": {"minsize": 9, "mode": "hide"}, "bargap": _BAR_GAP, "annotations": notes,
        "xaxis": {"title": {"text": "trainable parameters"}, "range": [0, 1.02 * max(totals.values(), default=1) or 1],
                  "tickformat": ","},
        # reversed: the first model at the top, with room above it for its label
        "yaxis": {"categoryorder": "array", "categoryarray": list(shown.values()), "range": [n - 0.5, -0.5 - _BAR_GAP],
                  "tickvals": list(shown.values()), "ticktext": _ticks(names, colors)}})
    if not names:
        note(fig, "No models to count.")
    return fig


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
        values = np.array([[np.nan if (x := finite(v)) is None else x for v in row] for row in rows])
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


def forecast_overlay(spec: ExperimentSpec, actual: pd.Series, outcomes: Outcomes) -> go.Figure:
    """The actual series with each model's seed-mean one-step test forecast, its min–max band over
    seeds and the recursive future forecast (dashed), over shaded train/validation/test/future.

    Only runs with status "done" count; a model without one is left out.
    """
    colors = model_colors([m.name for m in spec.models])
    fmt = number_format(actual)
    traces = [go.Scatter(
        x=_axis_times(actual.index), y=sig(actual.to_numpy(dtype=float)), mode="lines", name="actual",
        line={"color": ACTUAL_COLOR, "width": 1.5}, hovertemplate=f"actual: %{{y:{fmt}}}<extra></extra>")]
    future_end, drawn = None, []
    seen = [float(v) for v in actual.to_numpy(dtype=float) if np.isfinite(v)]
    futures: dict[str, pd.Series] = {}
    for i, model in enumerate(spec.models):
        done = [o for _, o in runs_of(outcomes, i) if o.status == RunStatus.DONE]
        band = forecast_band(done)
        if not band.n:
            continue
        color, x, name = colors[model.name], _axis_times(_times(band.time)), user_text(model.name)
        if band.n > 1:
            traces.append(go.Scatter(x=x, y=sig(band.low), mode="lines", line={"width": 0, "color": color},
                                     name=f"{name} band low", legendgroup=name, showlegend=False,
                                     hoverinfo="skip"))
            traces.append(go.Scatter(x=x, y=sig(band.high), mode="lines", line={"width": 0, "color": color},
                                     fill="tonexty", fillcolor=rgba(color, 0.18), name=f"{name} band high",
                                     legendgroup=name, showlegend=False, hoverinfo="skip"))
        seen += [float(v) for v in (*band.low, *band.high) if v is not None and np.isfinite(v)]
        spread = [list(pair) for pair in zip(sig(band.low), sig(band.high), strict=True)]
        traces.append(go.Scatter(
            x=x, y=sig(band.mean), customdata=spread, mode="lines+markers",
            name=name, legendgroup=name, line={"color": color, "width": 2}, marker={"size": 4},
            hovertemplate=(f"{name}: %{{y:{fmt}}} (seeds %{{customdata[0]:{fmt}}} to "
                           f"%{{customdata[1]:{fmt}}}, n = {band.n})<extra></extra>")))
        future = _mean_future(done)
        if not future.empty:
            traces.append(go.Scatter(
                x=_axis_times(future.index), y=sig(future), mode="lines", name=f"{name} (future)",
                legendgroup=name, showlegend=False, line={"color": color, "width": 2, "dash": "dash"},
                hovertemplate=f"{name} future: %{{y:{fmt}}}<extra></extra>"))
            future_end = future.index[-1] if future_end is None else max(future_end, future.index[-1])
            futures[name] = future
        drawn.append(model.name)
    yaxis: dict[str, Any] = {"title": {"text": user_text(spec.data.target)}}
    notes = _clip_runaways(yaxis, seen, futures)
    finished = [o for o in outcomes.values() if o is not None and o.regions is not None]
    finished.sort(key=lambda o: o.status != RunStatus.DONE)
    bounds, shapes, regions = _regions(finished[0].regions if finished else None, future_end)
    target = user_text(spec.data.target)
    has_future = future_end is not None
    zoom = (_zoom_range(actual.index[0], bounds[0], future_end if has_future else bounds[1])
            if bounds is not None and len(actual) else None)
    if not drawn:
        notes.append({"text": "No finished run yet: forecasts appear when a run is done.", "xref": "paper",
                      "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False, "font": {"size": 13, "color": "#777"}})
    xaxis: dict[str, Any] = {"title": {"text": None if isinstance(actual.index, pd.DatetimeIndex) else "position"},
                             "hoverformat": _date_format(actual.index)}
    layout = {**house(f"{target}: actual vs test forecasts", body=320,
                      legend=["actual", *drawn, *(["future (recursive)"] if has_future else [])],
                      subtitle="one step ahead, mean over seeds · band: min–max over seeds",
                      gap=8 + (_MENU_PX if zoom else 0)),
              "hovermode": "x unified", "xaxis": xaxis, "yaxis": yaxis, "shapes": shapes,
              "annotations": [*regions, *notes]}
    if zoom:
        _zoom_buttons(layout, zoom)
    return figure(*traces, *([legend_key("future (recursive)", "dash")] if has_future else []), layout=layout)


def _clip_runaways(yaxis: dict[str, Any], seen: list[float], futures: dict[str, pd.Series]) -> list[dict[str, Any]]:
    """Fit the y-axis to the actual series and the test forecasts when a recursive future
    forecast runs far outside them (more than their whole range beyond); the annotation that
    says so in words (none when nothing runs away)."""
    if not seen or not futures:
        return []
    lo, hi = min(seen), max(seen)
    span = (hi - lo) or abs(hi) or 1.0
    away = {n: f for n, f in futures.items() if ((f < lo - span) | (f > hi + span)).any()}
    if not away:
        return []
    yaxis["range"] = [lo - 0.08 * span, hi + 0.08 * span]

    def extreme(f: pd.Series) -> str:
        value = float(f.max() if f.max() >= -f.min() else f.min())
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"

    worst = ", ".join(f"{n} reaches {extreme(f)}" for n, f in away.items())
    return [{"text": f"clipped: the future forecast runs away ({worst})", "xref": "paper", "yref": "paper",
             "x": 1, "y": 0, "xanchor": "right", "yanchor": "bottom", "showarrow": False,
             "font": {"size": 11, "color": "#b00"}, "bgcolor": "rgba(255,255,255,0.8)"}]


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


def _by_index(comparison: Comparison) -> list[ModelSummary]:
    return sorted(comparison.models, key=lambda m: m.index)


def _format(comparison: Comparison, metric: str) -> str:
    if metric in ("rmse", "mae", "mfe"):
        return f",.{comparison.decimals}f"
    return {"params": ",.0f", "seconds_per_epoch": ".3~g"}.get(metric, ".3f")


def _seed_values(m: ModelSummary, metric: str) -> tuple[list[tuple[int, float]], list[int]]:
    """(seed, value) of the finished seeds, and the diverged seeds."""
    values = [(s, v) for s, row in m.per_seed.items()
              if row.status == RunStatus.DONE and (v := finite(row.get(metric))) is not None]
    return values, [s for s, row in m.per_seed.items() if row.status == RunStatus.DIVERGED]


def _x_range(values: Sequence[float]) -> list[float]:
    if not values:
        return [0.0, 1.0]
    low, high = min(values), max(values)
    pad = 0.1 * (high - low) or 0.1 * abs(high) or 0.5
    return [low - pad, high + 1.6 * pad]  # room on the right for the ✕ of diverged seeds


def _edge(x_range: Sequence[float]) -> float:
    """Where diverged seeds are marked: just inside the right end of the axis."""
    return x_range[1] - 0.04 * (x_range[1] - x_range[0])


def _strip(rows: Sequence[ModelSummary], metric: str, colors: Mapping[str, str], fmt: str, edge: float,
           axes: tuple[str, str] = ("x", "y")) -> list[go.Scatter]:
    """Per model row: seeds as jittered dots, the mean as a diamond, diverged seeds as ✕ at `edge`
    (on the axes named `axes`)."""
    out: list[go.Scatter] = []
    on = {"xaxis": axes[0], "yaxis": axes[1]}
    for y, m in enumerate(rows):
        color, name, (values, diverged) = colors[m.name], user_text(m.name), _seed_values(m, metric)
        seeds = [s for s, _ in values] + diverged
        spread_y = np.linspace(-0.2, 0.2, len(seeds)).round(4).tolist() if len(seeds) > 1 else [0.0]
        jitter = dict(zip(seeds, spread_y, strict=False))
        if values:
            out.append(go.Scatter(
                **on, x=sig(v for _, v in values), y=[round(y + jitter[s], 4) for s, _ in values],
                customdata=[s for s, _ in values], mode="markers", name=f"{name} (seeds)", legendgroup=name,
                showlegend=False,
                marker={"color": rgba(color, 0.75), "size": 8, "line": {"color": "white", "width": 0.5}},
                hovertemplate=f"{name}, seed %{{customdata}}: %{{x:{fmt}}}<extra></extra>"))
        if diverged:
            out.append(go.Scatter(
                **on, x=[edge] * len(diverged), y=[round(y + jitter[s], 4) for s in diverged], customdata=diverged,
                mode="markers",
                name=f"{name} (diverged)", legendgroup=name, showlegend=False, cliponaxis=False,
                marker={"color": color, "symbol": "x", "size": 9},
                hovertemplate=f"{name}, seed %{{customdata}}: diverged<extra></extra>"))
        mean = finite(m.mean.get(metric))
        if mean is not None:
            std = finite(m.std.get(metric))
            spread = f" ± %{{customdata[0]:{fmt}}}" if std is not None else ""
            out.append(go.Scatter(
                **on, x=sig([mean]), y=[y], customdata=[[*sig([std]), m.seeds_done, m.seeds_total]], mode="markers",
                name=name, legendgroup=name, showlegend=False,
                marker={"color": color, "symbol": "diamond", "size": 13, "line": {"color": "#222", "width": 1}},
                hovertemplate=(f"<b>{name}</b>: mean %{{x:{fmt}}}{spread}<br>over %{{customdata[1]}} of "
                               "%{customdata[2]} seeds<extra></extra>")))
    return out


def _rank(m: ModelSummary, metric: str) -> tuple[bool, float, int]:
    mean, rule = finite(m.mean.get(metric)), BEST.get(LABELS[metric])
    if mean is None or rule is None:
        return mean is None, 0.0, m.index
    key = {"min": mean, "max": -mean, "zero": abs(mean), "one": abs(mean - 1)}[rule]
    return False, key, m.index


def metric_overview(comparison: Comparison, metric: str = "rmse") -> go.Figure:
    """One row per model, best mean at the top: each seed a dot, the mean a diamond, diverged
    seeds a ✕ at the right edge, the naive forecast a dashed vertical line."""
    if metric not in LABELS:
        raise ValueError(f"Received an invalid value for argument `metric`, expected one of "
                         f"{', '.join(LABELS)}, got {metric!r}.")
    colors = model_colors([m.name for m in _by_index(comparison)])
    rows = sorted(comparison.models, key=lambda m: _rank(m, metric))
    fmt, naive = _format(comparison, metric), finite(comparison.naive.get(metric))
    values = [v for m in rows for _, v in _seed_values(m, metric)[0]]
    values += [v for m in rows if (v := finite(m.mean.get(metric))) is not None]
    x_range = _x_range(values + ([naive] if naive is not None else []))
    strips = _strip(rows, metric, colors, fmt, _edge(x_range))
    keys = [legend_key("seed", symbol="circle"), legend_key("mean over seeds", symbol="diamond")]
    if any(m.seeds_diverged for m in rows):
        keys.append(legend_key("diverged seed", symbol="x"))
    shapes = []
    if naive is not None:
        keys.append(legend_key("naive (last value)", "dash"))
        shapes.append(_vline(naive, "x", "y", {"color": "#444", "width": 1.5, "dash": "dash"}, "naive"))
    label = LABELS[metric]
    rule = BEST.get(label)
    order = {"min": f"lowest {label} at the top", "max": f"highest {label} at the top",
             "zero": f"{label} closest to 0 at the top", "one": f"{label} closest to 1 at the top"}
    fig = figure(*strips, *keys, layout={
        **house(f"{label} per seed and mean per model", body=28 * len(rows) + 24, legend=[k.name for k in keys],
                subtitle=f"sorted best first ({order[rule]})" if rule else "in model order", left=120),
        "shapes": shapes,
        "xaxis": {"title": {"text": _UNITS.get(metric, label)}, "range": x_range, "zeroline": False},
        "yaxis": {"tickvals": list(range(len(rows))), "ticktext": _ticks([m.name for m in rows], colors),
                  "range": [len(rows) - 0.5, -0.5], "showgrid": False, "zeroline": False}})
    if not rows:
        note(fig, "No models to compare.")
    return fig


def _vline(x: float, xref: str, yref: str, line: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A vertical line across a plot area, as a plain shape (`add_vline` is slow)."""
    return {"type": "line", "x0": x, "x1": x, "xref": xref, "y0": 0, "y1": 1, "yref": f"{yref} domain",
            "line": dict(line), "name": name}


def _published(name: str, published: Mapping[str, Mapping[str, float]]) -> Mapping[str, float] | None:
    if name in published:
        return published[name]
    lowered = {k.lower(): v for k, v in published.items()}
    return lowered.get(name.strip().lower())


def replication_figure(comparison: Comparison, published: Mapping[str, Mapping[str, float]]) -> go.Figure:
    """RMSE, MFE and MDA side by side: this app's seeds (dots) and mean (diamond) per model, and
    the published single-run figure as a red star for the models named in `published`."""
    models = _by_index(comparison)
    colors = model_colors([m.name for m in models])
    metrics = ("rmse", "mfe", "mda")
    axes, titles = grid(1, 3, titles=[_UNITS[k].split(" (")[0] for k in metrics], hspace=0.04, shared_y=True)
    traces: list[go.Scatter] = []
    shapes: list[dict[str, Any]] = []
    stars = False
    for col, metric in enumerate(metrics, start=1):
        x, y = cell(1, col, 3)
        fmt = _format(comparison, metric)
        marks = [(row, v) for row, m in enumerate(models)
                 if (v := finite((_published(m.name, published) or {}).get(metric))) is not None]
        naive = finite(comparison.naive.get(metric)) if metric == "rmse" else None
        values = [v for m in models for _, v in _seed_values(m, metric)[0]] + [v for _, v in marks]
        values += [v for m in models if (v := finite(m.mean.get(metric))) is not None]
        x_range = _x_range(values + ([naive] if naive is not None else []) + ([0.0] if metric == "mfe" else []))
        traces += _strip(models, metric, colors, fmt, _edge(x_range), (x, y))
        if marks:
            traces.append(go.Scatter(
                x=[v for _, v in marks], y=[row for row, _ in marks], mode="markers", xaxis=x, yaxis=y,
                customdata=[user_text(models[row].name) for row, _ in marks],
                name="published", legendgroup="published", showlegend=not stars,
                marker={"color": "#d62728", "symbol": "star", "size": 16, "line": {"color": "#7f0000", "width": 1}},
                hovertemplate=f"%{{customdata}}: published %{{x:{fmt}}} (single run)<extra></extra>"))
            stars = True
        if naive is not None:
            shapes.append(_vline(naive, x, y, {"color": "#444", "width": 1.5, "dash": "dash"}, "naive"))
        if metric == "mfe":
            shapes.append(_vline(0, x, y, {"color": NEUTRAL, "width": 1}, "zero"))
        axes["xaxis" + x[1:]].update(range=x_range, zeroline=False)
    keys = [legend_key("seed", symbol="circle"), legend_key("mean over seeds", symbol="diamond")]
    if comparison.naive.get("rmse") is not None:
        keys.append(legend_key("naive RMSE", "dash"))
    legend = ["published", *(k.name for k in keys)] if stars else [k.name for k in keys]
    for key, axis in axes.items():
        if key.startswith("y"):
            axis.update(tickvals=list(range(len(models))), ticktext=_ticks([m.name for m in models], colors),
                        range=[len(models) - 0.5, -0.5], showgrid=False, zeroline=False)
    return figure(*traces, *keys, layout={
        **house("Published single run vs this app's seeds", body=max(150, 40 * len(models) + 30), legend=legend,
                subtitle=f"{len(comparison.seeds)} seeds per model · MFE: + = over-forecast · MDA: share of steps "
                         "moving the right way", left=100, gap=26),
        **axes, "annotations": titles, "shapes": shapes})
