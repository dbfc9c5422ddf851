"""The charts' shared look: model colours, the house template and layout, subplot grids and the
small helpers every figure builder uses.

`lstm_app.report.charts` re-exports everything public here; import from there. Nothing here imports
Streamlit or TensorFlow: builders return `go.Figure` objects and never display them.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import hex_to_rgb, qualitative

from ..num import finite_or_none
from ..outcome import RunOutcome
from ..spec import RunKey

__all__ = ["PALETTE", "model_colors", "user_text"]

# Keyed by (model index, seed) or (model index, seed, backtest origin).
Outcomes = Mapping[tuple[int, int], "RunOutcome | None"] | Mapping[RunKey, "RunOutcome | None"]

ACTUAL_COLOR = "#2b2b2b"
NEUTRAL = "#8c8c8c"
_TITLE_PX, _SUBTITLE_PX, _LEGEND_ROW_PX = 34, 18, 22
_ASSUMED_WIDTH = 560  # plot width at half of a 1280 px window: legends are packed for this


def _saturated(color: str) -> bool:
    r, g, b = hex_to_rgb(color)
    return bool(max(r, g, b) - min(r, g, b) > 40)  # drops greys and near-black: the actual series is grey


def _palette() -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for color in (*qualitative.Plotly, *qualitative.D3, *qualitative.Dark24):
        if _saturated(color):
            seen.setdefault(color.upper(), None)
    return tuple(seen)


# Plotly's ten, then D3 and Dark24 without greys: 40 distinct colours before they cycle.
PALETTE: tuple[str, ...] = _palette()


_GRID = {"gridcolor": "#EBF0F8", "linecolor": "#EBF0F8", "zerolinecolor": "#EBF0F8", "zerolinewidth": 2,
         "ticks": "", "automargin": True, "title": {"standoff": 15}}
# The house template, built once and registered as "lstm_lab": plotly_white's look for the 2-D
# charts drawn here, without its defaults for every other trace type (3-D, maps, colour scales).
# Applying "plotly_white" by name cost ~20 ms per figure and sent ~6.5 KB more per chart.
TEMPLATE = go.layout.Template(layout={
    "autotypenumbers": "strict", "colorway": list(qualitative.Plotly), "font": {"color": "#2a3f5f"},
    "hovermode": "closest", "hoverlabel": {"align": "left"}, "paper_bgcolor": "white", "plot_bgcolor": "white",
    "xaxis": _GRID, "yaxis": _GRID, "shapedefaults": {"line": {"color": "#2a3f5f"}},
    "annotationdefaults": {"arrowcolor": "#2a3f5f", "arrowhead": 0, "arrowwidth": 1},
})
pio.templates["lstm_lab"] = TEMPLATE


def figure(*traces: go.Scatter | go.Bar, layout: Mapping[str, Any] | None = None) -> go.Figure:
    """A new figure of `traces` and `layout` on the house template. Builders gather their traces
    and layout and make the figure once: plotly validates a whole layout given at construction in
    ~2 ms, where the same properties set by `update_layout` and `update_xaxes` on a figure cost
    ~10–25 ms (each update runs the figure's change machinery)."""
    return go.Figure(list(traces), layout={"template": TEMPLATE, **(layout or {})})


def user_text(text: object) -> str:
    """User-provided text (a model, column or dataset name) as plotly shows it: literally.

    Plotly renders a subset of HTML in names, ticks, hover text, annotations and titles, so a
    model named `<b>x</b>` would be bold and `<a href=...>` a link. Escaping `&`, `<` and `>`
    makes plotly draw the characters instead. Apply it once, where a name is read, and key
    colours by the raw name (`model_colors` takes raw names).
    """
    return html.escape(str(text), quote=False)


def model_colors(names: Sequence[str]) -> dict[str, str]:
    """Model name -> colour, by position in `names` (model order), cycling through `PALETTE`."""
    unique = list(dict.fromkeys(names))
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(unique)}


def rgba(color: str, alpha: float) -> str:
    r, g, b = hex_to_rgb(color)
    return f"rgba({r},{g},{b},{alpha})"


def positive(value: object) -> float | None:
    """Finite and > 0 (plottable on a log axis), else None."""
    number = finite_or_none(value)
    return number if number is not None and number > 0 else None


def number_format(values: Iterable[object]) -> str:
    """A d3 format showing about 3 significant digits at the typical magnitude of `values`."""
    xs = np.abs([x for x in map(finite_or_none, values) if x is not None])
    scale = float(np.median(xs)) if xs.size else 0.0
    if not scale > 0:
        return ",.3~g"
    return f",.{min(8, max(0, 2 - math.floor(math.log10(scale))))}f"


def sig(values: Iterable[object], digits: int = 6) -> list[float | None]:
    """`values` rounded to `digits` significant digits (None where not finite): what a chart
    needs, in far fewer bytes than full float reprs."""
    return [None if (x := finite_or_none(v)) is None else float(f"{x:.{digits}g}") for v in values]


