"""Compare the models of one experiment over seeds: tables, paired differences, verdicts.

`summarize(spec, outcomes)` takes the runs keyed by (model index, seed) and returns a
`Comparison`: mean ± std per model over the seeds that finished without diverging, per-seed
values, the difference to a reference model with a t-interval over seeds (paired), a
Diebold–Mariano test on the seed-averaged test forecasts, and one plain verdict sentence per
model that says "better" or "worse" only when the interval excludes zero.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..outcome import RunOutcome
from ..spec import ExperimentSpec
from . import stats
from .metrics import mae, mfe

__all__ = [
    "BEST", "LABELS", "MIN_DM_POINTS", "MIN_SEEDS", "NAIVE_LABEL",
    "Comparison", "ModelSummary", "forecast_band", "summarize",
]

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
MIN_SEEDS = 3  # below this many paired seeds the verdict warns
MIN_DM_POINTS = 10  # below this many test points the DM test is left out of the verdict
_ERROR_METRICS = ("rmse", "mae", "mfe")  # in the series' units, formatted to its scale
_NOT_FINISHED = "not finished"
_finite, _fmt = stats.finite_or_none, stats.format_number


def _seeds(n: int) -> str:
    return f"{n} seed" if n == 1 else f"{n} seeds"


def forecast_band(outcomes: Iterable[RunOutcome | None]) -> dict[str, Any]:
    """Seed-averaged test forecast with its min–max band over the runs that finished ("done").

    Returns {"time", "mean", "low", "high", "actual", "n"}, see `stats.forecast_band`.
    """
    return stats.forecast_band([o.test for o in outcomes if o is not None and o.status == "done"])


@dataclass
class ModelSummary:
    """One model over its seeds. `mean`/`std`/`per_seed` use the metric keys of `LABELS`;
    `vs_reference` is None for the reference itself; `warnings` are short lower-case clauses."""

    name: str
    index: int
    is_reference: bool
    seeds_total: int
    seeds_done: int
    seeds_diverged: int
    seeds_unfinished: int
    divergence_rate: float | None
    mean: dict[str, float | None]
    std: dict[str, float | None]
    per_seed: dict[int, dict[str, Any]]
    vs_reference: dict[str, Any] | None
    verdict: str
    warnings: list[str] = field(default_factory=list)

    def message(self) -> str:
        """The verdict followed by the warnings as sentences."""
        return " ".join([self.verdict, *(w[0].upper() + w[1:] + "." for w in self.warnings)])


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

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (no NaN: undefined numbers are None)."""
        return stats.json_safe({
            "reference": self.reference, "reference_index": self.reference_index,
            "seeds": list(self.seeds), "dm_variant": self.dm_variant, "naive": self.naive,
            "confidence": self.confidence, "notes": self.notes,
            "models": [vars(m) for m in self.models],
        })

    def numeric_table(self) -> pd.DataFrame:
        """Mean values per model plus the naive row (NaN where undefined), for highlighting."""
        rows: dict[str, dict[str, float]] = {}
        for m in self.models:
            row = {label: _nan(m.mean.get(key)) for key, label in LABELS.items()}
            row["Diverged"] = _nan(m.divergence_rate)
            row["ΔRMSE"] = _nan((m.vs_reference or {}).get("rmse", {}).get("mean"))
            rows[m.name] = row
        rows[NAIVE_LABEL] = {label: _nan(self.naive.get(key)) for key, label in LABELS.items()}
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
            row = {"Seeds": f"{m.seeds_done} of {m.seeds_total}", "Diverged": (
                f"{m.seeds_diverged} of {m.seeds_done + m.seeds_diverged}"
                if m.seeds_done + m.seeds_diverged else "—")}
            for key, label in LABELS.items():
                decimals = self._decimals_for(key, m.mean.get(key))
                text = _fmt(m.mean.get(key), decimals)
                if key == "params" and m.mean.get(key) is not None:
                    text = f"{round(m.mean[key] or 0):,}"
                elif m.std.get(key) is not None and key != "params":
                    text += " ± " + _fmt(m.std[key], decimals)
                row[label] = text
            row.update(self._versus(m))
            rows[m.name] = row
        naive = {label: _fmt(self.naive.get(key), self._decimals_for(key, None))
                 for key, label in LABELS.items()}
        rows[NAIVE_LABEL] = {**{k: "—" for k in rows[self.reference]}, **naive}
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "Model"
        return frame

    def per_seed_table(self) -> pd.DataFrame:
        """One row per model × seed: status and the raw metric values (NaN where missing)."""
        records = [
            {"Model": m.name, "Seed": seed, "Status": row["status"],
             **{label: _nan(row.get(key)) for key, label in LABELS.items()}}
            for m in self.models for seed, row in m.per_seed.items()
        ]
        return pd.DataFrame.from_records(records, columns=["Model", "Seed", "Status", *LABELS.values()])

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
        if vs is None:
            return {self._delta: "reference", "Lower RMSE on": "—", "DM p": "—"}
        diff, dm = vs["rmse"], vs["dm"]
        text = _fmt(diff["mean"], self.decimals, signed=True)
        if diff["low"] is not None:
            low, high = (_fmt(diff[k], self.decimals) for k in ("low", "high"))
            text += f" ({low} to {high})"
        wins = f"{diff['wins']} of {diff['n']}" if diff["n"] else "—"
        p = "—" if dm["p_value"] is None else stats.format_p(dm["p_value"]).removeprefix("p = ").removeprefix("p ")
        return {self._delta: text, "Lower RMSE on": wins, "DM p": p}


