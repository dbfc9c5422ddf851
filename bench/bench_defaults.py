"""Do the page's defaults answer in about half a minute? Times the two experiments a new user
starts with, trained the way the dashboard trains them (a background runner with 2 worker
processes on this machine), and prints how decisive each answer is.

    .venv/bin/python bench/bench_defaults.py

1. the default experiment: the page's default models (tanh vs ReLU inside vs ReLU between, 32→16)
   and settings on hotel H2 — 5 seeds × as many backtest origins as the series allows;
2. the hotel replication preset: 10 seeds × 5 origins of the published recipe.

Prints, per experiment, the runs, the wall seconds from submit to the last run's end, the
scheduler's estimate for one worker, the first verdict line, and the smallest RMSE difference the
runs resolve (80% power, from the spread of the paired differences), as a share of the reference
RMSE. Goal: each about 30 s, resolving 5%.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lstm_app import runs  # noqa: E402
from lstm_app.data.samples import sample_path  # noqa: E402
from lstm_app.presets import DECISIVE_ORIGINS, DECISIVE_SEEDS, HOTEL_H2, hotel_replication  # noqa: E402
from lstm_app.runs import schedule  # noqa: E402
from lstm_app.runs.runner import Runner  # noqa: E402
from lstm_app.spec import DataSpec, ExperimentSpec  # noqa: E402
from lstm_app.ui import forms  # noqa: E402
from lstm_app.ui.draft import Draft  # noqa: E402


def _default() -> ExperimentSpec:
    draft = Draft()
    window, split, training = forms.build_specs(draft.settings)
    models = [m.spec() for m in draft.models]
    return forms.experiment("default", DataSpec(HOTEL_H2, "Cancellations", "Date"), models, window, split, training,
                            forms.backtest_of(draft.settings))


def _run(runner: Runner, spec: ExperimentSpec) -> None:
    path = sample_path(HOTEL_H2.removeprefix("sample:"))
    start = time.monotonic()
    eid = runner.submit(spec, path.name, path.read_bytes())
    while any(r.status in ("queued", "running") for r in runner.store.runs(eid)):
        time.sleep(0.2)
    wall = time.monotonic() - start
    comparison = runs.load_results(runner.store, eid).comparison
    estimate, _ = schedule.estimate(spec, 115)
    resolves = []
    for m in comparison.models:
        vs = m.vs_reference
        if vs is not None and vs.rmse.sd is not None and vs.rmse.n >= 2:
            resolves.append((1.96 + 0.8416) * vs.rmse.sd / math.sqrt(vs.rmse.n))
    ref = comparison.models[comparison.reference_index].mean.get("rmse") or math.nan
    share = max(resolves) / ref if resolves else math.nan
    print(f"{spec.name}: {len(spec.backtest_runs())} runs ({len(spec.training.seeds)} seeds × "
          f"{spec.backtest.origins} origins), wall {wall:.1f} s (estimate on one worker {estimate:.0f} s)")
    print(f"  {comparison.headline}")
    print(f"  resolves an RMSE difference of {share:.1%} of the reference's (80% power)")
    print(f"{spec.name.split()[0]}_wall_s: {wall:.1f}")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        runner = Runner(Path(folder) / "runs.sqlite", concurrency=2, idle_seconds=5.0)
        try:
            _run(runner, _default())
            _run(runner, hotel_replication(tuple(range(DECISIVE_SEEDS)), origins=DECISIVE_ORIGINS))
        finally:
            runner.shutdown()


if __name__ == "__main__":
    main()
