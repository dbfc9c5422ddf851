"""Charts of a rolling-origin backtest and of a sweep (see `charts`, which re-exports them):
RMSE by forecast horizon, and a parallel-coordinates view of settings → RMSE."""

from __future__ import annotations

import plotly.graph_objects as go

from ..num import finite_or_none
from ..spec import ExperimentSpec, ModelSpec
from ._charts_look import figure, house, legend_key, model_colors, note, sig, user_text
from .backtest import NAIVE
from .compare import Comparison

__all__ = ["model_settings", "rmse_by_horizon", "settings_diff", "sweep_parallel"]


def rmse_by_horizon(spec: ExperimentSpec, comparison: Comparison) -> go.Figure:
    """RMSE of the recursive forecast h steps after each test period's start, per model (pooled
    over seeds and origins) with the naive forecast held flat from the same start, dashed."""
    bt = comparison.backtest
    colors = model_colors([m.name for m in spec.models])
    fmt = f",.{comparison.decimals}f"
    horizons = list(range(1, bt.horizons + 1))
    traces: list[go.Scatter] = []
    drawn = []
    for model in spec.models:
        values = bt.rmse_by_horizon.get(model.name) or []
        if not any(v is not None for v in values):
            continue
        name = user_text(model.name)
        traces.append(go.Scatter(
            x=horizons, y=sig(values), mode="lines+markers", name=name,
            line={"color": colors[model.name], "width": 2}, marker={"size": 5},
            hovertemplate=f"{name}, h = %{{x}}: RMSE %{{y:{fmt}}} (over {bt.forecasts.get(model.name, 0)} "
                          "forecasts)<extra></extra>"))
        drawn.append(name)
    naive = bt.rmse_by_horizon.get(NAIVE) or []
    has_naive = any(v is not None for v in naive)
    if has_naive:
        traces.append(go.Scatter(
            x=horizons, y=sig(naive), mode="lines", name=NAIVE, showlegend=False,
            line={"color": "#444", "width": 1.5, "dash": "dash"},
            hovertemplate=f"naive, h = %{{x}}: RMSE %{{y:{fmt}}}<extra></extra>"))
        traces.append(legend_key(NAIVE, "dash"))
    origins = f"{bt.count} origins × " if bt.count > 1 else ""
    layout = {
        **house("RMSE by forecast horizon", body=240, legend=[*drawn, *([NAIVE] if has_naive else [])],
                subtitle=f"recursive forecasts from the start of each test period · {origins}"
                         f"{len(comparison.seeds)} seeds per model · lower is better"),
        "xaxis": {"title": {"text": "steps ahead (h)"}, **({"dtick": 1} if bt.horizons <= 20 else {})},
        "yaxis": {"title": {"text": "RMSE"}, "rangemode": "tozero"},
    }
    fig = figure(*traces, layout=layout)
    if not drawn:
        note(fig, "No recursive forecasts yet (they need a univariate series and a finished run).")
    return fig


def model_settings(model: ModelSpec) -> dict[str, str]:
    """A model's settings as short text, one entry per setting that a sweep may vary."""
    def same_or_each(values: list[str]) -> str:
        return values[0] if len(set(values)) == 1 else "/".join(values)

    layers = model.layers
    return {
        "units": "→".join(str(u) for u in model.units),
        "activation": same_or_each([layer.activation for layer in layers]),
        "gates": same_or_each([layer.recurrent_activation for layer in layers]),
        "between": (model.between or "none") if len(layers) > 1 else "none",
        "dropout": same_or_each([f"{layer.dropout:g}" for layer in layers]),
        "recurrent dropout": same_or_each([f"{layer.recurrent_dropout:g}" for layer in layers]),
        "dense head": ("→".join(str(u) for u in model.dense) + f" ({model.dense_activation})"
                       if model.dense else "none"),
    }


def settings_diff(model: ModelSpec, reference: ModelSpec) -> str:
    """Only the settings of `model` that differ from `reference`, e.g. "activation relu (tanh)";
    "" when none do."""
    mine, theirs = model_settings(model), model_settings(reference)
    return "; ".join(f"{key} {mine[key]} (reference: {theirs[key]})" for key in mine if mine[key] != theirs[key])


def sweep_parallel(spec: ExperimentSpec, comparison: Comparison) -> go.Figure:
    """Parallel coordinates: one line per model from each setting that varies across the models
    to its mean RMSE over seeds and origins; drag along an axis to filter the lines."""
    settings = [model_settings(m) for m in spec.models]
    varying = [k for k in settings[0] if len({s[k] for s in settings}) > 1]
    rmse = {m.name: finite_or_none(m.mean.get("rmse")) for m in comparison.models}
    rows = [(m, s) for m, s in zip(spec.models, settings, strict=True) if rmse.get(m.name) is not None]
    if len(rows) < 2:
        fig = figure(layout=house("Settings → RMSE", body=260))
        note(fig, "The sweep view needs at least two models with a finished run.")
        return fig
    dims = []
    for key in varying:
        levels = sorted({s[key] for _, s in rows}, key=_level_order)
        dims.append({"label": key, "values": [levels.index(s[key]) for _, s in rows],
                     "tickvals": list(range(len(levels))), "ticktext": levels,
                     "range": [-0.3, len(levels) - 0.7] if len(levels) > 1 else [-1, 1]})
    values = [rmse[m.name] for m, _ in rows]
    dims.append({"label": "RMSE (mean)", "values": values, "tickformat": f",.{comparison.decimals + 1}f"})
    lines = go.Parcoords(
        line={"color": values, "colorscale": "Viridis_r", "showscale": True,
              "colorbar": {"title": {"text": "RMSE"}, "thickness": 12}},
        dimensions=dims, labelangle=0, labelfont={"size": 12}, tickfont={"size": 10})
    origins = f" and {comparison.origins} origins" if comparison.origins > 1 else ""
    return figure(lines, layout=house(
        "Settings → RMSE", body=300, left=90, right=90, gap=64,
        subtitle=f"one line per model, RMSE averaged over seeds{origins} · drag along an axis to filter"))


def _level_order(text: str) -> tuple[float, str]:
    """Numbers in numeric order (64 before 128), other text alphabetically."""
    head = text.split("→")[0].split("/")[0].split(" ")[0]
    try:
        return float(head), text
    except ValueError:
        return float("inf"), text
