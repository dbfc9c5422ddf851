"""Compute-bound training: the batched engine's sustained rate against bare Keras, one run and eight.

    .venv/bin/python bench/bench_compute.py [--epochs 4] [--skip-8] [--rates DIR] [--long]

W1 is LSTM 100→50 (one input column), lookback 20 as time steps, 2,000 training windows,
batch 32, adam, no validation. Prints, measured in this one run, one after the other:
- `w1_engine_s_per_epoch`, `w1_keras_s_per_epoch`, `ratio_keras` (engine / Keras; one run);
- `w8_engine_s_per_run_epoch` (8 runs of W1 in one group) and `ratio_keras_8` (that / Keras's
  one-run epoch);
- `gflops` (the 8-run group's sustained rate; LSTM FLOPs counted as 2·4·h·(in+h) per step and
  sample forward, ×3 for forward and backward) and `gflops_1` (the one-run group's);
- `reference_rates` (and `measured_rates` with `--rates DIR`): the engine the scheduler's cost
  model picks for W1, against the one measured faster, and its predicted seconds per epoch
  divided by the measured ones (Keras's measured here is bare `fit`; the calibrated rate is the
  worker's per-run path, `train.run_one`, which does more per epoch).
With `--long`, then `default_long_s` and the page's estimate for it (bench/bench_long.py).
Seconds per epoch are medians over the epochs after the first (which traces the graph); the
contenders take turns epoch by epoch. The machine may be shared: compare the ratios, measured
in one run, not the absolute seconds (`*_cpu` ratios compare process CPU time, which load
disturbs less).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import pandas as pd

from lstm_app.spec import LayerSpec, ModelSpec, SplitSpec, TrainingSpec, WindowSpec
from lstm_app.windows import Prepared, prepare

__all__ = ["main"]

UNITS, LOOKBACK, WINDOWS, BATCH, TRAIN_EPOCHS = (100, 50), 20, 2000, 32, 50


def _data(seeds: int) -> tuple[Prepared, TrainingSpec]:
    n = WINDOWS + LOOKBACK + 50
    t = np.arange(n, dtype=float)
    y = 50 + 10 * np.sin(t / 12) + 0.01 * t + np.random.default_rng(0).normal(0, 1, n)
    frame = pd.DataFrame({"y": y}, index=pd.date_range("2000-01-01", periods=n, freq="D"))
    # The engine plans for a training of `TRAIN_EPOCHS` (XLA or not); the benchmark times a few.
    training = TrainingSpec(epochs=TRAIN_EPOCHS, batch_size=BATCH, validation_share=0.0, patience=0,
                            seeds=tuple(range(seeds)))
    data = prepare(frame, WindowSpec(LOOKBACK, "steps", future_steps=0), SplitSpec(50), training)
    assert len(data.x_train) == WINDOWS, len(data.x_train)
    return data, training


def epoch_flops() -> float:
    """Forward + backward FLOPs of one epoch of one W1 run (LSTM layers only)."""
    flops, width = 0.0, 1
    for h in UNITS:
        flops += 2 * 4 * h * (width + h) * LOOKBACK
        width = h
    return 3 * flops * WINDOWS


def _engine(runs: int) -> Callable[[int], None]:
    """One epoch of `runs` W1 runs trained as one group, per call."""
    from lstm_app.engine.batched import GroupTrainer, Plan

    data, training = _data(runs)
    model = ModelSpec("w1", tuple(LayerSpec(u) for u in UNITS))
    trainer = GroupTrainer(Plan.of([model] * runs, data.input_shape), training, data, list(range(runs)))
    print(f"engine, {runs} run{'s' * (runs > 1)}: {'XLA' if trainer.jit else 'graph executor'}")
    return lambda epoch: trainer.run_epoch(epoch, np.ones(runs, dtype=bool)) and None


def _keras() -> Callable[[int], None]:
    """One epoch of one W1 run through bare `keras.Model.fit`, per call."""
    import keras

    data, _ = _data(1)
    keras.utils.set_random_seed(0)
    layers: list[keras.layers.Layer] = [keras.Input(shape=data.input_shape)]
    layers += [keras.layers.LSTM(u, return_sequences=k < len(UNITS) - 1) for k, u in enumerate(UNITS)]
    model = keras.Sequential([*layers, keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss="mse")
    return lambda epoch: model.fit(data.x_train, data.y_train, initial_epoch=epoch, epochs=epoch + 1,
                                   batch_size=BATCH, shuffle=True, verbose=0) and None


def _steady(seconds: list[float]) -> float:
    return float(np.median(seconds[1:] if len(seconds) > 1 else seconds))


def measure(epochs: int, eight: bool) -> dict[str, tuple[list[float], list[float]]]:
    """Wall and process-CPU seconds of every epoch, the contenders interleaved epoch by epoch so
    that a change in the machine's load hits them alike."""
    contenders = {"engine": _engine(1), "keras": _keras()}
    if eight:
        contenders["engine8"] = _engine(8)
    out: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in contenders}
    for epoch in range(epochs):
        for name, run in contenders.items():
            wall, cpu = time.perf_counter(), time.process_time()
            run(epoch)
            out[name][0].append(time.perf_counter() - wall)
            out[name][1].append(time.process_time() - cpu)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="epochs per contender (the first traces)")
    parser.add_argument("--skip-8", action="store_true", help="skip the 8-run group")
    parser.add_argument("--rates", type=Path, default=None, metavar="DIR",
                        help="also judge the rates `python -m lstm_app calibrate` kept in this data folder")
    parser.add_argument("--long", action="store_true",
                        help="then time the page's defaults on a 2,300-row weekly series (bench_long.py)")
    args = parser.parse_args(argv)
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    times = measure(args.epochs, not args.skip_8)
    flops = epoch_flops()
    engine, keras_s = _steady(times["engine"][0]), _steady(times["keras"][0])
    print(f"w1_engine_first_epoch_s: {times['engine'][0][0]:.3f}")
    print(f"w1_engine_s_per_epoch: {engine:.3f}")
    print(f"w1_keras_s_per_epoch: {keras_s:.3f}")
    print(f"ratio_keras: {engine / keras_s:.2f}")
    print(f"ratio_keras_cpu: {_steady(times['engine'][1]) / _steady(times['keras'][1]):.2f}")
    print(f"gflops_1: {flops / engine / 1e9:.1f}")
    print(f"keras_gflops: {flops / keras_s / 1e9:.1f}")
    if "engine8" in times:
        eight = _steady(times["engine8"][0])
        print(f"w8_engine_s_per_run_epoch: {eight / 8:.3f}")
        print(f"ratio_keras_8: {eight / 8 / keras_s:.2f}")
        print(f"ratio_keras_8_cpu: {_steady(times['engine8'][1]) / 8 / _steady(times['keras'][1]):.2f}")
        print(f"gflops: {8 * flops / eight / 1e9:.1f}")
    _routing(engine, keras_s, args.rates)
    if args.long:
        import bench_long

        bench_long.main(["--rates", str(args.rates)] if args.rates else [])
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