def _done(run: RunOutcome | None) -> bool:
    return run is not None and run.status == "done"


def _nan(value: object) -> float:
    x = _finite(value)
    return math.nan if x is None else x


def summarize(
    spec: ExperimentSpec,
    outcomes: Mapping[tuple[int, int], RunOutcome | None],
    reference: int | str = 0,
    confidence: float = 0.95,
) -> Comparison:
    """Compare every model of `spec` with the `reference` model (index or name) over the seeds.

    `outcomes` maps (model index, seed) to a run's outcome; a missing key is a run that did not
    finish (queued, running, failed): it is counted, never an error. Runs with status
    "diverged" or "cancelled" are left out of means and differences.
    """
    names = [m.name for m in spec.models]
    if isinstance(reference, str) and reference in names:
        reference = names.index(reference)
    if isinstance(reference, bool) or not isinstance(reference, int) or not 0 <= reference < len(names):
        raise ValueError(
            f"Received an invalid value for argument `reference`, expected a model index from 0 to "
            f"{len(names) - 1} or a model name, got {reference!r}."
        )
    outcomes = {key: run for key, run in outcomes.items() if run is not None}  # None = not finished
    seeds = spec.training.seeds
    runs = {i: {s: outcomes.get((i, s)) for s in seeds} for i in range(len(names))}
    naive, notes = _naive(list(outcomes.values()))
    rmses = [_finite(o.metrics.get("rmse")) for o in outcomes.values() if o.status == "done"]
    scale = naive.get("rmse") or (statistics.median([r for r in rmses if r is not None] or [0.0]) or None)
    decimals = stats.decimals_for(scale)
    variant = stats.dm_variant()
    stray = len(set(outcomes) - set(spec.runs()))
    notes = [
        "Means and differences use the seeds that finished without diverging; a difference is "
        f"model − reference per seed, over the seeds where both finished, with a {confidence:.0%} "
        "Student-t interval (n − 1 degrees of freedom).",
        f"DM test on the seed-averaged test forecasts: {variant}.",
        *notes,
        *([f"{stray} stored results do not belong to this experiment's models and seeds; ignored."]
          if stray else []),
    ]
    ref_band = forecast_band(runs[reference].values())
    models = [
        _summarize_model(i, names, runs, reference, ref_band, naive, decimals, confidence)
        for i in range(len(names))
    ]
    return Comparison(names[reference], reference, seeds, models, naive, notes, decimals, variant,
                      confidence)


