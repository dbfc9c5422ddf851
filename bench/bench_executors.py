"""Benchmark the executors: the same small runs on local worker processes and on a local Ray.

    python bench/bench_executors.py [--runs 40] [--epochs 2] [--slots 2] [--rounds 2]

Submits `--runs` one-run experiments (each its own group, so every run pays the per-group cost
of the executor: claim, dispatch, progress, settle) to a runner with `--slots` workers (local)
or a Ray started here with `--slots` CPUs, one TensorFlow thread per run, and times submit →
every run done, alternating the executors round by round. Round 1 includes starting the workers
(TensorFlow loads in each); later rounds find them warm. Prints seconds per round and Ray's time
over local's (the goal is ≤ 1.2×). Needs Ray (requirements-ray.txt).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lstm_app.outcome import ACTIVE, RunStatus
from lstm_app.runs.runner import Runner
from lstm_app.spec import DataSpec, ExperimentSpec, LayerSpec, ModelSpec, SplitSpec, TrainingSpec, WindowSpec

__all__ = ["main"]


def _csv(points: int = 120) -> bytes:
    rows = [f"{i},{50 + 10 * math.sin(i / 6) + 0.2 * i + 3 * math.sin(i / 1.7):.4f}" for i in range(points)]
    return ("t,y\n" + "\n".join(rows) + "\n").encode()


def _spec(k: int, epochs: int) -> ExperimentSpec:
    model = ModelSpec("lstm", (LayerSpec(8), LayerSpec(4, activation="relu")))
    return ExperimentSpec(f"bench {k}", DataSpec("bench.csv", "y"), (model,), WindowSpec(lookback=8, future_steps=4),
                          SplitSpec(0.15), TrainingSpec(epochs=epochs, batch_size=16, seeds=(k,), patience=0))


def _round(runner: Runner, runs: int, epochs: int, csv: bytes) -> float:
    start = time.perf_counter()
    ids = [runner.submit(_spec(k, epochs), "bench.csv", csv) for k in range(runs)]
    while True:
        statuses = [r.status for e in ids for r in runner.store.runs(e)]
        if not any(s in ACTIVE for s in statuses):
            break
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    bad = [s for s in statuses if s != RunStatus.DONE]
    if bad:
        raise RuntimeError(f"{len(bad)} runs did not finish: {bad[:3]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--slots", type=int, default=2, help="local workers, or the local Ray's CPUs")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    csv = _csv()
    times: dict[str, list[float]] = {"local": [], "ray": []}
    with tempfile.TemporaryDirectory() as folder:
        # Both runners stay up and the rounds alternate (local, Ray, local, Ray...), so a change
        # in the machine's load between rounds falls on both executors alike.
        runners = {kind: Runner(Path(folder) / kind / "runs.sqlite", executor=kind, concurrency=args.slots,
                                threads=1, idle_seconds=600.0) for kind in ("local", "ray")}
        try:
            for kind, runner in runners.items():
                print(f"{kind}: {runner.where()}", flush=True)
            for i in range(args.rounds):
                for kind, runner in runners.items():
                    times[kind].append(_round(runner, args.runs, args.epochs, csv))
                    print(f"  round {i + 1}, {kind}: {times[kind][-1]:.1f} s", flush=True)
        finally:
            for runner in runners.values():
                runner.shutdown()
    for i in range(args.rounds):
        label = "cold (workers start)" if i == 0 else "warm"
        ratio = times["ray"][i] / times["local"][i]
        print(f"round {i + 1}, {label}: {args.runs} runs, local {times['local'][i]:.1f} s, "
              f"Ray {times['ray'][i]:.1f} s, overhead ratio {ratio:.2f}×")


if __name__ == "__main__":
    main()