def _routing(engine_s: float, keras_s: float, folder: Path | None) -> None:
    """What the scheduler does with W1 (one run, 50 epochs): the engine it picks and the seconds
    per epoch it predicts for each, against those just measured — with the reference rates, and
    with the rates `python -m lstm_app calibrate` kept in `folder`, if given."""
    from lstm_app.runs import schedule

    data, _ = _data(1)
    model = ModelSpec("w1", tuple(LayerSpec(u) for u in UNITS))
    steps = -(-len(data.x_train) // BATCH)
    faster = "batched" if engine_s < keras_s else "keras"
    models = {"reference": schedule.CostModel()}
    if folder is not None:
        models["measured"] = schedule.cost_model(folder)
    for name, cost in models.items():
        flops = cost.step_flops(model, LOOKBACK, 1, BATCH)
        keras_pred = steps * (cost.keras_overhead + flops / cost.keras_rate)
        batched_pred = steps * (cost.batched_overhead + flops / cost.batched_rate)
        picked = "batched" if batched_pred < keras_pred else "keras"  # per epoch, as over 50 epochs
        print(f"{name}_rates: W1 to {picked} (measured faster: {faster}); predicted s/epoch keras "
              f"{keras_pred:.3f} (÷ measured {keras_pred / keras_s:.2f}), batched {batched_pred:.3f} "
              f"(÷ measured {batched_pred / engine_s:.2f})")


if __name__ == "__main__":
    sys.exit(main())
