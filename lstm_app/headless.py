"""Run a whole experiment in this process and write its results (for the CLI and scripts).

Imports TensorFlow only inside `run_experiment`, so `import lstm_app.headless` stays light.
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

from . import __version__, data, samples
from .compare import Comparison, summarize
from .errors import DataError
from .outcome import RunOutcome
from .spec import ExperimentSpec
from .stats import json_safe
from .text import csv_cell, quote, safe_frame

__all__ = ["RunFailures", "load_data", "run_experiment", "write_results"]

RunFailures = dict[tuple[int, int], str]


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
                   model_dir: Path | None = None) -> tuple[dict[tuple[int, int], RunOutcome], RunFailures]:
    """Train every model × seed in turn; a run that raises is recorded as a failure, not fatal."""
    from . import train  # TensorFlow loads here, not at import

    outcomes: dict[tuple[int, int], RunOutcome] = {}
    failures: RunFailures = {}
    runs = spec.runs()
    for k, (i, seed) in enumerate(runs, start=1):
        name = spec.models[i].name
        save = model_dir / f"{_slug(name)}-seed{seed}.keras" if model_dir else None
        try:
            out = train.run_one(spec, frame, i, seed, save_path=save)
        except DataError:
            raise  # the data do not fit the window/split: the same for every run
        except Exception as exc:
            failures[(i, seed)] = f"{type(exc).__name__}: {exc}"
            if progress:
                progress(f"[{k}/{len(runs)}] {name} seed {seed}: failed ({failures[(i, seed)]})")
            continue
        outcomes[(i, seed)] = out
        if progress:
            rmse = out.metrics.get("rmse")
            shown = f"RMSE {rmse:.4g}" if rmse is not None else out.message
            progress(f"[{k}/{len(runs)}] {name} seed {seed}: {out.status}, {len(out.epochs)} epochs, {shown}")
    return outcomes, failures


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-") or "model"


def write_results(out_dir: Path, spec: ExperimentSpec, table: data.Table,
                  outcomes: dict[tuple[int, int], RunOutcome], failures: RunFailures,
                  comparison: Comparison | None = None) -> Comparison:
    """Write results.json (everything), metrics.csv (one row per run) and summary.csv.

    Text in the CSV files goes through `csv_cell`, so a model named ``=cmd|...`` stays text in a
    spreadsheet.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    comparison = comparison or summarize(spec, outcomes)
    runs: list[dict[str, Any]] = []
    for i, seed in spec.runs():
        out = outcomes.get((i, seed))
        entry: dict[str, Any] = {"model": spec.models[i].name, "model_index": i, "seed": seed}
        if out is None:
            entry.update(status="failed", message=failures.get((i, seed), "not run"))
        else:
            entry.update(out.to_dict())
        runs.append(entry)
    results = {
        "lstm_app": __version__,
        "python": platform.python_version(),
        "experiment": spec.to_dict(),
        "data": table.summary(),
        "comparison": comparison.to_dict(),
        "runs": runs,
    }
    (out_dir / "results.json").write_text(json.dumps(json_safe(results), indent=2, ensure_ascii=False))
    keys = ["rmse", "mae", "mfe", "mda", "naive_rmse", "skill", "volatility_ratio"]
    with (out_dir / "metrics.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["model", "seed", "status", *keys, "params", "epochs", "seconds_per_epoch", "message"])
        for entry in runs:
            metrics = entry.get("metrics") or {}
            writer.writerow([csv_cell(v) for v in (
                entry["model"], entry["seed"], entry["status"], *(metrics.get(k) for k in keys),
                entry.get("params"), len(entry.get("epochs") or []), entry.get("seconds_per_epoch"),
                entry.get("message", ""))])
    safe_frame(comparison.table()).to_csv(out_dir / "summary.csv")
    return comparison

