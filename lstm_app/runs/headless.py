"""Run a whole experiment in this process and write its results (for the CLI and scripts).

Imports TensorFlow only inside `run_experiment`, so `import lstm_app.runs.headless` stays light.
"""

from __future__ import annotations

import csv
import hashlib
import json
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__, data, windows
from ..data import samples
from ..errors import DataError
from ..outcome import Metrics, RunOutcome, RunStatus
from ..report.compare import Comparison, summarize
from ..report.stats import json_safe
from ..spec import ExperimentSpec, RunKey, slug
from ..text import csv_cell, quote, safe_frame
from . import schedule

__all__ = ["RunFailures", "load_data", "model_file", "run_experiment", "write_results"]

RunFailures = dict[RunKey, str]
# The metrics.csv columns, in order (naive MAE is in results.json only).
_CSV_METRICS = ("rmse", "mae", "mfe", "mda", "naive_rmse", "skill", "volatility_ratio")


def load_data(spec: ExperimentSpec, override: Path | None = None,
              base: Path | None = None) -> tuple[data.Table, pd.DataFrame, list[str]]:
    """Read the experiment's CSV (or `override`) and select its target and inputs.

    Returns the table, the model frame and notes (e.g. a content hash that differs from the
    one the experiment was made with).
    """
    path = override if override is not None else samples.resolve(spec.data.source, base=base)
    if not Path(path).exists():
        raise DataError(f"The data file {quote(path, 80)} named by the experiment does not exist: pass --data FILE.")
    content = data.load_bytes(path)
    table = data.read_csv(content, name=Path(path).name, time_column=spec.data.time_column)
    frame = data.series(table, spec.data.target, spec.data.features)
    notes = []
    digest = hashlib.sha256(content).hexdigest()
    if spec.data.sha256 and spec.data.sha256 != digest:
        notes.append(f"{Path(path).name} differs from the file this experiment was made with "
                     f"(sha256 {digest[:12]}… instead of {spec.data.sha256[:12]}…).")
    return table, frame, notes


def run_experiment(spec: ExperimentSpec, frame: pd.DataFrame, *,
                   progress: Callable[[str], None] | None = None,
                   model_dir: Path | None = None,
                   cost: schedule.CostModel | None = None) -> tuple[dict[RunKey, RunOutcome], RunFailures]:
    """Train every model × seed × backtest origin, in the groups and on the engines the scheduler
    picks with `cost` (the same plan a dashboard worker follows with the same rates); a group or
    run that raises is recorded as failed, not fatal. Outcomes are keyed by (model index, seed, origin)."""
    from ..engine import batched, train  # TensorFlow loads here, not at import

    outcomes: dict[RunKey, RunOutcome] = {}
    failures: RunFailures = {}
    total, done = len(spec.backtest_runs()), 0
    origins = spec.backtest.origins

    def report(key: RunKey) -> None:
        if progress is None:
            return
        i, seed, origin = key
        name = f"{spec.models[i].name} seed {seed}" + (f" origin {origin + 1}/{origins}" if origins > 1 else "")
        if key in failures:
            progress(f"[{done}/{total}] {name}: failed ({failures[key]})")
            return
        out = outcomes[key]
        rmse = out.metrics.rmse if out.metrics else None
        shown = f"RMSE {rmse:.4g}" if rmse is not None else out.message
        progress(f"[{done}/{total}] {name}: {out.status}, {len(out.epochs)} epochs, {shown}")

    for group in schedule.plan_groups(spec, len(frame), cost=cost).groups:
        part, part_spec = windows.at_origin(frame, spec, group.origin)
        keys = [RunKey(i, seed, group.origin) for i, seed in group.members]
        if progress:
            where = f" (origin {group.origin + 1} of {origins})" if origins > 1 else ""
            progress(f"{len(group.members)} run(s) on the {group.engine.value} engine{where}: {group.reason}")
        if group.engine is schedule.Engine.BATCHED:
            try:
                results = batched.train_group(part_spec, part, group.members)
            except DataError:
                raise  # the data do not fit the window/split: the same for every run
            except Exception as exc:
                results = None
                for key in keys:
                    failures[key] = f"{type(exc).__name__}: {exc}"
            for k, key in enumerate(keys):
                done += 1
                if results is not None:
                    outcomes[key] = results[k].outcome
                    if model_dir is not None and results[k].outcome.status == RunStatus.DONE:
                        _save(batched, spec, part, key, results[k].weights, model_dir)
                report(key)
            continue
        for key in keys:
            i, seed, _ = key
            save = model_dir / model_file(spec, key) if model_dir else None
            done += 1
            try:
                outcomes[key] = train.run_one(part_spec, part, i, seed, save_path=save)
            except DataError:
                raise
            except Exception as exc:
                failures[key] = f"{type(exc).__name__}: {exc}"
            report(key)
    return outcomes, failures


