"""The result types of `compare.summarize` (see `compare`): `Comparison` with its tables,
`ModelSummary`, `Versus` and `SeedRow`, and the table's column labels and best-value rules."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from ..num import finite_or_none
from ..outcome import RunStatus
from . import forecasters, stats
from ._baselines import REFERENCES, Baselines
from ._verdicts import diff_decimals
from .backtest import Backtest

__all__ = ["BEST", "LABELS", "NAIVE_LABEL", "NOT_FINISHED", "ColumnKind", "Comparison", "MetricValues", "ModelSummary",
           "Replicate", "SeedRow", "TableColumn", "Versus"]

Replicate = tuple[int, int]  # (seed, backtest origin): what a model's runs are paired by

# Metric key -> column label, in table order.
LABELS: dict[str, str] = {
    "rmse": "RMSE", "mae": "MAE", "mfe": "MFE", "mda": "MDA", "skill": "Skill",
    "volatility_ratio": "Vol. ratio", "seconds_per_epoch": "s/epoch", "params": "Params",
}
# Best value per numeric_table column: smallest, largest, closest to 0 / to 1; None = no best.
BEST: dict[str, str | None] = {
    "RMSE": "min", "MAE": "min", "MFE": "zero", "MDA": "max", "Skill": "max", "Vol. ratio": "one",
    "s/epoch": "min", "Params": None, "Diverged": "min", "ΔRMSE": "min",
}
NAIVE_LABEL = "naive (last value)"
NOT_FINISHED = "not finished"  # a per-seed status for a run without an outcome
_ERROR_METRICS = ("rmse", "mae", "mfe")  # in the series' units, formatted to its scale
_COST_METRICS = ("seconds_per_epoch", "params")  # what a model costs, not how well it forecasts
# What a reader could not guess from a column's label (tooltips and a caption under the tables).
_HELP = {
    "mfe": "mean forecast error ŷ − y; positive means over-forecasting",
    "mda": "share of steps where the forecast moves the same way as the series",
    "skill": "1 − RMSE / naive RMSE; above 0 beats the last-value forecast",
    "volatility_ratio": "spread of the forecast / spread of the series; 1 = as volatile, below 1 = flatter",
    "dm": "Diebold–Mariano test on the seed-averaged forecasts vs the reference: supporting detail, "
          "it ignores seed-to-seed variation",
}
ColumnKind = Literal["count", "metric", "cost", "versus"]


@dataclass(frozen=True)
class TableColumn:
    """One column of `Comparison.table`: its label, what it holds (run counts, a forecast metric,
    a cost such as s/epoch, or the paired comparison with the reference) and its help text."""

    label: str
    kind: ColumnKind
    help: str = ""
_fmt = stats.format_number


@dataclass(frozen=True)
class MetricValues:
    """One number per metric of `LABELS`, in the series' units where it has one (None where
    missing): a run's values, or a model's means or standard deviations over its runs."""

    rmse: float | None = None
    mae: float | None = None
    mfe: float | None = None
    mda: float | None = None
    skill: float | None = None
    volatility_ratio: float | None = None
    seconds_per_epoch: float | None = None
    params: float | None = None

    def get(self, key: str) -> float | None:
        """The value of metric `key` (a key of `LABELS`; None for any other key)."""
        return getattr(self, key) if key in LABELS else None

    def to_dict(self) -> dict[str, float | None]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class SeedRow:
    """One seed of one model: its status (None when the run has no outcome) and its values."""

    status: RunStatus | None
    values: MetricValues

    @property
    def label(self) -> str:
        """The status as the tables show it ("not finished" without an outcome)."""
        return NOT_FINISHED if self.status is None else self.status.value

    def get(self, key: str) -> float | None:
        return self.values.get(key)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.label, **self.values.to_dict()}


@dataclass(frozen=True)
class Versus:
    """A model against the reference, paired by (seed, origin) over `seeds` (where both
    finished): the differences model − reference in RMSE and MAE, and the DM test on the
    seed-mean forecasts."""

    reference: str
    seeds: tuple[Replicate, ...]
    rmse: stats.PairedDiff
    mae: stats.PairedDiff
    dm: stats.DMResult

    @property
    def win_share(self) -> float | None:
        """Share of the paired seeds where the model's RMSE is lower."""
        return self.rmse.wins / self.rmse.n if self.rmse.n else None

    def to_dict(self) -> dict[str, Any]:
        seeds = sorted({s for s, _ in self.seeds})
        return {"reference": self.reference, "seeds": seeds, "origins": sorted({o for _, o in self.seeds}),
                "rmse": self.rmse.to_dict(),
                "mae": self.mae.to_dict(), "wins": self.rmse.wins, "n": self.rmse.n, "win_share": self.win_share,
                "dm": self.dm.to_dict(), "dm_variant": self.dm.variant}


