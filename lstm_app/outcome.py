"""What one training run produces, typed from the engine to the chart (no TensorFlow, no numpy).

`train.run_one` and the batched engine return a `RunOutcome`; the worker writes it to the store;
charts, the comparison and the CLI read its attributes. A run's status is a `RunStatus`;
forecasts, regions, layer statistics and metrics are frozen dataclasses. JSON exists only at
the store boundary and in `results.json`: every class here has `to_dict()`/`from_dict()` that
write and read exactly the JSON shapes stored so far (old stores load); times are ISO strings.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

__all__ = [
    "ACTIVE",
    "ENDED",
    "FINISHED",
    "REQUEUEABLE",
    "STATUSES",
    "Diagnostics",
    "EpochRow",
    "FutureForecast",
    "Histogram",
    "Horizon",
    "Label",
    "LayerKind",
    "LayerStats",
    "Metrics",
    "Regions",
    "RunOutcome",
    "RunStatus",
    "TestForecast",
    "in_order",
]

Label = str | int  # a time label: an ISO string, or a position when the series has no time column


class RunStatus(StrEnum):
    """Every status a run can have, in the store and on the page (equal to its string)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    DIVERGED = "diverged"
    CANCELLED = "cancelled"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


STATUSES: tuple[RunStatus, ...] = tuple(RunStatus)
# Waiting for or holding a worker.
ACTIVE: frozenset[RunStatus] = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})
# The statuses a stored `RunOutcome` has (a cancelled run keeps the epochs it finished).
FINISHED: frozenset[RunStatus] = frozenset({RunStatus.DONE, RunStatus.DIVERGED, RunStatus.CANCELLED})
# Everything that is not active: the run will not change again unless it is re-queued.
ENDED: frozenset[RunStatus] = frozenset(RunStatus) - ACTIVE
# What `Store.requeue` may queue again.
REQUEUEABLE: frozenset[RunStatus] = frozenset({RunStatus.INTERRUPTED, RunStatus.FAILED, RunStatus.CANCELLED})


def in_order(statuses: Iterable[str]) -> tuple[RunStatus, ...]:
    """`statuses` as RunStatus in the enum's order (for SQL parameters and messages)."""
    wanted = {RunStatus(s) for s in statuses}
    return tuple(s for s in RunStatus if s in wanted)


@dataclass(frozen=True)
class EpochRow:
    """One finished epoch: losses in scaled units (None when not finite), wall seconds, and
    the gradient norm per LSTM layer on a fixed probe batch."""

    epoch: int
    loss: float | None
    val_loss: float | None
    seconds: float
    grad_norms: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "loss": self.loss, "val_loss": self.val_loss, "seconds": self.seconds,
                "grad_norms": list(self.grad_norms)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> EpochRow:
        return cls(raw["epoch"], raw.get("loss"), raw.get("val_loss"), raw["seconds"],
                   tuple(raw.get("grad_norms") or ()))


@dataclass(frozen=True)
class Horizon:
    """RMSE at each horizon h = 1 .. H (entry h − 1) in the series' units over `n[h − 1]` forecasts
    (None where one was not finite); `baselines`: the same per forecaster key (`report.forecasters`)."""

    rmse: tuple[float | None, ...]
    n: tuple[int, ...]
    baselines: Mapping[str, Horizon] = field(default_factory=dict)

    def pooled(self) -> float | None:
        """The RMSE over every forecast of horizons 1 .. H together (None if one is missing)."""
        if not self.rmse or None in self.rmse or not sum(self.n):
            return None
        squares = sum(k * r * r for k, r in zip(self.n, self.rmse, strict=True) if r is not None)
        return math.sqrt(squares / sum(self.n))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rmse": list(self.rmse), "n": list(self.n)}
        if self.baselines:
            out["baselines"] = {k: v.to_dict() for k, v in self.baselines.items()}
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Horizon:
        return cls(tuple(raw.get("rmse") or ()), tuple(int(k) for k in raw.get("n") or ()),
                   {k: cls.from_dict(v) for k, v in (raw.get("baselines") or {}).items()})


@dataclass(frozen=True)
class TestForecast:
    """The one-step-ahead test forecast from actual history, with the actual values and the
    naive (last value) forecast, one entry per test time; and `recursive`, the forecast of the
    test period made at its start, H steps (entry h − 1 is the h-step-ahead forecast: fed back
    step by step, or a direct model's Dense(H) output; empty when extra input columns make a
    recursive one impossible); `horizon`, the RMSE by horizon from every test window."""

    __test__: ClassVar[bool] = False  # not a pytest test class, despite the name

    time: tuple[Label, ...]
    actual: tuple[float, ...]
    forecast: tuple[float, ...]
    naive: tuple[float, ...]
    recursive: tuple[float, ...] = ()
    horizon: Horizon | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"time": list(self.time), "actual": list(self.actual),
                               "forecast": list(self.forecast), "naive": list(self.naive)}
        if self.recursive:
            out["recursive"] = list(self.recursive)
        if self.horizon is not None:  # absent from results written before it: they write back unchanged
            out["horizon"] = self.horizon.to_dict()
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> TestForecast:
        horizon = raw.get("horizon")
        time, actual, forecast, naive, recursive = (tuple(raw.get(k) or ()) for k in
                                                    ("time", "actual", "forecast", "naive", "recursive"))
        return cls(time, actual, forecast, naive, recursive, Horizon.from_dict(horizon) if horizon else None)