def legend_rows(labels: Sequence[str], width: float = _ASSUMED_WIDTH) -> int:
    """How many rows a horizontal legend with these labels takes `width` px wide (by default
    ~half a 1280 px window)."""
    rows, used = 1, 0.0
    for label in labels:
        entry = 42 + 6.6 * len(label)
        if used and used + entry > width:
            rows, used = rows + 1, 0.0
        used += entry
    return rows if labels else 0


def house(title: str, *, body: int, subtitle: str | None = None, legend: Sequence[str] = (), bottom: int = 50,
          left: int = 64, right: int = 24, gap: int = 8, width: float = _ASSUMED_WIDTH) -> dict[str, Any]:
    """The house look as layout properties: title top-left, horizontal legend under it, compact
    margins.

    `body` is the plot area's height in pixels; the figure grows by what the title, subtitle
    and legend (packed for a ~600 px wide column) need, so nothing overlaps; `gap` is the space
    left above the plot area (subplot titles need ~20–36 px); `width` is the figure's expected
    width, for packing the legend.
    """
    head = _TITLE_PX + (_SUBTITLE_PX * (subtitle.count("<br>") + 1) if subtitle else 0)
    top = head + legend_rows(legend, width) * _LEGEND_ROW_PX + gap
    height = body + top + bottom
    return {
        "height": height,
        "margin": {"l": left, "r": right, "t": top, "b": bottom},
        "title": {"text": title, "x": 0.01, "xanchor": "left", "yref": "container", "y": 1.0,
                  "yanchor": "top", "pad": {"t": 10}, "font": {"size": 15},
                  **({"subtitle": {"text": subtitle, "font": {"size": 11, "color": "#666"}}} if subtitle else {})},
        "showlegend": bool(legend),
        # under the title, from the figure's left edge (not the plot area's): the whole width for its rows
        "legend": {"orientation": "h", "yref": "container", "y": 1 - (head + 2) / height, "yanchor": "top",
                   "xref": "container", "x": 0.01, "xanchor": "left", "font": {"size": 11}, "traceorder": "normal"},
        "font": {"size": 12},
        "hoverlabel": {"namelength": -1},
    }


def grid(rows: int, cols: int, *, titles: Sequence[str] = (), hspace: float | None = None,
         vspace: float | None = None, shared_y: bool = False) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The axes of a `rows` × `cols` grid laid out as `make_subplots` does (row 1 at the top, axes
    numbered row by row: x/y, x2/y2, …; with `shared_y` each row's y axes match its first and only
    that one has tick labels), and the cell titles as annotations — as plain layout properties,
    without make_subplots' cost (~15–30 ms a figure). See `cell` for a cell's axis names."""
    hspace = 0.2 / cols if hspace is None else hspace
    vspace = 0.3 / rows if vspace is None else vspace
    width, height = (1 - hspace * (cols - 1)) / cols, (1 - vspace * (rows - 1)) / rows
    layout: dict[str, Any] = {}
    notes: list[dict[str, Any]] = []
    for r in range(1, rows + 1):
        for c in range(1, cols + 1):
            xs, ys = cell(r, c, cols)
            x0, y1 = (c - 1) * (width + hspace), 1 - (r - 1) * (height + vspace)
            layout["xaxis" + xs[1:]] = {"domain": [x0, x0 + width], "anchor": ys}
            layout["yaxis" + ys[1:]] = {"domain": [max(0.0, y1 - height), y1], "anchor": xs}
            if shared_y and c > 1:
                layout["yaxis" + ys[1:]].update(matches=cell(r, 1, cols)[1], showticklabels=False)
            k = (r - 1) * cols + c - 1
            if k < len(titles) and titles[k]:
                notes.append({"text": titles[k], "x": x0 + width / 2, "y": y1, "xref": "paper", "yref": "paper",
                              "xanchor": "center", "yanchor": "bottom", "showarrow": False, "font": {"size": 12}})
    return layout, notes


def cell(row: int, col: int, cols: int) -> tuple[str, str]:
    """The (x, y) axis names of a `grid` cell: "x"/"y" for the first, then "x2"/"y2", …"""
    k = (row - 1) * cols + col
    return ("x", "y") if k == 1 else (f"x{k}", f"y{k}")


def note(fig: go.Figure, text: str) -> None:
    """A grey message in the middle of an empty figure."""
    fig.add_annotation(text=text, xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False,
                       font={"size": 13, "color": "#777"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)


def runs_of(outcomes: Outcomes, index: int, origin: int | None = None) -> list[tuple[int, RunOutcome]]:
    """(seed, outcome) of one model, by seed (and origin), leaving out missing runs; with
    `origin`, only that backtest origin's runs."""
    found = [(key[1], key[2] if len(key) > 2 else 0, o) for key, o in outcomes.items()
             if key[0] == index and o is not None]
    return [(seed, o) for seed, at, o in sorted(found, key=lambda run: run[:2]) if origin is None or at == origin]


def legend_key(name: str, dash: str = "solid", symbol: str | None = None) -> go.Scatter:
    """A legend-only grey entry explaining a line style or marker."""
    mode = "markers" if symbol else "lines"
    return go.Scatter(x=[None], y=[None], mode=mode, name=name, hoverinfo="skip",
                      line={"color": NEUTRAL, "dash": dash, "width": 2},
                      marker={"color": NEUTRAL, "symbol": symbol or "circle", "size": 9})
