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

from ..num import finite_or_none
from ..outcome import RunStatus
from ..params import LayerCount, LayerKind
from ._charts_backtest import model_settings, rmse_by_horizon, settings_diff, sweep_parallel
from ._charts_diag import MAX_HISTOGRAM_MODELS, gradient_norms, layer_histograms, loss_curves
from ._charts_forecast import REGION_FILLS, date_hover, forecast_overlay
from ._charts_look import (
    ACTUAL_COLOR,
    NEUTRAL,
    PALETTE,
    cell,
    figure,
    grid,
    house,
    legend_key,
    model_colors,
    note,
    number_format,
    rgba,
    sig,
    user_text,
)
from .compare import BEST, LABELS, Comparison, ModelSummary

__all__ = [
    "MAX_HISTOGRAM_MODELS", "PALETTE", "REGION_FILLS", "forecast_overlay", "gradient_norms", "layer_histograms",
    "loss_curves", "metric_overview", "model_colors", "model_settings", "param_comparison", "replication_figure",
    "rmse_by_horizon", "series_preview", "settings_diff", "sweep_parallel", "user_text",
]

_UNITS: dict[str, str] = {
    "rmse": "RMSE (series units)", "mae": "MAE (series units)", "mfe": "MFE (series units, + = over-forecast)",
    "mda": "MDA (share of steps moving the right way)", "skill": "skill vs naive (1 − RMSE / naive RMSE)",
    "volatility_ratio": "std(forecast) / std(actual)", "seconds_per_epoch": "seconds per epoch",
    "params": "trainable parameters",
}
_SLOT_ALPHA = (0.9, 0.6, 0.42, 0.3)  # fill strength of LSTM 1, 2, 3, 4+ segments; the head is lightest
_HEAD_ALPHA = 0.15


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
        hovertemplate=f"{date_hover(frame.index)}<br>{label}: %{{y:{number_format(values)}}}<extra></extra>"),
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
    notes = []
    for k, (name, rows) in enumerate(counts.items()):
        between = [user_text(str(r.kwargs["activation"])) for r in rows if r.kind is LayerKind.BETWEEN]
        text = f"{totals[name]:,}" + (f" ({', '.join(between)} between: +0)" if between else "")
        notes.append({
            # at the top edge of the bar (categories are numbered 0, 1, … on the axis), in the gap above it
            "x": 0, "y": k - (1 - _BAR_GAP) / 2, "xanchor": "left", "yanchor": "bottom", "yshift": 1,
            "showarrow": False,
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
    look = house("Trainable parameters per layer", body=round(_ROW_PX * (max(n, 1) + _BAR_GAP)), subtitle=subtitle,
                 legend=list(slots), left=110, width=240)  # it sits in a ~300–450 px column
    # plotly stacks a horizontal legend of bar keys one per row when traceorder is "normal"
    look["legend"] = {k: v for k, v in look["legend"].items() if k != "traceorder"}
    fig = figure(*traces, *keys, layout={
        **look,
        "barmode": "stack", "uniformtext": {"minsize": 9, "mode": "hide"}, "bargap": _BAR_GAP, "annotations": notes,
        "xaxis": {"title": {"text": "trainable parameters"}, "range": [0, 1.02 * max(totals.values(), default=1) or 1],
                  "tickformat": ","},
        # reversed: the first model at the top, with room above it for its label
        "yaxis": {"categoryorder": "array", "categoryarray": list(shown.values()), "range": [n - 0.5, -0.5 - _BAR_GAP],
                  "tickvals": list(shown.values()), "ticktext": _ticks(names, colors)}})
    if not names:
        note(fig, "No models to count.")
    return fig


def _by_index(comparison: Comparison) -> list[ModelSummary]:
    return sorted(comparison.models, key=lambda m: m.index)


def _format(comparison: Comparison, metric: str) -> str:
    if metric in ("rmse", "mae", "mfe"):
        return f",.{comparison.decimals}f"
    return {"params": ",.0f", "seconds_per_epoch": ".3~g"}.get(metric, ".3f")


def _per_model(comparison: Comparison) -> str:
    """"10 seeds", or "50 runs (10 seeds × 5 origins)" in a backtest."""
    seeds, origins = len(comparison.seeds), comparison.origins
    if origins <= 1:
        return f"{seeds} seed{'s' * (seeds != 1)}"
    return f"{seeds * origins} runs ({seeds} seeds × {origins} origins)"


def _seed_values(m: ModelSummary, metric: str) -> tuple[list[tuple[str, float]], list[str]]:
    """(seed label, value) of the finished runs, and the labels of the diverged ones (the seed,
    with its backtest origin when there are several)."""
    def label(seed: int, origin: int) -> str:
        return str(seed) if m.origins <= 1 else f"{seed}, origin {origin + 1}"

    values = [(label(*r), v) for r, row in m.per_seed.items()
              if row.status == RunStatus.DONE and (v := finite_or_none(row.get(metric))) is not None]
    return values, [label(*r) for r, row in m.per_seed.items() if row.status == RunStatus.DIVERGED]


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
        mean = finite_or_none(m.mean.get(metric))
        if mean is not None:
            std = finite_or_none(m.std.get(metric))
            spread = f" ± %{{customdata[0]:{fmt}}}" if std is not None else ""
            out.append(go.Scatter(
                **on, x=sig([mean]), y=[y], customdata=[[*sig([std]), m.seeds_done, m.seeds_total]], mode="markers",
                name=name, legendgroup=name, showlegend=False,
                marker={"color": color, "symbol": "diamond", "size": 13, "line": {"color": "#222", "width": 1}},
                hovertemplate=(f"<b>{name}</b>: mean %{{x:{fmt}}}{spread}<br>over %{{customdata[1]}} of "
                               "%{customdata[2]} seeds<extra></extra>")))
    return out


def _rank(m: ModelSummary, metric: str) -> tuple[bool, float, int]:
    mean, rule = finite_or_none(m.mean.get(metric)), BEST.get(LABELS[metric])
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
    fmt, naive = _format(comparison, metric), finite_or_none(comparison.naive.get(metric))
    values = [v for m in rows for _, v in _seed_values(m, metric)[0]]
    values += [v for m in rows if (v := finite_or_none(m.mean.get(metric))) is not None]
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
                 if (v := finite_or_none((_published(m.name, published) or {}).get(metric))) is not None]
        naive = finite_or_none(comparison.naive.get(metric)) if metric == "rmse" else None
        values = [v for m in models for _, v in _seed_values(m, metric)[0]] + [v for _, v in marks]
        values += [v for m in models if (v := finite_or_none(m.mean.get(metric))) is not None]
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
                subtitle=f"{_per_model(comparison)} per model · MFE: + = over-forecast · MDA: share of steps "
                         "moving the right way", left=100, gap=26),
        **axes, "annotations": titles, "shapes": shapes})
