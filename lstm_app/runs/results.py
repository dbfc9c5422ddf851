"""One experiment's results loaded from the run store, as the page and the CLI draw them (no TensorFlow).

`load_results(store, experiment_id)` gathers the spec, the actual series (re-read from the stored
dataset bytes exactly as a worker reads them), an outcome per model × seed and the
`report.summarize` comparison. Runs that have not finished get a `RunOutcome` with their
status and the history so far, so loss curves show partial training.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from .. import data
from ..errors import DataError
from ..outcome import ACTIVE, FINISHED, RunOutcome, RunStatus
from ..report.compare import Comparison, summarize
from ..report.compare_view import CompareView
from ..spec import ExperimentSpec, RunKey
from .store import ExperimentRow, RunRow, Store

__all__ = ["Outcomes", "Results", "actual_frame", "load_results"]

Outcomes = dict[RunKey, RunOutcome | None]


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

    @cached_property
    def view(self) -> CompareView:
        """The Compare page's figures and tables, each built once on first use."""
        return CompareView(self.spec, self.actual, self.outcomes, self.comparison)

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


def load_results(store: Store, experiment_id: int, reference: int = 0) -> Results:
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
