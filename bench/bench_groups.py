"""Benchmark whole experiments through the app: submit → store → warm worker → every run finished.

    .venv/bin/python bench/bench_groups.py [--seeds 10] [--many 100] [--quick]

Prints, measured in this one run on this machine:
1. the hotel H2 replication preset over `--seeds` seeds (2 models × seeds runs) from submit to all
   runs finished, through the store and a warm worker (TensorFlow already loaded), against a plain
   Keras loop over the same runs in this process (build, fit, predict; no store) — the ratio is the
   speed-up; targets: ≤ 3 s and ≥ 10× for 10 seeds;
2. `--many` runs of the replication shape the same way (target ≤ 10 s for 100);
3. a large model (64→32, lookback 20, ~2,000 windows, batch 32, 6 epochs): the app's seconds per
   epoch (as stored for the run) against bare Keras `fit` on the same data (target ≤ 1.05×), and
   which engine the scheduler chose.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lstm_app import data
from lstm_app.outcome import ACTIVE, RunStatus
from lstm_app.presets import hotel_replication
from lstm_app.runs.runner import Runner
from lstm_app.spec import DataSpec, ExperimentSpec, LayerSpec, ModelSpec, SplitSpec, TrainingSpec, WindowSpec

__all__ = ["main"]

HOTEL = Path(__file__).resolve().parent.parent / "sample_data" / "hotel_h2_weekly_cancellations.csv"


def _wait_all(runner: Runner, eid: int, timeout: float = 1800.0) -> list:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while True:
        runs = runner.store.runs(eid)
        if all(r.status not in ACTIVE for r in runs):
            return runs
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark waited too long")
        time.sleep(0.05)  # polling the store faster steals CPU from the worker on 2 cores


def _through_app(runner: Runner, spec: ExperimentSpec, name: str, content: bytes) -> tuple[float, list]:  # type: ignore[type-arg]
    started = time.perf_counter()
    eid = runner.submit(spec, name, content)
    runs = _wait_all(runner, eid)
    seconds = time.perf_counter() - started
    bad = {r.status for r in runs} - {RunStatus.DONE, RunStatus.DIVERGED}
    if bad:
        raise RuntimeError(f"benchmark runs ended {bad}: {[r.message for r in runs][:3]}")
    return seconds, runs


def _frame(spec: ExperimentSpec, content: bytes, name: str):  # type: ignore[no-untyped-def]
    table = data.read_csv(content, name=name, time_column=spec.data.time_column)
    return data.series(table, spec.data.target, spec.data.features)


def _plain_keras(spec: ExperimentSpec, frame, epochs: int | None = None) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Every model × seed of `spec` as a plain Keras loop; (total seconds, median s/epoch after the first)."""
    import keras
    import numpy as np

    from lstm_app.windows import prepare

    prepared = prepare(frame, spec.window, spec.split, spec.training)
    t = spec.training
    epochs = epochs or t.epochs
    per_epoch: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):  # type: ignore[no-untyped-def]
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):  # type: ignore[no-untyped-def]
            if epoch:
                per_epoch.append(time.perf_counter() - self.t0)

    started = time.perf_counter()
    for model_spec in spec.models:
        for seed in t.seeds:
            keras.utils.set_random_seed(seed)
            layers: list = [keras.Input(shape=prepared.input_shape)]  # type: ignore[type-arg]
            for i, layer in enumerate(model_spec.layers):
                layers.append(keras.layers.LSTM(layer.units, activation=layer.activation,
                                                return_sequences=i < len(model_spec.layers) - 1))
                if model_spec.between and i < len(model_spec.layers) - 1:
                    layers.append(keras.layers.Activation(model_spec.between))
            layers.append(keras.layers.Dense(1))
            model = keras.Sequential(layers)
            model.compile(optimizer=keras.optimizers.Adam(t.learning_rate), loss=t.loss)
            validation = (prepared.x_val, prepared.y_val) if len(prepared.y_val) else None
            model.fit(prepared.x_train, prepared.y_train, validation_data=validation,
                      epochs=epochs, batch_size=t.batch_size, shuffle=True, verbose=0, callbacks=[Clock()])
            model.predict(prepared.x_test, verbose=0)
            keras.backend.clear_session()
    return time.perf_counter() - started, float(np.median(per_epoch)) if per_epoch else math.nan