@dataclass(frozen=True)
class FutureForecast:
    """The forecast past the end of the series (recursive, or a direct model's H steps)."""

    time: tuple[Label, ...]
    forecast: tuple[float, ...]

    def to_dict(self) -> dict[str, list[Any]]:
        return {"time": list(self.time), "forecast": list(self.forecast)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> FutureForecast:
        return cls(tuple(raw.get("time") or ()), tuple(raw.get("forecast") or ()))


@dataclass(frozen=True)
class Regions:
    """The times (or positions) that bound the chronological split, and the window counts;
    `val_start` is None without a validation part."""

    train_start: Label
    val_start: Label | None
    test_start: Label
    end: Label
    n_train: int
    n_val: int
    n_test: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Regions:
        return cls(raw["train_start"], raw.get("val_start"), raw["test_start"], raw["end"],
                   int(raw.get("n_train") or 0), int(raw.get("n_val") or 0), int(raw.get("n_test") or 0))


@dataclass(frozen=True)
class Histogram:
    """Bin counts and the `len(counts) + 1` bin edges."""

    counts: tuple[int, ...]
    edges: tuple[float, ...]

    def to_dict(self) -> dict[str, list[Any]]:
        return {"counts": list(self.counts), "edges": list(self.edges)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Histogram:
        return cls(tuple(raw.get("counts") or ()), tuple(raw.get("edges") or ()))


class LayerKind(StrEnum):
    """An LSTM layer, or an activation layer between two of them."""

    LSTM = "lstm"
    BETWEEN = "between"


@dataclass(frozen=True)
class LayerStats:
    """Output statistics of one layer on the test windows.

    `finite` says whether every output was finite; the statistics are over the finite outputs
    and all None when there was none. `dead_units` counts units whose |output| never exceeded
    the engine's dead threshold.
    """

    name: str
    kind: LayerKind
    activation: str
    units: int
    finite: bool
    min: float | None = None
    max: float | None = None
    max_abs: float | None = None
    mean: float | None = None
    share_outside_unit: float | None = None
    dead_units: int | None = None
    dead_share: float | None = None
    histogram: Histogram | None = None

    _VALUES: ClassVar[tuple[str, ...]] = ("min", "max", "max_abs", "mean", "share_outside_unit", "dead_units",
                                         "dead_share")

    @property
    def has_values(self) -> bool:
        """Whether any output was finite (so the statistics exist)."""
        return any(getattr(self, k) is not None for k in self._VALUES) or self.histogram is not None

    def to_dict(self) -> dict[str, Any]:
        """The stored shape: only the first five keys when no output was finite."""
        out: dict[str, Any] = {"name": self.name, "kind": self.kind.value, "activation": self.activation,
                               "units": self.units, "finite": self.finite}
        if self.has_values:
            out.update({k: getattr(self, k) for k in self._VALUES})
            out["histogram"] = None if self.histogram is None else self.histogram.to_dict()
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> LayerStats:
        hist = raw.get("histogram")
        return cls(str(raw["name"]), LayerKind(raw["kind"]), str(raw["activation"]), int(raw["units"]),
                   bool(raw.get("finite", False)), **{k: raw.get(k) for k in cls._VALUES},
                   histogram=Histogram.from_dict(hist) if hist else None)


@dataclass(frozen=True)
class Diagnostics:
    """Output statistics of every LSTM layer (and activation layer between them), in order."""

    layers: tuple[LayerStats, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """{"layers": [...]}, or {} without layers (a run that ended before forecasting)."""
        return {"layers": [layer.to_dict() for layer in self.layers]} if self.layers else {}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Diagnostics:
        return cls(tuple(LayerStats.from_dict(layer) for layer in raw.get("layers") or ()))


@dataclass(frozen=True)
class Metrics:
    """Forecast metrics over the test period in original units (see `report.metrics`); None
    where undefined. `baselines` holds the RMSE of every forecaster the run was judged against
    (`report.forecasters`) by its key — `naive`, `seasonal`, `drift`, ... — stored flat as
    `<key>_rmse`, the shape results have always had; one that could not be fitted (no season,
    too little history) is absent."""

    rmse: float | None = None
    mae: float | None = None
    mfe: float | None = None
    mda: float | None = None
    naive_mae: float | None = None
    skill: float | None = None
    volatility_ratio: float | None = None
    baselines: Mapping[str, float] = field(default_factory=dict)

    CORE: ClassVar[tuple[str, ...]] = ("rmse", "mae", "mfe", "mda", "naive_mae", "skill", "volatility_ratio")
    # The names every run has (the naive RMSE included), for code that loops over metric names.
    NAMES: ClassVar[tuple[str, ...]] = ("rmse", "mae", "mfe", "mda", "naive_rmse", "naive_mae", "skill",
                                        "volatility_ratio")

    @property
    def naive_rmse(self) -> float | None:
        """The naive (last value) forecast's RMSE: the denominator of `skill`."""
        return self.baselines.get("naive")

    def baseline(self, key: str) -> float | None:
        """The RMSE of the forecaster stored under `key` (None when absent or not fitted)."""
        return self.baselines.get(key)

    def get(self, name: str) -> float | None:
        """The metric called `name` (a core name or `<key>_rmse`); KeyError for others."""
        if name in self.CORE:
            value: float | None = getattr(self, name)
            return value
        if name.endswith(_RMSE) and name != "rmse":
            return self.baselines.get(name.removesuffix(_RMSE))
        raise KeyError(f"{name!r} is not a metric; expected one of {', '.join(self.NAMES)} or <baseline>_rmse")

    def as_dict(self) -> dict[str, float | None]:
        """Every metric by its stored name: the core ones and `<key>_rmse` per baseline (naive
        always, as results always had it)."""
        out: dict[str, float | None] = {name: self.get(name) for name in self.NAMES}
        out.update({key + _RMSE: value for key, value in self.baselines.items() if key != "naive"})
        return out

    def to_dict(self) -> dict[str, float | None]:
        """As `as_dict`, leaving out the baselines other than naive when they are unset, so
        results written before them load and write back unchanged."""
        return {k: v for k, v in self.as_dict().items()
                if v is not None or k in self.CORE or k == "naive_rmse"}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Metrics:
        """Metrics from {name: value}; names that are neither core nor `<key>_rmse` are ignored."""
        def number(value: Any) -> float | None:
            return None if value is None else float(value)

        baselines = {k.removesuffix(_RMSE): float(v) for k, v in raw.items()
                     if k.endswith(_RMSE) and k != "rmse" and v is not None}
        return cls(**{k: number(raw[k]) for k in cls.CORE if k in raw}, baselines=baselines)


_RMSE = "_rmse"


def _part(value: TestForecast | FutureForecast | Regions | Metrics | None) -> dict[str, Any]:
    return {} if value is None else dict(value.to_dict())


@dataclass
class RunOutcome:
    """The result of one model × seed run.

    status: done, diverged or cancelled (failures are exceptions, recorded by the worker); the
    page also builds outcomes of unfinished runs (queued, running) to show their history.
    metrics, test, future and regions are None when the run did not get that far: a run that
    diverged has no forecast, `future` exists only for a univariate series.
    """

    status: RunStatus
    epochs: list[EpochRow] = field(default_factory=list)
    message: str = ""
    diverged_epoch: int | None = None
    metrics: Metrics | None = None
    test: TestForecast | None = None
    future: FutureForecast | None = None
    regions: Regions | None = None
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    params: int = 0
    seconds_per_epoch: float | None = None

    def __post_init__(self) -> None:
        self.status = RunStatus(self.status)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of `results.json` runs (parts a run lacks are {})."""
        return {
            "status": self.status.value, "epochs": [e.to_dict() for e in self.epochs], "message": self.message,
            "diverged_epoch": self.diverged_epoch, "metrics": _part(self.metrics), "test": _part(self.test),
            "future": _part(self.future), "regions": _part(self.regions), "diagnostics": self.diagnostics.to_dict(),
            "params": self.params, "seconds_per_epoch": self.seconds_per_epoch,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> RunOutcome:
        """An outcome from `to_dict`'s shape (extra keys, like a results.json run's model name, are ignored)."""
        metrics, test, future = raw.get("metrics"), raw.get("test"), raw.get("future")
        regions = raw.get("regions")
        return cls(
            status=RunStatus(raw["status"]),
            epochs=[EpochRow.from_dict(e) for e in raw.get("epochs") or ()],
            message=str(raw.get("message") or ""),
            diverged_epoch=raw.get("diverged_epoch"),
            metrics=Metrics.from_dict(metrics) if metrics else None,
            test=TestForecast.from_dict(test) if test else None,
            future=FutureForecast.from_dict(future) if future else None,
            regions=Regions.from_dict(regions) if regions else None,
            diagnostics=Diagnostics.from_dict(raw.get("diagnostics") or {}),
            params=int(raw.get("params") or 0),
            seconds_per_epoch=raw.get("seconds_per_epoch"),
        )
