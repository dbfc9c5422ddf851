"""Are the page's default LSTMs worth comparing? Runs the page's default experiment (the default
models and the settings the page suggests for the series) on every bundled sample, trained the
way the dashboard trains them (a background runner with 2 worker processes), and prints one
line per series:

    sample  rows  best LSTM RMSE  best baseline (RMSE)  best reference (RMSE)  beats_naive per model  wall s
    ... and how many runs kept their best epoch within the first 10% of epochs (goal: none)

plus the seconds that fitting the statistical references (ETS, ARIMA, Theta) takes for all
backtest origins of the series in one process — what they add to a worker — as a share of the
experiment's wall time (goal: ≤ 10%).

    .venv/bin/python bench/bench_answers.py [--keep DIR] [SAMPLE ...]

`--keep DIR` keeps the run store in DIR, to open the experiments on the page afterwards
(`LSTM_LAB_DATA=DIR ./scripts/dashboard.sh`).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lstm_app import data, runs, windows  # noqa: E402
from lstm_app.data.samples import PREFIX, SAMPLES, sample_path  # noqa: E402
from lstm_app.report import metrics  # noqa: E402
from lstm_app.runs.runner import Runner  # noqa: E402
from lstm_app.spec import DataSpec, ExperimentSpec  # noqa: E402
from lstm_app.ui import forms  # noqa: E402
from lstm_app.ui.draft import Draft  # noqa: E402


def default_experiment(sample: str) -> tuple[ExperimentSpec, data.Table]:
    """The experiment the page submits for `sample` when nothing is changed."""
    table = data.read_csv(sample_path(sample).read_bytes(), name=sample)
    draft = Draft()
    draft.choose_sample(sample)
    draft.adopt(table)
    window, split, training = forms.build_specs(draft.settings)
    models = [m.spec() for m in draft.models]
    spec = forms.experiment(f"default {sample}", DataSpec(PREFIX + sample, draft.target or "", table.time_column),
                            models, window, split, training, forms.backtest_of(draft.settings))
    return spec, table


def reference_seconds(spec: ExperimentSpec, table: data.Table) -> float:
    """Seconds to score every forecaster on every backtest origin's split, cold (as a worker does)."""
    frame = data.series(table, spec.data.target)
    target = frame.iloc[:, 0].to_numpy(dtype=float)
    season = metrics.season_for(frame.index)
    ends = windows.origin_ends(len(frame), spec.split, spec.backtest.origins)
    test = spec.split.test_points(len(frame))
    start = time.perf_counter()
    with threadpool_limits(limits=1):  # as a worker's BLAS runs (OMP_NUM_THREADS=1 beside its peers)
        for end in ends:
            metrics.baseline_rmse(target[: end - test], target[end - test: end], season)
    return time.perf_counter() - start


def early_best(results: runs.Results, spec: ExperimentSpec) -> str:
    """How many finished runs kept their best epoch (lowest validation loss) within the first
    10% of the epochs: runs early stopping ended before they learned (goal: none)."""
    first = max(1, spec.training.epochs // 10)
    best = [int(np.nanargmin([np.nan if e.val_loss is None else e.val_loss for e in o.epochs])) + 1
            for o in results.outcomes.values()
            if o is not None and o.status == "done" and any(e.val_loss is not None for e in o.epochs)]
    return f"best epoch within the first {first}: {sum(b <= first for b in best)}/{len(best)} runs"


def run(runner: Runner, sample: str) -> None:
    spec, table = default_experiment(sample)
    path = sample_path(sample)
    start = time.monotonic()
    eid = runner.submit(spec, path.name, path.read_bytes())
    while any(r.status in ("queued", "running") for r in runner.store.runs(eid)):
        time.sleep(0.2)
    wall = time.monotonic() - start
    results = runs.load_results(runner.store, eid)
    comparison = results.comparison
    base = comparison.baselines
    rmses = [m.mean.get("rmse") for m in comparison.models]
    best_lstm = min((r for r in rmses if r is not None), default=np.nan)
    fitting = reference_seconds(spec, table)
    beats = " ".join(f"{m.name}={m.beats_naive}" for m in comparison.models)
    fmt = f".{comparison.decimals}f"
    best = f"{base.best} {base.best_rmse:{fmt}}" if base and base.best_rmse is not None else "—"
    ref = (f"{base.best_reference} {base.best_reference_rmse:{fmt}}"
           if base and base.best_reference_rmse is not None else "—")
    print(f"{sample}: rows {table.rows}, {len(spec.backtest_runs())} runs | best LSTM RMSE {best_lstm:{fmt}} | "
          f"best baseline {best} | best reference {ref} | beats_naive: {beats} | wall {wall:.1f} s | "
          f"references {fitting:.1f} s ({fitting / wall:.0%} of wall) | {early_best(results, spec)}", flush=True)
    print(f"  {comparison.headline}", flush=True)


def main(argv: list[str]) -> None:
    keep = argv[argv.index("--keep") + 1] if "--keep" in argv else None
    samples = [a for a in argv if a not in ("--keep", keep)] or list(SAMPLES)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(keep or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        runner = Runner(folder / "runs.sqlite", concurrency=2, idle_seconds=5.0)
        try:
            for sample in samples:
                run(runner, sample)
        finally:
            runner.shutdown()


if __name__ == "__main__":
    main(sys.argv[1:])