def _large_spec() -> tuple[ExperimentSpec, bytes]:
    n = 2100
    rows = [f"{i},{50 + 10 * math.sin(i / 24) + 0.01 * i + 3 * math.sin(i / 5.3):.4f}" for i in range(n)]
    content = ("t,y\n" + "\n".join(rows) + "\n").encode()
    spec = ExperimentSpec(
        "large", DataSpec("large.csv", "y"), (ModelSpec("large", (LayerSpec(64), LayerSpec(32))),),
        WindowSpec(lookback=20, future_steps=5), SplitSpec(50),
        TrainingSpec(epochs=6, batch_size=32, seeds=(0,), patience=0, validation_share=0.0),
    )
    return spec, content


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds of the replication preset")
    parser.add_argument("--many", type=int, default=100, help="runs of the replication shape")
    parser.add_argument("--quick", action="store_true", help="3 seeds and 20 runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.many = 3, 20
    print(f"machine: {os.cpu_count()} CPU cores; python {sys.version.split()[0]}")
    content = HOTEL.read_bytes()
    base = hotel_replication(tuple(range(args.seeds)))
    replication = dataclasses.replace(base, training=dataclasses.replace(base.training, seeds=tuple(range(args.seeds))))
    many = dataclasses.replace(
        replication, name="many",
        training=dataclasses.replace(replication.training, seeds=tuple(range(args.many // len(replication.models)))))
    large, large_csv = _large_spec()

    with tempfile.TemporaryDirectory() as tmp:
        runner = Runner(Path(tmp) / "runs.sqlite", concurrency=1, idle_seconds=120.0)
        try:
            warmup = dataclasses.replace(replication, name="warm-up",
                                         training=dataclasses.replace(replication.training, seeds=(99,), epochs=1))
            _through_app(runner, warmup, HOTEL.name, content)  # loads TensorFlow in the worker
            app_seconds, runs = _through_app(runner, replication, HOTEL.name, content)
            many_seconds, many_runs = _through_app(runner, many, HOTEL.name, content)
            _, large_runs = _through_app(runner, large, "large.csv", large_csv)
            large_outcome = runner.store.outcome(large_runs[0].id)
        finally:
            runner.shutdown()

    engines = sorted({r.engine or "keras" for r in runs}) if hasattr(runs[0], "engine") else ["keras"]
    keras_seconds, _ = _plain_keras(replication, _frame(replication, content, HOTEL.name))
    n = len(runs)
    print(f"1. replication, {n} runs ({len(replication.models)} models × {args.seeds} seeds × "
          f"{replication.training.epochs} epochs, batch 1): app {app_seconds:.2f} s (engine: {', '.join(engines)}) "
          f"vs plain Keras loop {keras_seconds:.2f} s → {keras_seconds / app_seconds:.1f}× faster "
          f"(targets ≤ 3 s and ≥ 10× for 20 runs)")
    print(f"2. {len(many_runs)} runs of the replication shape through the app: {many_seconds:.2f} s "
          f"({many_seconds / len(many_runs) * 1000:.0f} ms per run; target ≤ 10 s for 100)")
    large_run = large_runs[0]
    stored = large_outcome.seconds_per_epoch if large_outcome and large_outcome.seconds_per_epoch else math.nan
    _, bare = _plain_keras(large, _frame(large, large_csv, "large.csv"))
    engine = getattr(large_run, "engine", None) or "keras"
    print(f"3. large model (64→32, lookback 20, ~2,000 windows, batch 32): app {stored:.3f} s/epoch "
          f"(engine: {engine}) vs bare Keras {bare:.3f} s/epoch → ratio {stored / bare:.2f} (target ≤ 1.05)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
