"""Charts of a rolling-origin backtest and of a sweep (see `charts`, which re-exports them):
RMSE by forecast horizon, and a parallel-coordinates view of settings → RMSE."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from ..horizons import experiment_horizon
from ..num import finite_or_none
from ..spec import ExperimentSpec, ModelSpec
from ._charts_clip import RMSE_FACTOR, beyond, clip_range, flag
from ._charts_look import figure, house, model_colors, note, sig, user_text
from ._charts_refs import label_of, reference_traces
from .backtest import NAIVE
from .compare import Comparison

__all__ = ["horizon_cap", "model_settings", "rmse_by_horizon", "settings_diff", "sweep_parallel"]


def horizon_cap(models: Sequence[ModelSpec], horizons: int, season: int | None) -> int:
    """How many steps ahead the horizon chart shows: the experiment's horizon
    (`horizons.experiment_horizon`), never more than the `horizons` the backtest scored (results
    from before the cap scored the whole test period)."""
    return experiment_horizon(models, season, horizons) if horizons > 0 else 0


def rmse_by_horizon(spec: ExperimentSpec, comparison: Comparison, season: int | None = None) -> go.Figure:
    """RMSE of the forecast h steps ahead, per model (from every test window, recursive or
    direct; pooled over seeds and origins; results from before that: from each test period's
    start) up to `horizon_cap`, beside the naive forecast held flat from the same windows and
    any other forecaster the backtest scored by horizon (dashed; the naive and the best other one
    shown, the rest a click away in the legend). A model that runs away is clipped and
    its legend entry says how far it went."""
    bt = comparison.backtest
    fmt, cap = f",.{comparison.decimals}f", horizon_cap(spec.models, bt.horizons, season)
    horizons = list(range(1, cap + 1))
    table = {m.name: list((bt.rmse_by_horizon.get(m.name) or [])[:cap]) for m in spec.models}
    lines = {name: values for name, values in table.items() if _finite(values)}
    refs = _reference_rows(bt.rmse_by_horizon, set(table), cap)
    calm = [v for _, values in refs.values() for v in values]
    # the scale a runaway is measured against: the references, else the typical model's worst
    hi = max(_finite(calm), default=0.0) or statistics.median([max(_finite(v)) for v in lines.values()] or [0.0])
    wild = beyond(0.0, hi, lines, factor=RMSE_FACTOR) if hi > 0 else {}
    colors = model_colors([m.name for m in spec.models])
    traces: list[go.Scatter] = []
    legend = []
    for name, values in lines.items():
        shown_name = user_text(name) + (f" ({flag(wild[name])})" if name in wild else "")
        traces.append(go.Scatter(
            x=horizons, y=sig(values), mode="lines+markers", name=shown_name,
            line={"color": colors[name], "width": 2}, marker={"size": 5},
            hovertemplate=f"{shown_name}, h = %{{x}}: RMSE %{{y:{fmt}}} (over {bt.forecasts.get(name, 0)} "
                          "forecasts)<extra></extra>"))
        legend.append(shown_name)
    best = min((k for k in refs if k != NAIVE), key=lambda k: _mean(refs[k][1]), default=None)
    traces += reference_traces({k: (label, horizons, sig(values)) for k, (label, values) in refs.items()},
                               {NAIVE, *([best] if best else [])}, f"RMSE %{{y:{fmt}}}")
    legend += [label for label, _ in refs.values()]
    yaxis: dict[str, Any] = {"title": {"text": "RMSE"}, "rangemode": "tozero"}
    if wild:
        yaxis["range"] = clip_range([*calm, *(v for n, vs in lines.items() if n not in wild for v in vs)],
                                    from_zero=True)
    origins = f"{bt.count} origins × " if bt.count > 1 else ""
    upto = f" · first {cap} of {bt.horizons} steps" if cap < bt.horizons else ""
    fig = figure(*traces, layout={
        **house("RMSE by forecast horizon", body=240, legend=legend,
                subtitle=f"forecasts h steps ahead from every test window · {origins}"
                         f"{len(comparison.seeds)} seeds per model · lower is better{upto}"),
        "xaxis": {"title": {"text": "steps ahead (h)"}, **({"dtick": 1} if cap <= 20 else {})}, "yaxis": yaxis})
    if not lines:
        note(fig, "No multi-step forecasts yet (they need a univariate series and a finished run).")
    return fig


def _finite(values: Iterable[object]) -> list[float]:
    return [x for x in map(finite_or_none, values) if x is not None]


def _mean(values: Sequence[float | None]) -> float:
    xs = _finite(values)
    return sum(xs) / len(xs) if xs else math.inf


def _reference_rows(table: Mapping[str, Sequence[float | None]], models: set[str], cap: int
                    ) -> dict[str, tuple[str, list[float | None]]]:
    """key -> (label, RMSE by horizon up to `cap`) of every forecaster in the backtest's table
    with a value: the naive forecast first (the "naive" key is the same forecast, left out)."""
    keys = [NAIVE, *(k for k in table if k not in models and k != NAIVE and not (k == "naive" and NAIVE in table))]
    return {k: (NAIVE if k == NAIVE else label_of(k), list(table[k][:cap])) for k in keys
            if k in table and any(v is not None for v in table[k][:cap])}


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
