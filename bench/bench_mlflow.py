"""Benchmark the MLflow export of a 100-run experiment (goal: ≤ 10 s) into a local sqlite:/// store.

    .venv/bin/python bench/bench_mlflow.py [--models 2] [--seeds 10] [--origins 5] [--epochs 30]

Fabricates a finished experiment through the store's real API (the hotel sample, the hotel
preset's shape: 2 models × 10 seeds × 5 origins = 100 runs, each with `--epochs` epochs of
losses, metrics, a test forecast and layer statistics; nothing trains), then times in one process:
creating the empty MLflow store (MLflow's schema migrations, once per store), reading the plan
from the run store, the first export (every run created; also this process's CPU time, since on
a loaded machine the wall time is mostly waiting), and a second export (nothing changed, so
nothing is written). Needs requirements-mlflow.txt.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lstm_app.data.samples import sample_path  # noqa: E402  (after the path insert: the worktree's package)
from lstm_app.outcome import EpochRow, Metrics, Regions, RunOutcome, RunStatus, TestForecast  # noqa: E402
from lstm_app.presets import HOTEL_H2  # noqa: E402
from lstm_app.runs import Store, mlflow_export  # noqa: E402
from lstm_app.spec import (  # noqa: E402
    BacktestSpec,
    DataSpec,
    ExperimentSpec,
    LayerSpec,
    ModelSpec,
    SplitSpec,
    TrainingSpec,
    WindowSpec,
)

__all__ = ["fabricate", "main"]

GOAL_SECONDS = 10.0


def fabricate(store: Store, models: int, seeds: int, origins: int, epochs: int) -> int:
    """A finished experiment of models × seeds × origins runs with made-up results; its id."""
    path = sample_path(HOTEL_H2.removeprefix("sample:"))
    sha = store.put_dataset(path.name, path.read_bytes())
    spec = ExperimentSpec(
        "bench export", DataSpec(HOTEL_H2, "Cancellations", "Date"),
        tuple(ModelSpec(f"m{i}", (LayerSpec(32, ("tanh", "relu")[i % 2]), LayerSpec(16))) for i in range(models)),
        WindowSpec(lookback=12, future_steps=4), SplitSpec(10),
        TrainingSpec(epochs=epochs, seeds=tuple(range(seeds)), patience=0), BacktestSpec(origins))
    eid = store.create_experiment(spec, sha)
    rng = random.Random(0)
    for run in store.runs(eid):
        actual = [rng.uniform(50, 150) for _ in range(10)]
        test = TestForecast(tuple(f"2020-{1 + k:02d}-01" for k in range(10)), tuple(actual),
                            tuple(a + rng.gauss(0, 5) for a in actual), tuple([actual[0], *actual[:-1]]))
        history = [EpochRow(e, 0.1 * 0.9**e, 0.12 * 0.9**e, 0.05, (0.5, 0.2)) for e in range(1, epochs + 1)]
        metrics = Metrics(rmse=rng.uniform(4, 6), mae=4.0, mfe=0.1, mda=0.6, naive_mae=5.0, skill=0.1,
                          volatility_ratio=1.0, baselines={"naive": 6.0, "seasonal": 7.0, "drift": 6.5})
        regions = Regions("2016-01-01", "2019-01-01", "2020-01-01", "2020-10-01", 150, 30, 10)
        store.finish(run.id, RunOutcome(RunStatus.DONE, history, metrics=metrics, test=test, regions=regions,
                                        params=6_465, seconds_per_epoch=0.05))
    return eid


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--origins", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-mlflow-") as tmp:
        store = Store(Path(tmp) / "lab" / "runs.sqlite")
        eid = fabricate(store, args.models, args.seeds, args.origins, args.epochs)
        uri = f"sqlite:///{Path(tmp) / 'mlflow.db'}"
        start = time.perf_counter()
        mlflow_export.check(uri)  # imports MLflow and creates the empty store
        setup = time.perf_counter() - start
        start = time.perf_counter()
        plan = mlflow_export.stored_plan(store, eid)
        read = time.perf_counter() - start
        start, cpu = time.perf_counter(), time.process_time()
        first = mlflow_export.export_plan(plan, uri)
        write, cpu = time.perf_counter() - start, time.process_time() - cpu
        start = time.perf_counter()
        again = mlflow_export.export_stored(store, eid, uri)
        second = time.perf_counter() - start
    runs = plan.runs
    print(f"{runs} runs ({args.models} models × {args.seeds} seeds × {args.origins} origins, {args.epochs} epochs "
          f"each) exported to a local sqlite:/// MLflow store")
    print(f"  MLflow import + creating the empty store (once per store): {setup:6.2f} s")
    print(f"  reading the experiment from the run store:                 {read:6.2f} s")
    print(f"  first export ({first.created} runs + {len(plan.models)} parents created):           {write:6.2f} s")
    print(f"  ... of which this process's CPU time: {cpu:6.2f} s (the rest is waiting: SQLite commits, other load; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(f"  read + first export: {read + write:.2f} s = {(read + write) / GOAL_SECONDS:.2f}× the "
          f"{GOAL_SECONDS:.0f} s goal ({(read + write) / runs * 1000:.0f} ms per run)")
    print(f"  second export (read included; {again.unchanged} unchanged, {again.created + again.replaced} "
          f"written): {second:.2f} s = {second / (read + write):.2f}× the first")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
