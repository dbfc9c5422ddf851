"""The training diagnostics figures: loss curves, gradient norms and layer output histograms, on
the shared look of `_charts_look`.

`lstm_app.report.charts` re-exports everything public here; import from there. Nothing here imports
Streamlit or TensorFlow: builders return `go.Figure` objects and never display them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from ..outcome import LayerKind, LayerStats, RunStatus
from ..spec import ExperimentSpec
from ._charts_look import (
    Outcomes,
    cell,
    figure,
    grid,
    house,
    legend_key,
    model_colors,
    note,
    positive,
    rgba,
    runs_of,
    sig,
    user_text,
)

__all__ = ["MAX_HISTOGRAM_MODELS", "gradient_norms", "layer_histograms", "loss_curves"]

MAX_HISTOGRAM_MODELS = 6


def _log_range(values: Sequence[float]) -> list[float] | None:
    if not values:
        return None
    return [math.log10(min(values)) - 0.15, math.log10(max(values)) + 0.35]


def _seed_grid(curves: Mapping[int, Mapping[int, float]]) -> tuple[list[int], np.ndarray]:
    """The epochs seen in any of `curves` (seed -> {epoch: value}) and a seeds × epochs array
    (NaN where a seed has no value)."""
    epochs = sorted({e for points in curves.values() for e in points})
    return epochs, np.array([[points.get(e, np.nan) for e in epochs] for points in curves.values()], dtype=float)


def loss_curves(spec: ExperimentSpec, outcomes: Outcomes, *, seeds: bool = False) -> go.Figure:
    """Training (solid) and validation (dashed) loss per epoch: the mean over seeds per model,
    with a band from the lowest to the highest seed's training loss; with `seeds`, a thin line
    per seed instead of the band (132 traces for 60 runs: drawn only on request).

    Any status with epochs counts (running, cancelled runs are partial); diverged seeds are left
    out of the mean and the band and marked with an ✕ at the top edge (with `seeds`, also drawn
    thin and dotted).
    """
    colors = model_colors([m.name for m in spec.models])
    loss = user_text(spec.training.loss)
    traces: list[go.Scatter] = []
    kept: list[float] = []
    flags: dict[str, tuple[str, list[tuple[int, int, str]]]] = {}
    has_val = False
    for i, model in enumerate(spec.models):
        color, name = colors[model.name], user_text(model.name)
        runs = [(s, o) for s, o in runs_of(outcomes, i) if o.epochs]
        for key, dash, suffix in (("loss", "solid", ""), ("val_loss", "dash", " (validation)")):
            curves: dict[int, dict[int, float]] = {}
            for seed, o in runs:
                points = {e.epoch: v for e in o.epochs if (v := positive(getattr(e, key))) is not None}
                diverged = o.status == RunStatus.DIVERGED
                if points and seeds:
                    traces.append(go.Scatter(
                        x=list(points), y=sig(points.values()), mode="lines",
                        name=f"{name} seed {seed}{suffix}", legendgroup=name, showlegend=False,
                        opacity=0.6 if diverged else 0.35,
                        line={"color": color, "width": 1, "dash": "dot" if diverged else dash},
                        hovertemplate=f"{name}, seed {seed}{suffix}<br>epoch %{{x}}: %{{y:.4~g}}<extra></extra>"))
                if diverged:
                    if key == "loss":
                        at = o.diverged_epoch or (o.epochs[-1].epoch if o.epochs else 0)
                        flags.setdefault(name, (color, []))[1].append((seed, at, user_text(o.message or "diverged")))
                elif points:
                    curves[seed] = points
            if not curves:
                continue
            epochs, values = _seed_grid(curves)
            n = np.isfinite(values).sum(axis=0)
            mean = np.nanmean(values, axis=0)
            kept += [float(v) for v in values[np.isfinite(values)]]
            has_val |= key == "val_loss"
            if key == "loss" and not seeds and len(curves) > 1:
                low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
                traces += [
                    go.Scatter(x=epochs, y=sig(low), mode="lines", line={"width": 0, "color": color},
                               name=f"{name} band low", legendgroup=name, showlegend=False, hoverinfo="skip"),
                    go.Scatter(x=epochs, y=sig(high), mode="lines", line={"width": 0, "color": color},
                               fill="tonexty", fillcolor=rgba(color, 0.15), name=f"{name} band high",
                               legendgroup=name, showlegend=False, hoverinfo="skip")]
            traces.append(go.Scatter(
                x=epochs, y=sig(mean), customdata=n.tolist(), mode="lines",
                name=f"{name}{suffix}", legendgroup=name, showlegend=key == "loss",
                line={"color": color, "width": 2.5, "dash": dash},
                hovertemplate=(f"<b>{name}</b>{suffix}<br>epoch %{{x}}: %{{y:.4~g}}"
                               "<br>mean of %{customdata} seeds<extra></extra>")))
    y_range = _log_range(kept)
    top = 10 ** (y_range[1] - 0.05) if y_range else 1.0
    for name, (color, marks) in flags.items():  # name: already escaped; one trace per model
        traces.append(go.Scatter(
            x=[epoch for _, epoch, _ in marks], y=[top] * len(marks), mode="markers",
            customdata=[[seed, message] for seed, _, message in marks],
            name=f"{name} diverged seeds", legendgroup=name, showlegend=False, cliponaxis=False,
            marker={"color": color, "symbol": "x", "size": 10, "line": {"width": 1}},
            hovertemplate=f"{name}, seed %{{customdata[0]}}: diverged at epoch %{{x}}<br>%{{customdata[1]}}"
                          "<extra></extra>"))
    keys = [legend_key("training loss"), *([legend_key("validation loss", "dash")] if has_val else []),
            *([legend_key("diverged seed", symbol="x")] if flags else [])]
    legend = [m.name for m in spec.models] + [k.name for k in keys]
    title, subtitle = (("Loss per epoch (mean over seeds, thin: each seed)",
                        f"{loss} on scaled values, log scale; dotted: diverged seeds, left out of the mean")
                       if seeds else
                       ("Loss per epoch (mean over seeds)",
                        f"{loss} on scaled values, log scale · band: min–max over seeds (training) · "
                        "✕: diverged seed, left out"))
    fig = figure(*traces, *keys, layout={
        **house(title, body=300, legend=legend, subtitle=subtitle), "xaxis": {"title": {"text": "epoch"}},
        "yaxis": {"title": {"text": f"loss ({loss}, scaled)"}, "type": "log", "exponentformat": "power",
                  **({"range": y_range} if y_range else {})}})
    if not traces:
        note(fig, "No finished epochs yet.")
    return fig


def gradient_norms(spec: ExperimentSpec, outcomes: Outcomes) -> go.Figure:
    """Gradient norm per LSTM layer on the fixed probe batch per epoch, seed mean, log-y.

    One panel per LSTM layer (shared y axis), one colour per model; diverged seeds and
    non-finite norms are left out.
    """
    colors = model_colors([m.name for m in spec.models])
    layers = max((len(e.grad_norms) for o in outcomes.values() if o is not None for e in o.epochs), default=0)
    cols = max(1, min(layers, 3))
    rows = max(1, math.ceil(layers / cols))
    axes, titles = grid(rows, cols, titles=[f"LSTM {j + 1}" for j in range(layers)], hspace=0.04, vspace=0.12,
                        shared_y=True)
    traces: list[go.Scatter] = []
    shown: list[str] = []
    for i, model in enumerate(spec.models):
        name = user_text(model.name)
        runs = [(s, o) for s, o in runs_of(outcomes, i) if o.status != RunStatus.DIVERGED]
        for j in range(layers):
            curves = {s: points for s, o in runs
                      if (points := {e.epoch: v for e in o.epochs if len(e.grad_norms) > j
                                     and (v := positive(e.grad_norms[j])) is not None})}
            if not curves:
                continue
            epochs, values = _seed_grid(curves)
            custom = [[int(n), a, b] for n, a, b in zip(np.isfinite(values).sum(axis=0), sig(np.nanmin(values, axis=0)),
                                                        sig(np.nanmax(values, axis=0)), strict=True)]
            x, y = cell(j // cols + 1, j % cols + 1, cols)
            traces.append(go.Scatter(
                x=epochs, y=sig(np.nanmean(values, axis=0)), customdata=custom, mode="lines+markers",
                name=name, legendgroup=name, showlegend=model.name not in shown, xaxis=x, yaxis=y,
                line={"color": colors[model.name], "width": 2}, marker={"size": 4},
                hovertemplate=(f"<b>{name}</b>, LSTM {j + 1}<br>epoch %{{x}}: %{{y:.3~g}}<br>"
                               "mean of %{customdata[0]} seeds (%{customdata[1]:.3~g} to "
                               "%{customdata[2]:.3~g})<extra></extra>")))
            if model.name not in shown:
                shown.append(model.name)
    for key, axis in axes.items():
        axis.update({"type": "log", "exponentformat": "power"} if key.startswith("y") else {})
    for c in range(1, cols + 1):
        axes["xaxis" + cell(rows, c, cols)[0][1:]]["title"] = {"text": "epoch"}
    for r in range(1, rows + 1):
        axes["yaxis" + cell(r, 1, cols)[1][1:]]["title"] = {"text": "‖gradient‖"}
    fig = figure(*traces, layout={
        **house("Gradient norm per LSTM layer (mean over seeds)", body=260 * rows, legend=shown,
                subtitle="on a fixed probe batch of training windows; log scale", gap=24),
        **axes, "annotations": titles})
    if not shown:
        note(fig, "No gradient norms recorded yet.")
    return fig


def _first_diagnosed(outcomes: Outcomes, index: int) -> tuple[int, tuple[LayerStats, ...]] | None:
    for seed, o in runs_of(outcomes, index):
        if o.status == RunStatus.DONE and o.diagnostics.layers:
            return seed, o.diagnostics.layers
    return None


def _slots(layers: Sequence[LayerStats]) -> dict[int, LayerStats]:
    """Layer statistics by slot: LSTM k at 2(k − 1), the activation after it at 2(k − 1) + 1."""
    slots: dict[int, LayerStats] = {}
    lstm = 0
    for entry in layers:
        if entry.kind == LayerKind.BETWEEN:
            slots[2 * max(lstm, 1) - 1] = entry
        else:
            lstm += 1
            slots[2 * (lstm - 1)] = entry
    return slots


def _layer_label(entry: LayerStats, lstm_number: int) -> str:
    activation = user_text(entry.activation)
    if entry.kind == LayerKind.BETWEEN:
        return f"{activation} between"
    return f"LSTM {lstm_number} ({activation}, {user_text(entry.units)} units)"


def layer_histograms(spec: ExperimentSpec, outcomes: Outcomes) -> go.Figure:
    """Per model (rows) and layer (columns, between-activations included): the distribution of
    outputs on the test windows, from the first finished seed, with ±1 (tanh range) marked."""
    colors = model_colors([m.name for m in spec.models])
    found = [(i, m.name, pick) for i, m in enumerate(spec.models) if (pick := _first_diagnosed(outcomes, i))]
    shown = found[:MAX_HISTOGRAM_MODELS]
    placed = [_slots(layers) for _, _, (_, layers) in shown]
    # Columns are layer slots (LSTM 1, between 1, LSTM 2, ...) so LSTM k lines up across models.
    columns = sorted({slot for row in placed for slot in row}) or [0]
    cols, rows = len(columns), max(1, len(shown))
    titles: list[str] = []
    for row in placed:
        for slot in columns:
            entry = row.get(slot)
            if entry is None:
                titles.append("")
                continue
            stats = ("non-finite outputs" if entry.max_abs is None else
                     f"max |h| {entry.max_abs:.3g} · dead {entry.dead_share or 0:.0%}")
            titles.append(f"{_layer_label(entry, slot // 2 + 1)}<br>{stats}")
    row_px, gap_px = 150, 58  # the gap holds each cell's two-line title
    body = rows * row_px + (rows - 1) * gap_px
    axes, notes = grid(rows, cols, titles=titles, hspace=0.05, vspace=gap_px / body if rows > 1 else 0.1)
    for title_note in notes:  # two lines of 10 px text, lifted clear of the cell's top tick label
        title_note.update(font={"size": 10}, yshift=6)
    traces: list[go.Bar] = []
    guides: list[dict[str, object]] = []
    for r, ((_, raw, (seed, _)), row) in enumerate(zip(shown, placed, strict=True), start=1):
        name, color = user_text(raw), colors[raw]
        for c, entry in ((columns.index(slot) + 1, entry) for slot, entry in row.items()):
            xref, yref = cell(r, c, cols)
            hist = entry.histogram
            counts = np.asarray(hist.counts if hist else [], dtype=float)
            edges = np.asarray(hist.edges if hist else [], dtype=float)
            layer = user_text(entry.name)
            if counts.size and edges.size == counts.size + 1 and counts.sum() > 0:
                share = counts / counts.sum() * 100
                traces.append(go.Bar(
                    x=sig((edges[:-1] + edges[1:]) / 2), y=sig(share), width=sig(np.diff(edges)),
                    customdata=[[a, b] for a, b in zip(sig(edges[:-1], 4), sig(edges[1:], 4), strict=True)],
                    name=f"{name} · {layer}", xaxis=xref, yaxis=yref,
                    marker={"color": color, "line": {"width": 0}}, showlegend=False,
                    hovertemplate="%{customdata[0]:.3g} to %{customdata[1]:.3g}: %{y:.1f}% of values"
                                  f"<extra>{name} · {layer}</extra>"))
                low, high = min(float(edges[0]), -1.1), max(float(edges[-1]), 1.1)
                pad = 0.04 * (high - low)
                axes["xaxis" + xref[1:]]["range"] = [low - pad, high + pad]
            # ±1 guides as plain shapes (add_vline per subplot is slow)
            guides += [{"type": "line", "x0": x, "x1": x, "y0": 0, "y1": 1, "xref": xref, "yref": f"{yref} domain",
                        "line": {"color": "#555", "width": 1, "dash": "dot"}} for x in (-1.0, 1.0)]
        axes["yaxis" + cell(r, 1, cols)[1][1:]]["title"] = {"text": f"{name}<br>seed {seed}",
                                                            "font": {"color": color, "size": 11}}
    for c in range(1, cols + 1):
        axes["xaxis" + cell(rows, c, cols)[0][1:]]["title"] = {"text": "output value", "font": {"size": 11}}
    title = "Layer outputs on the test windows"
    if len(found) > MAX_HISTOGRAM_MODELS:
        title += f" — first {MAX_HISTOGRAM_MODELS} of {len(found)} models"
    fig = figure(*traces, layout={
        **house(title, body=body, bottom=44, gap=40,
                subtitle="% of values per bin, first finished seed · dotted lines: ±1, the tanh range"),
        **axes, "annotations": notes, "shapes": guides, "bargap": 0})
    if not shown:
        note(fig, "No finished run with layer diagnostics yet.")
    return fig
