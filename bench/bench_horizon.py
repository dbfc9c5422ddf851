"""Scoring a run beyond one step: the old recursive path over the whole test period against the
H-step forecasts from every test window, on a long test period (the "silent tail" of issue 20).

One Keras model (LSTM 32→16, lookback 52) on a weekly series with a 343-point test period, built
once in this process; both sides use its weights. Old: one model call per step for 343 steps from
the test period's start (what `engine.train._recursive` did). New: 12 batched calls over all 343
test windows (`engine.train._from_every_window`) and the inversion and scoring of every path
(`Prepared.paths`, `horizons.by_horizon`). Prints the median of `--rounds` timings of each and the
ratio old / new, measured in this one run.

    .venv/bin/python bench/bench_horizon.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import numpy as np
    import pandas as pd

    from lstm_app.engine import train
    from lstm_app.engine.model import build_model
    from lstm_app.horizons import by_horizon
    from lstm_app.spec import LayerSpec, ModelSpec, SplitSpec, TrainingSpec, WindowSpec
    from lstm_app.windows import prepare

    n, test, horizon = 2284, 343, 12
    t = np.arange(n, dtype=float)
    y = 315 + 0.03 * t + 3 * np.sin(2 * np.pi * t / 52) + np.random.default_rng(0).normal(0, 0.3, n)
    frame = pd.DataFrame({"y": y}, index=pd.date_range("1980-01-06", periods=n, freq="W-SUN"))
    data = prepare(frame, WindowSpec(52), SplitSpec(test), TrainingSpec())
    model = build_model(ModelSpec("m", (LayerSpec(32), LayerSpec(16))), data.input_shape)

    def old() -> None:
        scaled = train._recursive(model, data, data.origin_window(), data.split.n_test)
        assert scaled is not None
        data.path(scaled)

    def new() -> None:
        scaled = train._from_every_window(model, data, horizon)
        assert scaled is not None
        by_horizon(data.paths(scaled), data.y_test)

    old(), new()  # warm both (graph tracing)
    times: dict[str, list[float]] = {"old": [], "new": []}
    for _ in range(args.rounds):
        for name, fn in (("old", old), ("new", new)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    o, w = statistics.median(times["old"]), statistics.median(times["new"])
    print(f"test period {test} points, H = {horizon}")
    print(f"old: recursive path of {test} single calls from the test start: {o:.3f} s")
    print(f"new: {horizon} batched calls from all {test} windows + inversion + scoring: {w:.3f} s")
    print(f"old / new: {o / w:.1f}x")


if __name__ == "__main__":
    main()