@dataclass
class ModelSummary:
    """One model over its seeds: the `mean` and `std` of each metric over the finished runs;
    `vs_reference` is None for the reference itself; `warnings` are short lower-case clauses.
    In a backtest the `seeds_*` counts and `per_seed` are per run (one seed at one origin)."""

    name: str
    index: int
    is_reference: bool
    seeds_total: int
    seeds_done: int
    seeds_diverged: int
    seeds_unfinished: int
    divergence_rate: float | None
    mean: MetricValues
    std: MetricValues
    per_seed: dict[Replicate, SeedRow]
    vs_reference: Versus | None
    verdict: str
    warnings: list[str] = field(default_factory=list)
    beats_naive: bool | None = None  # beats the best baseline: True, False, or None when undecided
    vs_baseline: stats.PairedDiff | None = None  # RMSE − best baseline RMSE per run
    origins: int = 1
    beats_reference: bool | None = None  # beats the best statistical reference (ETS, ARIMA, Theta), as above
    horizon: int = 0  # H: the steps `rmse_h` pools (0 without a 1–H score)
    rmse_h: float | None = None  # mean over runs of the RMSE over horizons 1..H, from every test window
    beats_naive_h: bool | None = None  # beats the best baseline over 1..H, as `beats_naive` on the next step

    def message(self) -> str:
        """The verdict followed by the warnings as sentences."""
        return " ".join([self.verdict, *(w[0].upper() + w[1:] + "." for w in self.warnings)])

    def to_dict(self) -> dict[str, Any]:
        return {
            **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)},
            "mean": self.mean.to_dict(),
            "std": self.std.to_dict(),
            "per_seed": {(str(seed) if self.origins == 1 else f"{seed}@{origin}"): row.to_dict()
                         for (seed, origin), row in self.per_seed.items()},
            "vs_reference": None if self.vs_reference is None else self.vs_reference.to_dict(),
            "vs_baseline": None if self.vs_baseline is None else self.vs_baseline.to_dict(),
        }


