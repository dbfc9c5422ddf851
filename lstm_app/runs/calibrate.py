"""Measure this machine's training speed on both engines, for the scheduler's cost model.

`measure()` trains two shapes for a few epochs on each engine, through the same functions the
worker calls (`train.run_one`, `batched.train_group` with one run): a tiny LSTM whose steps are
almost all framework overhead, and LSTM 64→32 whose steps are mostly arithmetic. Each engine's
seconds per step are then `overhead + flops / rate` through the two points (`schedule.CostModel`).
The epochs' own wall seconds are read from their `EpochRow`s (the first epoch, which traces or
builds, is left out); the runs are stopped after the last timed epoch, so nothing is scored.
`python -m lstm_app calibrate` runs it and keeps the result in the data folder
(`schedule.save_rates`), where every worker, the page's estimate and the CLI read it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..outcome import EpochRow
from ..params import input_shape
from ..spec import DataSpec, ExperimentSpec, LayerSpec, ModelSpec, SplitSpec, TrainingSpec, WindowSpec
from ..windows import plan_split
from .schedule import CostModel

__all__ = ["SHAPES", "measure"]

# name -> (layers, lookback): one overhead-bound and one compute-bound shape.
SHAPES: dict[str, tuple[tuple[int, ...], int]] = {"small": ((4,), 4), "large": ((64, 32), 24)}
_BATCH = 32


def _experiment(units: tuple[int, ...], lookback: int, epochs: int) -> ExperimentSpec:
    return ExperimentSpec(
        "calibration", DataSpec("calibration.csv", "y"),
        (ModelSpec("m", tuple(LayerSpec(u) for u in units)),),
        WindowSpec(lookback=lookback, future_steps=0), SplitSpec(16),
        TrainingSpec(epochs=epochs, batch_size=_BATCH, seeds=(0,), patience=0, validation_share=0.1),
    )


def _frame(windows: int, lookback: int) -> pd.DataFrame:
    n = windows + lookback + 16
    t = np.arange(n, dtype=float)
    y = 50 + 10 * np.sin(t / 7) + np.random.default_rng(0).normal(0, 1, n)
    return pd.DataFrame({"y": y}, index=pd.RangeIndex(n))


def _epoch_seconds(engine: str, exp: ExperimentSpec, frame: pd.DataFrame, timed: int) -> float:
    """Median wall seconds of epochs 2 .. timed + 1 of one run; the run is stopped after them."""
    from ..engine import batched, train  # loads TensorFlow, so only when measuring

    rows: list[EpochRow] = []
    done: Callable[[], bool] = lambda: len(rows) > timed  # noqa: E731
    if engine == "keras":
        train.run_one(exp, frame, 0, 0, on_epoch=rows.append, should_stop=done, probe_gradients=False)
    else:
        batched.train_group(exp, frame, [(0, 0)], on_epoch=lambda _i, row: rows.append(row),
                            should_stop=lambda _i: done())
    if len(rows) < 2:
        raise RuntimeError(f"the {engine} engine trained {len(rows)} epoch(s) of the calibration run, not 2 or more")
    return statistics.median(row.seconds for row in rows[1:])


def measure(windows: int = 768, timed: int = 3) -> dict[str, Any]:
    """Seconds per step of each engine on each shape (`windows` training windows, the median of
    `timed` epochs after the first), and the `CostModel` fields they give: keras_overhead,
    keras_rate, batched_overhead, batched_rate (seconds per step, FLOP/s)."""
    cost = CostModel()
    flops: dict[str, float] = {}
    per_step: dict[str, float] = {}
    for name, (units, lookback) in SHAPES.items():
        exp = _experiment(units, lookback, timed + 2)
        frame = _frame(windows, lookback)
        steps_in, width = input_shape(1, lookback, exp.window.framing)
        flops[name] = cost.step_flops(exp.models[0], steps_in, width, _BATCH)
        n_train = plan_split(len(frame), exp.window, exp.split, exp.training.validation_share).n_train
        steps = math.ceil(n_train / _BATCH)
        for engine in ("keras", "batched"):
            per_step[f"{engine}_{name}"] = _epoch_seconds(engine, exp, frame, timed) / steps
    fields: dict[str, float] = {}
    for engine in ("keras", "batched"):
        small, large = per_step[f"{engine}_small"], per_step[f"{engine}_large"]
        # Two points of seconds = overhead + flops / rate; noise may make the slope tiny or negative.
        slope = max((large - small) / (flops["large"] - flops["small"]), 1e-13)
        fields[f"{engine}_rate"] = 1.0 / slope
        fields[f"{engine}_overhead"] = max(small - flops["small"] * slope, 1e-5)
    return {"fields": fields, "seconds_per_step": per_step, "step_flops": flops}
