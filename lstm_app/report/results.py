"""One experiment's results as the page draws them, read from the run store (no TensorFlow).

`load(store, experiment_id)` gathers the spec, the actual series (re-read from the stored
dataset bytes exactly as a worker reads them), an outcome per model × seed and the
`compare.summarize` comparison. Runs that have not finished get a `RunOutcome` with their
status and the history so far, so loss curves show partial training.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
from pandas.io.formats.style import Styler

from .. import data
from ..errors import DataError
from ..outcome import ACTIVE, FINISHED, LayerStats, RunOutcome, RunStatus
from ..runs.store import ExperimentRow, RunRow, Store
from ..spec import ExperimentSpec, cudnn_eligible
from ..text import one_line, quote
from .codegen import keras_code
from .compare import Comparison, summarize

__all__ = ["BEST_CSS", "Results", "actual_frame", "inside_table", "keras_script", "load", "styled_table"]

BEST_CSS = "background-color: rgba(46, 160, 67, 0.28); font-weight: 600"

Outcomes = dict[tuple[int, int, int], RunOutcome | None]  # by (model index, seed, backtest origin)


@dataclass(frozen=True)
class Results:
    """An experiment with its runs, the actual series (None when it cannot be read, see
    `frame_error`), an outcome per (model index, seed, backtest origin) and the comparison."""

    experiment: ExperimentRow
    runs: tuple[RunRow, ...]
    frame: pd.DataFrame | None
    frame_error: str | None
    outcomes: Outcomes
    comparison: Comparison

    @property
    def spec(self) -> ExperimentSpec:
        return self.experiment.spec

    @property
    def actual(self) -> pd.Series | None:
        """The target column of the series (what the forecasts are compared with)."""
        return None if self.frame is None else self.frame[self.spec.data.target]

    @property
    def latest(self) -> dict[tuple[int, int], RunOutcome | None]:
        """The outcomes of the latest backtest origin (the end of the series: the only one
        without a backtest) by (model index, seed): what the training charts show."""
        last = self.spec.backtest.origins - 1
        return {(i, seed): o for (i, seed, origin), o in self.outcomes.items() if origin == last}

    @property
    def finished(self) -> int:
        """How many runs are done, diverged or cancelled."""
        return sum(1 for r in self.runs if r.status in FINISHED)

    @property
    def active(self) -> bool:
        """Whether any run is still queued or running."""
        return any(r.status in ACTIVE for r in self.runs)

    @property
    def has_forecasts(self) -> bool:
        """Whether at least one run finished with a test forecast."""
        return any(o is not None and o.status == RunStatus.DONE and o.test is not None for o in self.outcomes.values())


@functools.lru_cache(maxsize=16)
def _frame(store_path: str, sha: str, target: str, features: tuple[str, ...], time_column: str | None) -> pd.DataFrame:
    name, content = Store(store_path).dataset(sha)
    table = data.read_csv(content, name=name, time_column=time_column)
    return data.series(table, target, features)


def actual_frame(store: Store, sha: str, target: str, features: tuple[str, ...] = (),
                 time_column: str | None = None) -> pd.DataFrame:
    """The series a worker trained on, from the stored dataset bytes (cached by content hash)."""
    return _frame(str(store.path), sha, target, tuple(features), time_column).copy()


def _outcomes(store: Store, spec: ExperimentSpec, runs: list[RunRow]) -> Outcomes:
    # One batch read per table for the whole experiment (`Store.outcomes`); unfinished runs get
    # their status and the history so far, read in one more query only when there are any.
    by_pair = {(r.model_index, r.seed, r.origin): r for r in runs}
    stored = store.outcomes(runs[0].experiment_id) if any(r.status in FINISHED for r in runs) else {}
    partial = store.histories(runs[0].experiment_id) if any(r.status not in FINISHED for r in runs) else {}
    out: Outcomes = {}
    for pair in spec.backtest_runs():
        run = by_pair.get(pair)
        if run is None:
            out[pair] = None
        elif run.status in FINISHED:
            out[pair] = stored.get(run.id)
        else:
            out[pair] = RunOutcome(status=run.status, epochs=partial.get(run.id, []), message=run.message)
    return out


def load(store: Store, experiment_id: int, reference: int = 0) -> Results:
    """Everything the Compare section shows for one experiment (StoreError if it is unknown)."""
    experiment = store.experiment(experiment_id)
    spec = experiment.spec
    runs = store.runs(experiment_id)
    frame: pd.DataFrame | None = None
    error: str | None = None
    try:
        frame = actual_frame(store, experiment.dataset_sha, spec.data.target, spec.data.features,
                             spec.data.time_column)
    except DataError as exc:
        error = str(exc)
    outcomes = _outcomes(store, spec, runs)
    reference = reference if 0 <= reference < len(spec.models) else 0
    present = {k: v for k, v in outcomes.items() if v is not None}
    comparison = summarize(spec, present, reference=reference)
    return Results(experiment, tuple(runs), frame, error, outcomes, comparison)


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