@dataclass
class Comparison:
    """All models of one experiment against `reference`; `naive` is the last-value forecast."""

    reference: str
    reference_index: int
    seeds: tuple[int, ...]
    models: list[ModelSummary]
    naive: dict[str, float | None]
    notes: list[str]
    decimals: int
    dm_variant: str
    confidence: float = 0.95
    baselines: Baselines | None = None
    headline: str = ""  # the first verdict line: does any model beat the best baseline?
    backtest: Backtest = field(default_factory=Backtest)

    @property
    def origins(self) -> int:
        return self.backtest.count

    @property
    def unit(self) -> str:
        """What a paired difference is over: "seed", or "run" (one seed at one origin)."""
        return "seed" if self.origins <= 1 else "run"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (no NaN: undefined numbers are None)."""
        return stats.json_dict({
            "reference": self.reference, "reference_index": self.reference_index,
            "seeds": list(self.seeds), "dm_variant": self.dm_variant, "naive": self.naive,
            "confidence": self.confidence, "notes": self.notes, "headline": self.headline,
            "baselines": None if self.baselines is None else self.baselines.to_dict(),
            "origins": self.origins,
            "models": [m.to_dict() for m in self.models],
        })

    def numeric_table(self) -> pd.DataFrame:
        """Mean values per model plus the naive row (NaN where undefined), for highlighting."""
        rows: dict[str, dict[str, float]] = {}
        for m in self.models:
            row = {label: _nan(m.mean.get(key)) for key, label in LABELS.items()}
            row["Diverged"] = _nan(m.divergence_rate)
            row["ΔRMSE"] = _nan(None if m.vs_reference is None else m.vs_reference.rmse.mean)
            rows[m.name] = row
        rows[NAIVE_LABEL] = {label: _nan(self.naive.get(key)) for key, label in LABELS.items()}
        for label, value in self._other_baselines():
            rows[label] = {"RMSE": value}
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(BEST)).astype(float)
        frame.index.name = "Model"
        return frame

    def best(self) -> dict[str, str]:
        """Column label -> row label of the best mean value, by `BEST` (naive row included)."""
        result: dict[str, str] = {}
        for label, values in self.numeric_table().items():
            rule, values = BEST.get(str(label)), values.dropna()
            if rule is None or values.empty:
                continue
            key = {"min": values, "max": -values, "zero": values.abs(), "one": (values - 1).abs()}[rule]
            result[str(label)] = str(key.idxmin())
        return result

    def table(self) -> pd.DataFrame:
        """Display strings: "mean ± std" per metric, the difference to the reference with its
        interval, wins and DM p; one row per model and the naive row last."""
        rows: dict[str, dict[str, str]] = {}
        for m in self.models:
            row = {("Seeds" if self.origins <= 1 else "Runs"): f"{m.seeds_done} of {m.seeds_total}", "Diverged": (
                f"{m.seeds_diverged} of {m.seeds_done + m.seeds_diverged}"
                if m.seeds_done + m.seeds_diverged else "—")}
            for key, label in LABELS.items():
                decimals = self._decimals_for(key, m.mean.get(key))
                text = _fmt(m.mean.get(key), decimals)
                if key == "params" and m.mean.get(key) is not None:
                    text = f"{round(m.mean.get(key) or 0):,}"
                elif m.std.get(key) is not None and key != "params":
                    text += " ± " + _fmt(m.std.get(key), decimals)
                row[label] = text
            row.update(self._versus(m))
            rows[m.name] = row
        naive = {label: _fmt(self.naive.get(key), self._decimals_for(key, None))
                 for key, label in LABELS.items()}
        rows[NAIVE_LABEL] = {**{k: "—" for k in rows[self.reference]}, **naive}
        for label, value in self._other_baselines():
            rows[label] = {**{k: "—" for k in rows[self.reference]}, "RMSE": _fmt(value, self.decimals)}
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=[c.label for c in self.columns()])
        frame.index.name = "Model"
        return frame

    def columns(self) -> tuple[TableColumn, ...]:
        """The columns of `table`, in order."""
        return (
            TableColumn("Seeds" if self.origins <= 1 else "Runs", "count"),
            TableColumn("Diverged", "count"),
            *(TableColumn(label, "cost" if key in _COST_METRICS else "metric", _HELP.get(key, ""))
              for key, label in LABELS.items()),
            TableColumn(self._delta, "versus"),
            TableColumn("Lower RMSE on", "versus"),
            TableColumn("DM p", "versus", _HELP["dm"]),
        )

    def per_seed_table(self) -> pd.DataFrame:
        """One row per model × seed (× origin in a backtest): status and the raw metric values
        (NaN where missing)."""
        origin = ["Origin"] if self.origins > 1 else []
        records = [
            {"Model": m.name, "Seed": seed, **({"Origin": o + 1} if origin else {}), "Status": row.label,
             **{label: _nan(row.get(key)) for key, label in LABELS.items()}}
            for m in self.models for (seed, o), row in m.per_seed.items()
        ]
        return pd.DataFrame.from_records(records, columns=["Model", "Seed", *origin, "Status", *LABELS.values()])

    def _other_baselines(self) -> list[tuple[str, float]]:
        """(row label, RMSE) of the other baselines and the statistical references that could be scored."""
        if self.baselines is None:
            return []
        return [(f"{forecasters.label(name)} (reference)" if name in REFERENCES else f"{name} (baseline)", value)
                for name, value in self.baselines.rmse.items() if name != "naive" and value is not None]

    def _decimals_for(self, key: str, value: float | None) -> int:
        if key in _ERROR_METRICS:
            return self.decimals
        if key == "params":
            return 0
        if key == "seconds_per_epoch" and value:
            return stats.decimals_for(abs(value))
        return 3

    @property
    def _delta(self) -> str:
        return f"ΔRMSE ({self.confidence:.0%} CI)"

    def _versus(self, m: ModelSummary) -> dict[str, str]:
        vs = m.vs_reference
        if vs is None:  # the reference itself, or a model with no finished run to compare
            return {self._delta: "reference" if m.is_reference else "no finished run", "Lower RMSE on": "—",
                    "DM p": "—"}
        diff, dm = vs.rmse, vs.dm
        shown = diff_decimals(diff, self.decimals)
        text = _fmt(diff.mean, shown, signed=True)
        if diff.low is not None:
            text += f" ({_fmt(diff.low, shown)} to {_fmt(diff.high, shown)})"
        wins = f"{diff.wins} of {diff.n}" if diff.n else "—"
        p = "—" if dm.p_value is None else stats.format_p(dm.p_value).removeprefix("p = ").removeprefix("p ")
        return {self._delta: text, "Lower RMSE on": wins, "DM p": p}


def _nan(value: object) -> float:
    x = finite_or_none(value)
    return math.nan if x is None else x