def _naive(outcomes: list[RunOutcome]) -> tuple[dict[str, float | None], list[str]]:
    """The naive row (RMSE from the runs' metrics, MAE/MFE from their test lists) and notes."""
    values = [_finite(o.metrics.get("naive_rmse")) for o in outcomes]
    found = [v for v in values if v is not None]
    naive: dict[str, float | None] = dict.fromkeys(LABELS)
    naive.update(rmse=found[0] if found else None, skill=0.0 if found else None)
    notes = []
    if found and max(found) - min(found) > 1e-9 * max(1.0, abs(max(found))):
        notes.append("The naive RMSE differs between runs: the runs may not share one split.")
    for o in outcomes:
        actual, guess = o.test.get("actual") or [], o.test.get("naive") or []
        pairs = [(_finite(g), _finite(a)) for g, a in zip(guess, actual, strict=False)]
        pairs = [(g, a) for g, a in pairs if g is not None and a is not None]
        if pairs and len(guess) == len(actual):
            g, a = [p[0] for p in pairs], [p[1] for p in pairs]
            naive.update(mae=mae(g, a), mfe=mfe(g, a))  # type: ignore[arg-type]
            break
    if naive["mae"] is None:
        naive["mae"] = _finite(next((o.metrics.get("naive_mae") for o in outcomes
                                            if o.metrics.get("naive_mae") is not None), None))
    return naive, notes


def _seed_row(run: RunOutcome | None) -> dict[str, Any]:
    if run is None:
        return {"status": _NOT_FINISHED, **dict.fromkeys(LABELS)}
    row: dict[str, Any] = {"status": run.status}
    row.update({k: _finite(run.metrics.get(k)) for k in LABELS if k in run.metrics})
    row["seconds_per_epoch"] = _finite(run.seconds_per_epoch)
    row["params"] = run.params or None
    return {k: row.get(k) for k in ("status", *LABELS)}


def _summarize_model(
    i: int, names: list[str], runs: dict[int, dict[int, RunOutcome | None]], ref: int,
    ref_band: dict[str, Any], naive: dict[str, float | None], decimals: int, confidence: float,
) -> ModelSummary:
    mine, theirs = runs[i], runs[ref]
    total = len(mine)
    done = [s for s, o in mine.items() if _done(o)]
    diverged = sum(1 for o in mine.values() if o is not None and o.status == "diverged")
    rate = diverged / (len(done) + diverged) if done or diverged else None
    per_seed = {s: _seed_row(o) for s, o in mine.items()}
    mean: dict[str, float | None] = {}
    std: dict[str, float | None] = {}
    for key in LABELS:
        mean[key], std[key] = stats.mean_std(per_seed[s][key] for s in done)
    mean["params"] = next((float(o.params) for o in mine.values() if o is not None and o.params), None)
    std["params"] = None
    warnings = []
    if diverged and diverged < total:
        warnings.append(f"{diverged} of {total} seeds diverged and are left out")
    if total - len(done) - diverged:
        warnings.append(f"{total - len(done) - diverged} of {total} seeds did not finish "
                        "(queued, running, failed or cancelled) and are left out")
    vs: dict[str, Any] | None = None
    name, ref_name = names[i], names[ref]
    if i == ref:
        verdict = _reference_verdict(name, mean, std, len(done), diverged, total, naive, decimals)
        if 0 < len(done) < MIN_SEEDS:
            warnings.append(f"only {_seeds(len(done))}: too few to tell noise from a difference")
    elif not done:
        verdict = _reference_verdict(name, mean, std, 0, diverged, total, naive, decimals)
    else:
        paired = [s for s in done if _done(theirs[s])]
        diffs = {
            key: stats.paired_difference([per_seed[s][key] for s in paired],
                                   [_seed_row(theirs[s])[key] for s in paired], confidence)
            for key in ("rmse", "mae")
        }
        dm = _dm(forecast_band(mine.values()), ref_band)
        n = diffs["rmse"].n
        if 0 < n < MIN_SEEDS:
            warnings.append(f"only {_seeds(n)}: too few to tell noise from a difference")
        if 0 < dm.n < MIN_DM_POINTS:
            warnings.append(f"only {dm.n} test points: too few for the Diebold–Mariano test, "
                            "so it is left out of the verdict")
        vs = {"reference": ref_name, "seeds": paired, "rmse": diffs["rmse"].to_dict(),
              "mae": diffs["mae"].to_dict(), "wins": diffs["rmse"].wins, "n": n,
              "win_share": diffs["rmse"].wins / n if n else None,
              "dm": dm.to_dict(), "dm_variant": dm.variant}
        if not any(_done(o) for o in theirs.values()):
            verdict = (f"{name}: not compared, because the reference {ref_name} has no seed that "
                       "finished without diverging.")
        else:
            verdict = _verdict(name, ref_name, diffs["rmse"], dm, decimals)
    return ModelSummary(name, i, i == ref, total, len(done), diverged, total - len(done) - diverged,
                        rate, mean, std, per_seed, vs, verdict, warnings)


