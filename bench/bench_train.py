"""Seconds per epoch: this package's training run against a plain Keras script.

Same model (stacked LSTM 64→32, Dense 1), same data (~2,000 windows of lookback 20 from a
synthetic series), same batch size and epochs. Each side runs in a fresh interpreter, taking
turns, so neither inherits the other's graph caches or the global op-determinism switch
that `lstm_app.engine.train` turns on. Prints medians over epochs 2..N (epoch 1 includes tracing)
and the ratio package / plain. Target: ≤ 1.05.

    .venv/bin/python bench/bench_train.py [--epochs 6] [--rounds 2] [--gpu]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
N_POINTS, LOOKBACK, BATCH = 2400, 20, 32


def _series():
    import numpy as np
    import pandas as pd

    t = np.arange(N_POINTS, dtype=float)
    rng = np.random.default_rng(0)
    y = 100 + 20 * np.sin(t / 12) + 5 * np.sin(t / 50) + rng.normal(0, 2, N_POINTS)
    return pd.DataFrame({"y": y}, index=pd.date_range("2000-01-01", periods=N_POINTS, freq="D"))


def _experiment(epochs: int):
    from lstm_app.spec import DataSpec, ExperimentSpec, LayerSpec, ModelSpec, SplitSpec, TrainingSpec, WindowSpec

    model = ModelSpec("tanh", (LayerSpec(64), LayerSpec(32)))
    # validation share 0.15 and test 200 leave ~1,850 training windows
    return ExperimentSpec("bench", DataSpec("bench.csv", "y"), (model,), WindowSpec(LOOKBACK, future_steps=0),
                          SplitSpec(200), TrainingSpec(epochs=epochs, batch_size=BATCH, patience=0, seeds=(0,),
                                                       validation_share=0.15))


def child_package(epochs: int) -> list[float]:
    from lstm_app.engine import train

    out = train.run_one(_experiment(epochs), _series(), 0, 0)
    return [row.seconds for row in out.epochs]


def child_plain(epochs: int) -> list[float]:
    """What a user would write by hand with Keras: same windows, same model, fit()."""
    import time

    import keras

    from lstm_app.windows import prepare

    exp = _experiment(epochs)
    data = prepare(_series(), exp.window, exp.split, exp.training)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input(shape=data.input_shape),
        keras.layers.LSTM(64, return_sequences=True),
        keras.layers.LSTM(32),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss="mse")
    times: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            times.append(time.perf_counter() - self.t)

    model.fit(data.x_train, data.y_train, validation_data=(data.x_val, data.y_val), epochs=epochs,
              batch_size=BATCH, shuffle=True, verbose=0, callbacks=[Timer()])
    return times


def _run(kind: str, epochs: int, gpu: bool) -> list[float]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    if not gpu:
        env["CUDA_VISIBLE_DEVICES"] = ""
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--epochs", str(epochs)],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--gpu", action="store_true", help="let TensorFlow see a GPU")
    parser.add_argument("--child", choices=["package", "plain"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        fn = child_package if args.child == "package" else child_plain
        print(json.dumps(fn(args.epochs)))
        return
    steady: dict[str, list[float]] = {"plain": [], "package": []}
    for r in range(args.rounds):
        for kind in ("plain", "package") if r % 2 == 0 else ("package", "plain"):
            times = _run(kind, args.epochs, args.gpu)
            steady[kind] += times[1:]
            print(f"round {r + 1} {kind:8s} epoch 1 {times[0]:.2f} s, then "
                  + ", ".join(f"{t:.2f}" for t in times[1:]), flush=True)
    plain, package = statistics.median(steady["plain"]), statistics.median(steady["package"])
    print(f"\nstacked LSTM 64→32, lookback {LOOKBACK}, batch {BATCH}, {N_POINTS} points "
          f"({N_POINTS - 200 - LOOKBACK} training + validation windows)")
    print(f"plain Keras     : {plain:.3f} s/epoch (median of {len(steady['plain'])} epochs)")
    print(f"lstm_app.engine.train  : {package:.3f} s/epoch (median of {len(steady['package'])} epochs)")
    print(f"ratio package/plain: {package / plain:.3f}  (target ≤ 1.05)")


if __name__ == "__main__":
    main()
