"""Compare the models of one experiment over seeds and backtest origins: tables, paired
differences, verdicts.

`summarize(spec, outcomes)` takes the runs keyed by (model index, seed, origin) — or (model
index, seed) for one origin — and returns a `Comparison`: mean ± std per model over the runs that
finished without diverging, per-run values, the difference to a reference model with a
t-interval over the paired (seed, origin) runs, a Diebold–Mariano test on the seed-averaged test
forecasts pooled over the origins, and one plain verdict sentence per model that says "better"
or "worse" only when the interval excludes zero. With one origin a run is a seed, and the
sentences say "seeds"; with several they say "runs".
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping

from ..num import finite_or_none
from ..outcome import Metrics, RunOutcome, RunStatus
from ..spec import ExperimentSpec, RunKey
from . import stats
from ._baselines import Baselines, Standing, baselines, beats, headline, naive_row
from ._comparison import (
    BEST,
    LABELS,
    NAIVE_LABEL,
    NOT_FINISHED,
    Comparison,
    MetricValues,
    ModelSummary,
    Replicate,
    SeedRow,
    TableColumn,
    Versus,
)
from ._horizon import horizon_verdicts
from ._verdicts import MIN_DM_POINTS, early_stop_warnings, reference_verdict, seeds_text, verdict
from .backtest import backtest

__all__ = [
    "BEST", "LABELS", "MIN_DM_POINTS", "MIN_SEEDS", "NAIVE_LABEL", "NOT_FINISHED",
    "Comparison", "MetricValues", "ModelSummary", "Replicate", "SeedRow", "TableColumn", "Versus", "forecast_band",
    "run_key", "summarize",
]

MIN_SEEDS = 3  # below this many paired seeds the verdict warns


def forecast_band(outcomes: Iterable[RunOutcome | None]) -> stats.ForecastBand:
    """Seed-averaged test forecast with its min–max band over the runs that finished (done),
    see `stats.forecast_band`."""
    return stats.forecast_band([o.test for o in outcomes if _done(o) and o is not None and o.test is not None])


def _done(run: RunOutcome | None) -> bool:
    return run is not None and run.status == RunStatus.DONE


def _metrics(run: RunOutcome) -> Metrics:
    return run.metrics or Metrics()


def run_key(key: tuple[int, ...]) -> RunKey:
    """The run key of `key`, with or without its origin (0 when missing)."""
    return RunKey(key[0], key[1], key[2] if len(key) > 2 else 0)


def summarize(
    spec: ExperimentSpec,
    outcomes: Mapping[tuple[int, int], RunOutcome | None] | Mapping[RunKey, RunOutcome | None],
    reference: int | str = 0,
    confidence: float = 0.95,
) -> Comparison:
    """Compare every model of `spec` with the `reference` model (index or name) over the seeds
    and backtest origins.

    `outcomes` maps (model index, seed, origin) — or (model index, seed) for a single origin — to
    a run's outcome; a missing key is a run that did not finish (queued, running, failed): it is
    counted, never an error. Runs with status "diverged" or "cancelled" are left out of means
    and differences.
    """
    names = [m.name for m in spec.models]
    if isinstance(reference, str) and reference in names:
        reference = names.index(reference)
    if isinstance(reference, bool) or not isinstance(reference, int) or not 0 <= reference < len(names):
        raise ValueError(
            f"Received an invalid value for argument `reference`, expected a model index from 0 to "
            f"{len(names) - 1} or a model name, got {reference!r}."
        )
    # None = not finished
    present = {run_key(key): run for key, run in outcomes.items() if run is not None}
    seeds, origins = spec.training.seeds, spec.backtest.origins
    unit = "seed" if origins == 1 else "run"
    replicates = [(s, o) for s in seeds for o in range(origins)]
    runs = {i: {r: present.get(RunKey(i, *r)) for r in replicates} for i in range(len(names))}
    by_origin: dict[int, list[RunOutcome]] = {}
    for (_, _, o), run in present.items():
        by_origin.setdefault(o, []).append(run)
    naive, notes = naive_row(by_origin, LABELS)
    rmses = [finite_or_none(_metrics(o).rmse) for o in present.values() if o.status == RunStatus.DONE]
    scale = naive.get("rmse") or (statistics.median([r for r in rmses if r is not None] or [0.0]) or None)
    decimals = stats.decimals_for(scale)
    variant = stats.dm_variant()
    stray = len(set(present) - set(spec.backtest_runs()))
    per = "per seed" if origins == 1 else "per run (one seed at one backtest origin)"
    notes = [
        f"Means and differences use the {unit}s that finished without diverging; a difference is "
        f"model − reference {per}, over the {unit}s where both finished, with a {confidence:.0%} "
        "Student-t interval (n − 1 degrees of freedom).",
        f"DM test on the seed-averaged test forecasts{' of every origin' if origins > 1 else ''}: {variant}.",
        *notes,
        *([f"{stray} stored results do not belong to this experiment's models, seeds and origins; ignored."]
          if stray else []),
    ]
    ref_band = forecast_band(runs[reference].values())
    base = baselines(by_origin)
    models = [
        _summarize_model(i, names, runs, reference, ref_band, naive, decimals, confidence, base,
                         spec.training.epochs, unit)
        for i in range(len(names))
    ]
    over = "the seeds" if origins == 1 else f"the runs ({len(seeds)} seeds × {origins} backtest origins)"
    summary = backtest(spec, present)
    steps = horizon_verdicts(summary.horizons, runs, confidence)
    for m in models:
        m.horizon, m.rmse_h, m.beats_naive_h = steps.steps, steps.rmse.get(m.index), steps.beats.get(m.index)
    first = headline([Standing(m.name, m.seeds_done, m.beats_naive, m.mean.get("rmse"), m.beats_reference)
                      for m in models], base, decimals, over, unit, " on the next step" if steps.scored else "")
    if steps.scored:
        first += " " + steps.headline(names, {m.index: m.seeds_done for m in models}, decimals, over, unit)
    if base.best is not None:
        notes.insert(0, "Baselines: a model beats the best baseline when the "
                     f"{confidence:.0%} interval of its {per} RMSE minus the baseline's "
                     f"{'on that origin ' if origins > 1 else ''}lies below 0; "
                     "seasonal naive repeats the value one season ago (season from the data's frequency), "
                     "drift extends the average change so far.")
    if origins > 1:
        notes.insert(0, f"Backtest: {origins} forecast origins on an expanding window, each model trained "
                     "on every origin with every seed and the same splits; scaling is fitted per origin on "
                     "its training part only; the test periods follow each other and never overlap.")
    return Comparison(names[reference], reference, seeds, models, naive, notes, decimals, variant,
                      confidence, base, first, summary)


def _seed_row(run: RunOutcome | None) -> SeedRow:
    if run is None:
        return SeedRow(None, MetricValues())
    values: dict[str, float | None] = {k: finite_or_none(run.metrics.get(k)) if run.metrics and k in Metrics.NAMES
                                       else None for k in LABELS}
    values.update(seconds_per_epoch=finite_or_none(run.seconds_per_epoch), params=run.params or None)
    return SeedRow(run.status, MetricValues(**values))


def _versus(ref_name: str, paired: list[Replicate], mine: list[SeedRow], theirs: list[SeedRow], dm: stats.DMResult,
            confidence: float) -> Versus:
    def diff(metric: str) -> stats.PairedDiff:
        return stats.paired_difference([r.get(metric) for r in mine], [r.get(metric) for r in theirs], confidence)

    return Versus(ref_name, tuple(paired), diff("rmse"), diff("mae"), dm)


def _summarize_model(
    i: int, names: list[str], runs: dict[int, dict[Replicate, RunOutcome | None]], ref: int,
    ref_band: stats.ForecastBand, naive: dict[str, float | None], decimals: int, confidence: float,
    base: Baselines, planned: int, unit: str = "seed",
) -> ModelSummary:
    mine, theirs = runs[i], runs[ref]
    total = len(mine)
    done = [s for s, o in mine.items() if _done(o)]
    diverged = sum(1 for o in mine.values() if o is not None and o.status == RunStatus.DIVERGED)
    rate = diverged / (len(done) + diverged) if done or diverged else None
    per_seed = {s: _seed_row(o) for s, o in mine.items()}
    spread = {key: stats.mean_std(per_seed[s].get(key) for s in done) for key in LABELS}
    params = next((float(o.params) for o in mine.values() if o is not None and o.params), None)
    mean = MetricValues(**{key: m for key, (m, _) in spread.items()} | {"params": params})
    std = MetricValues(**{key: s for key, (_, s) in spread.items()} | {"params": None})
    warnings = []
    if diverged and diverged < total:
        warnings.append(f"{diverged} of {seeds_text(total, unit)} diverged and are left out")
    if total - len(done) - diverged:
        warnings.append(f"{total - len(done) - diverged} of {seeds_text(total, unit)} did not finish "
                        "(queued, running, failed or cancelled) and are left out")
    vs: Versus | None = None
    name, ref_name = names[i], names[ref]
    rmse_mean, rmse_std, naive_rmse = mean.rmse, std.rmse, naive.get("rmse")
    if i == ref:
        text = reference_verdict(name, rmse_mean, rmse_std, len(done), diverged, total, naive_rmse, decimals,
                                 unit)
        if 0 < len(done) < MIN_SEEDS:
            warnings.append(f"only {seeds_text(len(done), unit)}: too few to tell noise from a difference")
    elif not done:
        text = reference_verdict(name, rmse_mean, rmse_std, 0, diverged, total, naive_rmse, decimals, unit)
    else:
        paired = [s for s in done if _done(theirs[s])]
        dm = _dm(forecast_band(mine.values()), ref_band)
        vs = _versus(ref_name, paired, [per_seed[s] for s in paired], [_seed_row(theirs[s]) for s in paired], dm,
                     confidence)
        n = vs.rmse.n
        if 0 < n < MIN_SEEDS:
            warnings.append(f"only {seeds_text(n, unit)}: too few to tell noise from a difference")
        if 0 < dm.n < MIN_DM_POINTS:
            warnings.append(f"only {dm.n} test points: too few for the Diebold–Mariano test, "
                            "so it is left out of the verdict")
        if not any(_done(o) for o in theirs.values()):
            text = (f"{name}: not compared, because the reference {ref_name} has no {unit} that "
                    "finished without diverging.")
        else:
            text = verdict(name, ref_name, vs.rmse, dm, decimals, unit)
    rmse_runs = [(per_seed[r].get("rmse"), r[1]) for r in done]
    vs_base, beats_base = beats(rmse_runs, base, confidence)
    beats_reference = beats(rmse_runs, base.references(), confidence)[1]
    warnings += early_stop_warnings(mine, done, planned, unit)
    origins = len({o for _, o in mine})
    return ModelSummary(name, i, i == ref, total, len(done), diverged, total - len(done) - diverged,
                        rate, mean, std, per_seed, vs, text, warnings, beats_base, vs_base, origins,
                        beats_reference)


def _dm(band: stats.ForecastBand, ref_band: stats.ForecastBand) -> stats.DMResult:
    """DM test of the model's seed-averaged forecast against the reference's, on common times."""
    ours = dict(zip(band.time, band.mean, strict=True))
    errors_model, errors_ref = [], []
    for t, f, a in zip(ref_band.time, ref_band.mean, ref_band.actual, strict=True):
        if t in ours and a is not None:
            errors_model.append(ours[t] - a)
            errors_ref.append(f - a)
    return stats.diebold_mariano(errors_model, errors_ref)