def _dm(band: dict[str, Any], ref_band: dict[str, Any]) -> stats.DMResult:
    """DM test of the model's seed-averaged forecast against the reference's, on common times."""
    ours = dict(zip(band["time"], band["mean"], strict=True))
    errors_model, errors_ref = [], []
    for t, f, a in zip(ref_band["time"], ref_band["mean"], ref_band["actual"], strict=True):
        if t in ours and a is not None:
            errors_model.append(ours[t] - a)
            errors_ref.append(f - a)
    return stats.diebold_mariano(errors_model, errors_ref)


def _reference_verdict(name: str, mean: dict[str, float | None], std: dict[str, float | None],
                       done: int, diverged: int, total: int, naive: dict[str, float | None],
                       decimals: int) -> str:
    if not done:
        if diverged == total:
            return f"{name}: diverged on all {_seeds(total)} — no forecast to compare."
        if diverged:
            return f"{name}: diverged on {diverged} of {_seeds(total)} and no other seed finished."
        return f"{name}: no finished run yet."
    rmse = _fmt(mean["rmse"], decimals)
    if std["rmse"] is not None:
        rmse += " ± " + _fmt(std["rmse"], decimals)
    base = f" (naive last-value RMSE {_fmt(naive['rmse'], decimals)})" if naive["rmse"] else ""
    return f"{name}: the reference — RMSE {rmse} over {_seeds(done)}{base}."


def _verdict(name: str, ref: str, diff: stats.PairedDiff, dm: stats.DMResult, decimals: int) -> str:
    """One sentence on the RMSE difference; "better"/"worse" only when the CI excludes 0."""
    if diff.n == 0 or diff.mean is None:
        return f"{name}: not compared with {ref}: no seed on which both finished."

    def num(x: float | None) -> str:
        return _fmt(x, decimals)

    word = "higher" if diff.mean > 0 else "lower"
    # A mean that rounds to 0 at the data's scale (or is float noise) is "the same".
    than = f"{num(abs(diff.mean))} {word} than" if float(num(abs(diff.mean))) else "on average the same as"
    if diff.n == 1:
        return (f"{name}: RMSE {than} {ref} on the one seed where both finished (no confidence "
                "interval from a single seed).")
    if diff.mean == 0 and diff.sd == 0:
        return f"{name}: RMSE identical to {ref} on all {diff.n} seeds — no difference on this data."
    assert diff.low is not None and diff.high is not None
    low, high = (diff.low, diff.high) if diff.mean >= 0 else (-diff.high, -diff.low)
    dm_ok = dm.p_value is not None and dm.n >= MIN_DM_POINTS
    dm_text = f"; DM {stats.format_p(dm.p_value)}" if dm_ok and dm.p_value is not None else ""
    dm_significant = dm_ok and dm.p_value is not None and dm.p_value < 0.05
    ci = f"{diff.confidence:.0%} CI {num(low)} to {num(high)}"
    if diff.excludes_zero and than.startswith("on average"):
        return f"{name}: RMSE {than} {ref} ({ci}) — a consistent but negligible difference on this data."
    if not diff.excludes_zero:
        tail = "within seed-to-seed noise on this data"
        if dm_significant:
            tail += (", although the DM test on the seed-averaged forecasts finds a difference "
                     "(it ignores seed-to-seed variation)")
        wins = f"lower RMSE on {diff.wins} of {diff.n} seeds"
        return f"{name}: RMSE {than} {ref} ({ci}, {wins}{dm_text}) — {tail}."
    better = diff.mean < 0
    count = diff.wins if better else diff.losses
    tail = "a real improvement on this data" if better else "a real deterioration on this data"
    if dm_significant and (dm.statistic or 0) * diff.mean < 0:
        tail += ", though the DM test on the seed-averaged forecasts points the other way"
    elif dm_ok and not dm_significant:
        tail += ", though the DM test on the seed-averaged forecasts does not confirm it"
    return (f"{name}: RMSE {than} {ref} ({ci}, {'better' if better else 'worse'} on {count} of "
            f"{diff.n} seeds{dm_text}) — {tail}.")
