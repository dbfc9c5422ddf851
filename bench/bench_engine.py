"""Seconds: the batched engine (`engine.batched.train_group`) against `train.run_one` in a loop.

(a) the hotel H2 replication (LSTM(4), lookback 5 as features, batch 1, 20 epochs) × 10 seeds
    × 2 models: per-run Keras loop vs one batched group, and the speed-up;
(b) 100 runs of the same shape in one group;
(c) a large model (LSTM 64→32, lookback 20 as steps, ~2,000 windows, batch 32, 2 epochs):
    seconds per run, engine vs Keras (the engine may lose here; such groups go to the per-run path).

Everything runs in this one process, one after the other; engine times include tracing and
the final forecasts. `--quick` shrinks every part.

    .venv/bin/python bench/bench_engine.py [--quick] [--skip-large]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from lstm_app.outcome import RunOutcome  # noqa: E402
from lstm_app.runs.headless import load_data  # noqa: E402
from lstm_app.spec import (  # noqa: E402
    DataSpec,
    ExperimentSpec,
    LayerSpec,
    ModelSpec,
    SplitSpec,
    TrainingSpec,
    WindowSpec,
)


def _rmse(outcome: RunOutcome) -> float | None:
    return outcome.metrics.rmse if outcome.metrics else None


def _hotel(seeds: int) -> tuple[ExperimentSpec, pd.DataFrame]:
    spec = ExperimentSpec.from_json((ROOT / "examples" / "hotel_h2_replication.json").read_text())
    spec = dataclasses.replace(spec, training=dataclasses.replace(spec.training, seeds=tuple(range(seeds))))
    _, frame, _ = load_data(spec, base=ROOT)
    return spec, frame


def _large(seeds: int, epochs: int) -> tuple[ExperimentSpec, pd.DataFrame]:
    n = 2400
    t = np.arange(n, dtype=float)
    y = 100 + 20 * np.sin(t / 12) + 5 * np.sin(t / 50) + np.random.default_rng(0).normal(0, 2, n)
    frame = pd.DataFrame({"y": y}, index=pd.date_range("2000-01-01", periods=n, freq="D"))
    spec = ExperimentSpec("large", DataSpec("large.csv", "y"), (ModelSpec("tanh", (LayerSpec(64), LayerSpec(32))),),
                          WindowSpec(20, "steps", future_steps=0), SplitSpec(200),
                          TrainingSpec(epochs=epochs, batch_size=32, patience=0, seeds=tuple(range(seeds)),
                                       validation_share=0.15))
    return spec, frame


def _keras(spec: ExperimentSpec, frame: pd.DataFrame) -> tuple[float, list[float | None]]:
    from lstm_app.engine import train

    start = time.perf_counter()
    rmse = [_rmse(train.run_one(spec, frame, i, seed)) for i, seed in spec.runs()]
    return time.perf_counter() - start, rmse


def _engine(spec: ExperimentSpec, frame: pd.DataFrame) -> tuple[float, list[float | None]]:
    from lstm_app.engine import batched

    start = time.perf_counter()
    results = batched.train_group(spec, frame, spec.runs())
    return time.perf_counter() - start, [_rmse(r.outcome) for r in results]


def _summary(rmse: list[float | None], spec: ExperimentSpec) -> str:
    parts = []
    for m, model in enumerate(spec.models):
        values = [v for (i, _), v in zip(spec.runs(), rmse, strict=True) if i == m and v is not None]
        parts.append(f"{model.name} {np.mean(values):.1f} ± {np.std(values, ddof=1) if len(values) > 1 else 0:.1f}")
    return ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds, 20 runs in (b), 1 epoch in (c)")
    parser.add_argument("--skip-large", action="store_true", help="skip (c)")
    args = parser.parse_args()
    seeds, many, epochs = (3, 10, 1) if args.quick else (10, 50, 2)
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")

    spec, frame = _hotel(seeds)
    runs = len(spec.runs())
    engine_s, engine_rmse = _engine(spec, frame)
    keras_s, keras_rmse = _keras(spec, frame)
    print(f"(a) hotel replication, {runs} runs: train.run_one loop {keras_s:.2f} s "
          f"({keras_s / runs:.2f} s/run), train_group {engine_s:.2f} s -> speed-up {keras_s / engine_s:.1f}x")
    print(f"    RMSE mean ± sd  keras: {_summary(keras_rmse, spec)}  engine: {_summary(engine_rmse, spec)}")

    spec, frame = _hotel(many)
    engine_s, engine_rmse = _engine(spec, frame)
    print(f"(b) hotel replication, {len(spec.runs())} runs in one group: train_group {engine_s:.2f} s "
          f"({_summary(engine_rmse, spec)})")

    if not args.skip_large:
        spec, frame = _large(1, epochs)
        keras_s, _ = _keras(spec, frame)
        engine_s, _ = _engine(spec, frame)
        spec4, _ = _large(4, epochs)
        engine4_s, _ = _engine(spec4, frame)
        print(f"(c) large model (LSTM 64→32, lookback 20 steps, batch 32, {epochs} epochs): "
              f"train.run_one {keras_s:.2f} s/run, train_group 1 run {engine_s:.2f} s "
              f"(ratio engine/keras {engine_s / keras_s:.2f}), 4 runs {engine4_s:.2f} s "
              f"= {engine4_s / 4:.2f} s/run (ratio {engine4_s / 4 / keras_s:.2f})")


if __name__ == "__main__":
    main()
