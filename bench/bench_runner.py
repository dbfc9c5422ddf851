"""Benchmark the background runner on real workers: latency to the first epoch and throughput.

    .venv/bin/python bench/bench_runner.py [--runs 4] [--epochs 10] [--points 200] [--also 2]

Prints (1) seconds from submit to the first epoch row in the store, with a cold start (a new
worker must load TensorFlow) and with a warm worker (one left idle by the previous run), and
(2) the wall time of `--runs` small runs with 1 worker against the default concurrency (CPU cores
− 1), plus any `--also` concurrency, with ratios. Each measurement uses a fresh store in a
temporary folder.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lstm_app.outcome import ACTIVE, RunStatus
from lstm_app.runs.runner import Runner, default_concurrency
from lstm_app.spec import (
    DataSpec,
    ExperimentSpec,
    LayerSpec,
    ModelSpec,
    SplitSpec,
    TrainingSpec,
    WindowSpec,
)

__all__ = ["main"]


def _csv(points: int) -> bytes:
    rows = [f"{i},{50 + 10 * math.sin(i / 6) + 0.2 * i + 3 * math.sin(i / 1.7):.4f}" for i in range(points)]
    return ("t,y\n" + "\n".join(rows) + "\n").encode()


def _spec(name: str, seeds: tuple[int, ...], epochs: int) -> ExperimentSpec:
    model = ModelSpec("lstm", (LayerSpec(8), LayerSpec(4, activation="relu")))
    return ExperimentSpec(
        name, DataSpec("bench.csv", "y"), (model,), WindowSpec(lookback=8, future_steps=4), SplitSpec(0.15),
        TrainingSpec(epochs=epochs, batch_size=16, seeds=seeds, patience=0),
    )


def _wait(check, timeout: float = 600.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark waited too long")
        time.sleep(0.01)


def _first_epoch(runner: Runner, csv: bytes, epochs: int) -> tuple[float, float]:
    """Seconds from submit to the run's claim by a worker and to its first epoch row."""
    started = time.perf_counter()
    eid = runner.submit(_spec("latency", (0,), epochs), "bench.csv", csv)
    _wait(lambda: runner.store.runs(eid)[0].status != RunStatus.QUEUED)
    claimed = time.perf_counter() - started
    _wait(lambda: runner.store.runs(eid)[0].epoch >= 1)
    latency = time.perf_counter() - started
    _wait(lambda: runner.store.runs(eid)[0].status not in ACTIVE)
    return claimed, latency


def _throughput(concurrency: int, runs: int, csv: bytes, epochs: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        runner = Runner(Path(tmp) / "runs.sqlite", concurrency=concurrency, idle_seconds=1.0)
        try:
            started = time.perf_counter()
            eid = runner.submit(_spec("throughput", tuple(range(runs)), epochs), "bench.csv", csv)
            _wait(lambda: all(r.status not in ACTIVE for r in runner.store.runs(eid)))
            seconds = time.perf_counter() - started
            statuses = {r.status for r in runner.store.runs(eid)}
            if statuses != {RunStatus.DONE}:
                raise RuntimeError(f"benchmark runs ended {statuses}")
            return seconds
        finally:
            runner.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--also", type=int, action="append", default=[], help="another concurrency to time")
    args = parser.parse_args(argv)
    csv = _csv(args.points)
    print(f"machine: {os.cpu_count()} CPU cores; default concurrency {default_concurrency()}; "
          f"python {sys.version.split()[0]}")

    with tempfile.TemporaryDirectory() as tmp:
        runner = Runner(Path(tmp) / "runs.sqlite", concurrency=1, idle_seconds=60.0)
        try:
            (cold_claim, cold), (warm_claim, warm) = (_first_epoch(runner, csv, args.epochs) for _ in "cw")
        finally:
            runner.shutdown()
    print(f"submit → first epoch row: cold {cold:.2f} s, warm worker {warm:.2f} s "
          f"(cold/warm = {cold / warm:.1f}×); submit → claimed by a worker: cold {cold_claim:.2f} s, "
          f"warm {warm_claim:.2f} s")

    levels = list(dict.fromkeys([1, default_concurrency(), *args.also]))
    times = {c: _throughput(c, args.runs, csv, args.epochs) for c in levels}
    for c, seconds in times.items():
        print(f"{args.runs} runs × {args.epochs} epochs, concurrency {c}: {seconds:.2f} s wall "
              f"({times[1] / seconds:.2f}× the speed of 1 worker)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
