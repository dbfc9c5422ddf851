"""Which runs train together, on which engine, and how long an experiment will take (no TensorFlow).

Runs of one experiment whose models share their shapes (LSTM units, dense head) form a *group*:
the batched engine trains a group as one TensorFlow graph, each run with its own seed,
activations, sample order, optimizer state, stopping and divergence. On this kind of work
(small LSTMs, small batches) the time goes to per-step framework overhead, so one graph for 20
runs costs little more than one run. For large, compute-bound models the arithmetic dominates;
which engine does it faster depends on the machine, hence measured rates (below). A run too
short to repay tracing a graph keeps the per-run Keras path. On a GPU, groups whose every model
qualifies for cuDNN keep the per-run Keras path, which uses the fused kernel.

The cost model is deliberately simple — per training step, a fixed overhead plus floating-point
work at a sustained rate; it chooses the engine and estimates an experiment's time before it is
submitted. Its rates are measured: `python -m lstm_app calibrate` trains a tiny and a
compute-bound LSTM on both engines (`runs.calibrate`) and keeps the rates in the data folder
(`RATES_FILE`), where the workers, the Ray driver, the page's estimate and the CLI read them
(`cost_model`); rates measured on another machine are ignored. Without that file the defaults
below are what `calibrate` measured on the 2-core reference machine, idle.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ..params import input_shape
from ..spec import ExperimentSpec, ModelSpec, SplitSpec
from ..windows import check_origins, origin_ends, plan_split

__all__ = [
    "MAX_GROUP", "RATES_FILE", "RATE_FIELDS", "CostModel", "Engine", "Group", "Plan", "cost_model", "estimate",
    "group_key", "machine", "plan_groups", "runs_on_cudnn", "save_rates",
]

# The most runs one batched graph trains at once (memory, and a bound on what one worker holds).
MAX_GROUP = 256


class Engine(StrEnum):
    """How a run is trained: in a batched group graph, or alone through `keras.Model.fit`."""

    BATCHED = "batched"
    KERAS = "keras"


def group_key(model: ModelSpec) -> tuple[object, ...]:
    """Runs of one experiment with equal keys can share one batched graph: the same layer and
    head sizes (a direct model's Dense(H) output included), recurrent dropout in the same layers
    and the same target transform (activations, dropout rates and seeds may differ). Mirrors
    `engine.batched.group_key`, which adds what an experiment fixes."""
    return (model.units, tuple(model.dense), tuple(layer.recurrent_dropout > 0 for layer in model.layers),
            model.target, model.season, model.outputs)


@dataclass(frozen=True)
class CostModel:
    """Seconds per training step: `overhead + flops / rate`, for Keras's per-run `fit` and for
    the batched engine (whose flops are those of every run in the group)."""

    # `python -m lstm_app calibrate` on the 2-core reference machine, idle: per step, LSTM 4 over 4
    # steps and LSTM 64→32 over 24, batch 32 — Keras's per-run path 7.5 and 17.2 ms, the batched
    # engine (one run, graph executor) 1.1 and 10.1 ms. The batched engine runs faster still where
    # XLA compiles it or a group fills its GEMMs (bench/bench_compute.py: 35–53 GFLOP/s).
    keras_overhead: float = 7.5e-3
    keras_rate: float = 1.4e10
    batched_overhead: float = 1.1e-3
    batched_rate: float = 1.5e10
    # Fixed seconds per run outside the epochs (build, forecast, diagnostics, store writes).
    keras_per_run: float = 0.6
    batched_per_run: float = 0.02
    batched_per_group: float = 1.5  # tracing the graph
    # Outside the runs, once per backtest origin (a worker caches them per split): the statistical
    # references (ETS, ARIMA with its order search, Theta) fitted on the origin's training rows and
    # scored over its test period — 0.5 s on 128 rows, 2.3 s on 1,955 (CPU, this machine, loaded).
    reference_overhead: float = 0.3
    reference_per_row: float = 1.0e-3
    # A fresh worker importing TensorFlow before its first run (bench/bench_startup.py: 4.6–6.6 CPU s).
    worker_start: float = 6.0

    def step_flops(self, model: ModelSpec, steps: int, width: int, batch: int) -> float:
        """Multiply-adds × 2 × 3 (forward and backward) of one training step of one run."""
        flops, p = 0.0, width
        for layer in model.layers:
            flops += steps * 4 * layer.units * (layer.units + p)
            p = layer.units
        for units in (*model.dense, 1):
            flops += p * units
            p = units
        return 6.0 * batch * flops

    def reference_seconds(self, train_rows: int) -> float:
        """Fitting and scoring the statistical references on one origin's training rows."""
        return self.reference_overhead + self.reference_per_row * train_rows

    def keras_seconds(self, flops: float, steps: int, epochs: int) -> float:
        return self.keras_per_run + epochs * steps * (self.keras_overhead + flops / self.keras_rate)

    def batched_seconds(self, flops: float, steps: int, epochs: int, runs: int) -> float:
        per_step = self.batched_overhead + runs * flops / self.batched_rate
        return self.batched_per_group + runs * self.batched_per_run + epochs * steps * per_step


@dataclass(frozen=True)
class Group:
    """Runs (model index, seed) of one backtest origin trained together, the engine chosen, why,
    and the estimate."""

    members: tuple[tuple[int, int], ...]
    engine: Engine
    reason: str
    seconds: float
    origin: int = 0

    def holds(self, model_index: int, seed: int, origin: int) -> bool:
        return origin == self.origin and (model_index, seed) in self.members


@dataclass(frozen=True)
class Plan:
    """Every group of an experiment and the estimated wall time on one worker."""

    groups: tuple[Group, ...]
    scoring: float = 0.0  # seconds outside the groups: the references of every origin

    @property
    def seconds(self) -> float:
        """Training, every group on one worker, and the scoring outside it."""
        return sum(g.seconds for g in self.groups) + self.scoring

    def group_of(self, model_index: int, seed: int, origin: int = 0) -> Group:
        """The group that trains this run (StopIteration when none does)."""
        return next(g for g in self.groups if g.holds(model_index, seed, origin))

    def describe(self, start: float = 0.0) -> str:
        """One sentence for the page, e.g. "about 40 s on one worker: 20 runs in 2 batched groups";
        `start`: seconds for a worker to start first, counted in."""
        batched = [g for g in self.groups if g.engine is Engine.BATCHED]
        keras = sum(len(g.members) for g in self.groups if g.engine is Engine.KERAS)
        origins = len({g.origin for g in self.groups})
        parts = []
        if batched:
            runs = sum(len(g.members) for g in batched)
            parts.append(f"{runs} run{'s' * (runs != 1)} in {len(batched)} batched "
                         f"group{'s' * (len(batched) != 1)}")
        if keras:
            parts.append(f"{keras} run{'s' * (keras != 1)} one at a time through Keras")
        where = f" over {origins} backtest origins" if origins > 1 else ""
        extra = []
        if self.scoring >= 1:
            extra.append(f"{_duration(self.scoring)} of it fitting the statistical references")
        if start:
            extra.append(f"{_duration(start)} for a worker to start")
        counted = f" ({'; '.join(extra)})" if extra else ""
        return (f"about {_duration(self.seconds + start)} on one worker: " + " and ".join(parts) + where + counted)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def plan_groups(exp: ExperimentSpec, n_rows: int, *, members: Iterable[tuple[int, int]] | None = None,
                cost: CostModel | None = None, gpu: bool = False) -> Plan:
    """Group `members` (default: every run of `exp`) and choose an engine for each group, for
    every backtest origin (latest first: its groups are the ones the page shows first).

    `n_rows` is the length of the whole series (each origin's window count follows from it).
    Runs of different origins never share a group: each origin has its own rows and scaling.
    """
    cost = cost or CostModel()
    t, w = exp.training, exp.window
    n_features = 1 + len(exp.data.features)
    time_steps, width = input_shape(n_features, w.lookback, w.framing)
    by_key: dict[tuple[object, ...], list[tuple[int, int]]] = {}
    for index, seed in (exp.runs() if members is None else members):
        by_key.setdefault(group_key(exp.models[index]), []).append((index, seed))
    check_origins(n_rows, w, exp.split, t.validation_share, exp.backtest.origins)
    ends = origin_ends(n_rows, exp.split, exp.backtest.origins)
    test = exp.split.test_points(n_rows)
    groups, scoring = [], 0.0
    for origin in reversed(range(len(ends))):
        split = plan_split(ends[origin], w, SplitSpec(test), t.validation_share)
        scoring += cost.reference_seconds(ends[origin] - test)
        steps_per_epoch = max(1, math.ceil(split.n_train / t.batch_size))
        for runs in by_key.values():
            for start in range(0, len(runs), MAX_GROUP):
                chunk = tuple(runs[start:start + MAX_GROUP])
                group = _choose(exp, chunk, cost, steps_per_epoch, time_steps, width, gpu)
                groups.append(dataclasses.replace(group, origin=origin))
    return Plan(tuple(groups), scoring)


def _choose(exp: ExperimentSpec, members: tuple[tuple[int, int], ...], cost: CostModel, steps: int,
            time_steps: int, width: int, gpu: bool) -> Group:
    models = [exp.models[i] for i, _ in members]
    epochs, batch = exp.training.epochs, exp.training.batch_size
    flops = cost.step_flops(models[0], time_steps, width, batch)
    keras_s = len(members) * cost.keras_seconds(flops, steps, epochs)
    batched_s = cost.batched_seconds(flops, steps, epochs, len(members))
    if gpu and all(_cudnn(m) for m in models):
        return Group(members, Engine.KERAS, "on a GPU, every model here runs Keras's fused cuDNN kernel", keras_s)
    if len(members) == 1 and batched_s >= keras_s:
        return Group(members, Engine.KERAS, "a single run: nothing to batch", keras_s)
    if batched_s < 0.9 * keras_s:
        return Group(members, Engine.BATCHED,
                     f"{len(members)} runs share one graph: estimated {batched_s:.0f} s batched vs "
                     f"{keras_s:.0f} s one at a time", batched_s)
    arithmetic = epochs * steps * flops / cost.keras_rate
    why = ("compute-bound model" if arithmetic > epochs * steps * cost.keras_overhead
           else "too little training to repay tracing a batched graph")
    return Group(members, Engine.KERAS,
                 f"{why}: estimated {keras_s:.0f} s one at a time vs {batched_s:.0f} s batched", keras_s)


def runs_on_cudnn(exp: ExperimentSpec, members: Iterable[tuple[int, int]]) -> bool:
    """Whether every model of a group qualifies for Keras's fused cuDNN kernel (tanh, sigmoid, no
    recurrent dropout): such a group is worth a GPU; any other (ReLU inside, say) is not."""
    return all(_cudnn(exp.models[i]) for i, _ in members)


def _cudnn(model: ModelSpec) -> bool:
    return all(layer.activation == "tanh" and layer.recurrent_activation == "sigmoid"
               and layer.recurrent_dropout == 0 for layer in model.layers)


def estimate(exp: ExperimentSpec, n_rows: int, workers: int = 1, cost: CostModel | None = None,
             *, cold: bool = False) -> tuple[float, str]:
    """Estimated wall seconds for the whole experiment with `workers` workers — its training,
    the references of every origin, and a worker's start when none is running (`cold`) — and a
    sentence."""
    cost = cost or CostModel()
    plan = plan_groups(exp, n_rows, cost=cost)
    start = cost.worker_start if cold else 0.0
    seconds = start + plan.seconds / max(1, min(workers, len(plan.groups)))
    return seconds, plan.describe(start)


# --- measured rates, kept in the data folder ---------------------------------------------------

RATES_FILE = "engine-rates.json"
RATE_FIELDS = ("keras_overhead", "keras_rate", "batched_overhead", "batched_rate")
_LOADED: dict[Path, tuple[tuple[int, int], CostModel]] = {}


def machine() -> str:
    """What measured rates hold for: this host, its CPU count and architecture."""
    return f"{platform.node()}, {os.cpu_count()} CPUs, {platform.machine()}"


def save_rates(folder: str | os.PathLike[str], fields: Mapping[str, float],
               seconds_per_step: Mapping[str, float] | None = None) -> Path:
    """Keep measured `CostModel` fields (`RATE_FIELDS`) in `folder` for this machine, with the
    measurements they come from (for whoever reads the file); the file's path."""
    unknown = set(fields) - set(RATE_FIELDS)
    if unknown or not all(math.isfinite(v) and v > 0 for v in fields.values()):
        raise ValueError(f"Received an invalid value for argument `fields`, expected positive finite "
                         f"{', '.join(RATE_FIELDS)}, got {dict(fields)!r}.")
    path = Path(folder) / RATES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps({"machine": machine(), "measured": time.strftime("%Y-%m-%d %H:%M:%S"),
                                "fields": dict(fields), "seconds_per_step": dict(seconds_per_step or {})},
                               indent=2) + "\n", encoding="utf-8")
    os.replace(part, path)
    return path


def cost_model(folder: str | os.PathLike[str] | None) -> CostModel:
    """The cost model for this machine: the defaults with the rates measured here and kept in
    `folder` (`save_rates`) where there are any; a missing, unreadable or other machine's file
    leaves the defaults. Read again only when the file changes."""
    if folder is None:
        return CostModel()
    path = Path(folder) / RATES_FILE
    try:
        info = path.stat()
    except OSError:
        return CostModel()
    stamp = (info.st_mtime_ns, info.st_size)
    cached = _LOADED.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    model = CostModel()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raw = None
    if isinstance(raw, dict) and raw.get("machine") == machine() and isinstance(raw.get("fields"), dict):
        good = {k: float(v) for k, v in raw["fields"].items()
                if k in RATE_FIELDS and isinstance(v, (int, float)) and math.isfinite(v) and v > 0}
        model = dataclasses.replace(model, **good)
    _LOADED[path] = (stamp, model)
    return model