def model_file(spec: ExperimentSpec, key: RunKey) -> str:
    i, seed, origin = key
    at = f"-origin{origin}" if spec.backtest.origins > 1 else ""
    return f"{slug(spec.models[i].name)}-seed{seed}{at}.keras"


def _save(batched: Any, spec: ExperimentSpec, frame: pd.DataFrame, key: RunKey,
          weights: list[Any], model_dir: Path) -> None:
    from ..params import input_shape

    shape = input_shape(frame.shape[1], spec.window.lookback, spec.window.framing)
    model_dir.mkdir(parents=True, exist_ok=True)
    batched.to_keras(spec.models[key[0]], shape, weights).save(model_dir / model_file(spec, key))


def write_results(out_dir: Path, spec: ExperimentSpec, table: data.Table,
                  outcomes: dict[RunKey, RunOutcome], failures: RunFailures,
                  comparison: Comparison | None = None) -> Comparison:
    """Write results.json (everything), metrics.csv (one row per run) and summary.csv.

    Text in the CSV files goes through `csv_cell`, so a model named ``=cmd|...`` stays text in a
    spreadsheet.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    comparison = comparison or summarize(spec, outcomes)
    runs: list[dict[str, Any]] = []
    for key in spec.backtest_runs():
        i, seed, origin = key
        out = outcomes.get(key)
        entry: dict[str, Any] = {"model": spec.models[i].name, "model_index": i, "seed": seed, "origin": origin}
        if out is None:
            entry.update(status=RunStatus.FAILED.value, message=failures.get(key, "not run"))
        else:
            entry.update(out.to_dict())
        runs.append(entry)
    results = {
        "lstm_app": __version__,
        "python": platform.python_version(),
        "experiment": spec.to_dict(),
        "data": table.summary().to_dict(),
        "backtest": comparison.backtest.to_dict(),
        "comparison": comparison.to_dict(),
        "runs": runs,
    }
    (out_dir / "results.json").write_text(json.dumps(json_safe(results), indent=2, ensure_ascii=False))
    with (out_dir / "metrics.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["model", "seed", "origin", "status", *_CSV_METRICS, "params", "epochs",
                         "seconds_per_epoch", "message"])
        for key in spec.backtest_runs():
            i, seed, origin = key
            out = outcomes.get(key)
            name = spec.models[i].name
            row: list[object]
            if out is None:
                row = [name, seed, origin, RunStatus.FAILED.value, *(None for _ in _CSV_METRICS), None, 0, None,
                       failures.get(key, "not run")]
            else:
                values = out.metrics or Metrics()
                row = [name, seed, origin, out.status.value, *(values.get(k) for k in _CSV_METRICS), out.params,
                       len(out.epochs), out.seconds_per_epoch, out.message]
            writer.writerow([csv_cell(v) for v in row])
    safe_frame(comparison.table()).to_csv(out_dir / "summary.csv")
    return comparison

