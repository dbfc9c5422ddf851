"""Tables and code drawn from loaded results (`runs.results`): the inside-the-network table,
the styled metrics table and the Keras script. No TensorFlow, no run store.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd
from pandas.io.formats.style import Styler

from ..outcome import LayerStats, RunOutcome, RunStatus
from ..spec import ExperimentSpec, cudnn_eligible
from ..text import one_line, quote
from .codegen import keras_code
from .compare import Comparison

__all__ = ["BEST_CSS", "inside_table", "keras_script", "styled_table"]

BEST_CSS = "background-color: rgba(46, 160, 67, 0.28); font-weight: 600"


def _mean(values: list[float | None]) -> float:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan


def inside_table(spec: ExperimentSpec, outcomes: Mapping[tuple[int, int], RunOutcome | None]) -> pd.DataFrame:
    """One row per model and layer: max |output| and dead-unit share (means over the finished
    seeds), with the model's volatility ratio, seconds per epoch and cuDNN eligibility."""
    rows = []
    for i, model in enumerate(spec.models):
        done = [o for key, o in outcomes.items() if key[0] == i and o is not None and o.status == RunStatus.DONE]
        by_name: dict[str, list[LayerStats]] = {}  # in the order the layers first appear
        for o in done:
            for layer in o.diagnostics.layers:
                by_name.setdefault(layer.name, []).append(layer)
        eligible, _ = cudnn_eligible(model)
        vol = _mean([o.metrics.volatility_ratio if o.metrics else None for o in done])
        spe = _mean([o.seconds_per_epoch for o in done])
        for name in by_name or ["—"]:
            seen = by_name.get(name, [])
            rows.append({
                "Model": model.name,
                "Layer": f"{name} ({seen[0].activation})" if seen else name,
                "max |h|": _mean([layer.max_abs for layer in seen]),
                "Dead units": _mean([layer.dead_share for layer in seen]),
                "Vol. ratio": vol,
                "s/epoch (CPU)": spe,
                "cuDNN on GPU": "yes" if eligible else "no",
                "Seeds": len(done),
            })
    return pd.DataFrame(rows, columns=["Model", "Layer", "max |h|", "Dead units", "Vol. ratio",
                                       "s/epoch (CPU)", "cuDNN on GPU", "Seeds"])


def keras_script(spec: ExperimentSpec) -> str:
    """Keras code that builds every model of `spec`, one block per model, as one .py file."""
    n_features = 1 + len(spec.data.features)
    blocks = [
        keras_code(model, n_features, spec.window.lookback, spec.window.framing, spec.training)
        for model in spec.models
    ]
    # a comment, not a docstring: no name (three quotes, a line break) can end a comment early
    header = f"# Keras code of the models of experiment {quote(one_line(spec.name), 120)} (LSTM Activation Lab).\n\n"
    return header + "\n\n".join(blocks)


def styled_table(comparison: Comparison) -> Styler:
    """`comparison.table()` (mean ± std strings) with the best cell of each column highlighted."""
    table, best = comparison.table(), comparison.best()

    def css(frame: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame("", index=frame.index, columns=frame.columns)
        for column, row in best.items():
            if column in out.columns and row in out.index:
                out.loc[row, column] = BEST_CSS
        return out

    return table.style.apply(css, axis=None)
