"""The one plain sentence per model that `compare.summarize` writes (see `compare`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..num import finite_or_none
from ..outcome import RunOutcome
from . import stats
from ._baselines import MIN_SEEDS, seeds_to_resolve

__all__ = ["MIN_DM_POINTS", "diff_decimals", "early_stop_warnings", "reference_verdict", "seeds_text", "verdict"]

MIN_DM_POINTS = 10  # below this many test points the DM test is left out of the verdict
_fmt = stats.format_number


def seeds_text(n: int, unit: str = "seed") -> str:
    """"1 seed", "3 seeds"; with `unit` "run" (a backtest: one seed at one origin), "3 runs"."""
    return f"{n} {unit}" if n == 1 else f"{n:,} {unit}s"


def reference_verdict(name: str, rmse_mean: float | None, rmse_std: float | None, done: int, diverged: int,
                      total: int, naive_rmse: float | None, decimals: int, unit: str = "seed") -> str:
    """The reference's sentence (or any model's with no finished seed): its RMSE over the seeds."""
    if not done:
        if diverged == total:
            return f"{name}: diverged on all {seeds_text(total, unit)} — no forecast to compare."
        if diverged:
            return f"{name}: diverged on {diverged} of {seeds_text(total, unit)} and no other {unit} finished."
        return f"{name}: no finished run yet."
    rmse = _fmt(rmse_mean, decimals)
    if rmse_std is not None:
        rmse += " ± " + _fmt(rmse_std, decimals)
    base = f" (naive last-value RMSE {_fmt(naive_rmse, decimals)})" if naive_rmse else ""
    return f"{name}: the reference — RMSE {rmse} over {seeds_text(done, unit)}{base}."


def diff_decimals(diff: stats.PairedDiff, decimals: int) -> int:
    """Decimals for a difference and its interval: the data's, or up to 2 more when the interval
    is narrow at that scale (so "−0.7 (−1.8 to 0.4)" does not read "−1 (−2 to 0)")."""
    if diff.low is None or diff.high is None or not diff.high > diff.low:
        return decimals
    return max(decimals, min(decimals + 2, stats.decimals_for(diff.high - diff.low) - 1))


def verdict(name: str, ref: str, diff: stats.PairedDiff, dm: stats.DMResult, decimals: int,
            unit: str = "seed") -> str:
    """One sentence on the RMSE difference, resting on one test: the paired t-interval over seeds
    ("better"/"worse" only when it excludes 0). `dm` is not quoted here: it is supporting detail."""
    if diff.n == 0 or diff.mean is None:
        return f"{name}: not compared with {ref}: no {unit} on which both finished."

    shown = diff_decimals(diff, decimals)

    def num(x: float | None) -> str:
        return _fmt(x, shown)

    word = "higher" if diff.mean > 0 else "lower"
    # A mean that rounds to 0 at the data's scale (or is float noise) is "the same".
    same = not float(_fmt(abs(diff.mean), decimals))
    than = "on average the same as" if same else f"{num(abs(diff.mean))} {word} than"
    if diff.n == 1:
        return (f"{name}: RMSE {than} {ref} on the one {unit} where both finished (no confidence "
                f"interval from a single {unit}).")
    if diff.mean == 0 and diff.sd == 0:
        return f"{name}: RMSE identical to {ref} on all {seeds_text(diff.n, unit)} — no difference on this data."
    assert diff.low is not None and diff.high is not None
    low, high = (diff.low, diff.high) if diff.mean >= 0 else (-diff.high, -diff.low)
    # The sentence rests on this one paired interval over seeds; the DM test on the seed-averaged
    # forecasts is supporting detail in the table (its own column), so it can never contradict it.
    dm_text = ""
    ci = f"{diff.confidence:.0%} CI {num(low)} to {num(high)}"
    if diff.excludes_zero and than.startswith("on average"):
        return f"{name}: RMSE {than} {ref} ({ci}) — a consistent but negligible difference on this data."
    if not diff.excludes_zero:
        wins = f"lower RMSE on {diff.wins} of {seeds_text(diff.n, unit)}"
        need = seeds_to_resolve(diff)
        more = (f"; about {seeds_text(need, unit)} would tell a difference this size apart (80% power)"
                if need is not None and need > diff.n else "")
        noise = "seed-to-seed" if unit == "seed" else "run-to-run"
        return f"{name}: RMSE {than} {ref} ({ci}, {wins}{dm_text}) — within {noise} noise on this data{more}."
    better = diff.mean < 0
    count = diff.wins if better else diff.losses
    if diff.n < MIN_SEEDS:  # an interval from 2 pairs can exclude 0 by luck: no claim either way
        return (f"{name}: RMSE {than} {ref} ({ci}, lower RMSE on {diff.wins} of {seeds_text(diff.n, unit)}) — "
                f"too few {unit}s to tell; train at least {MIN_SEEDS}.")
    tail = "a real improvement on this data" if better else "a real deterioration on this data"
    return (f"{name}: RMSE {than} {ref} ({ci}, {'better' if better else 'worse'} on {count} of "
            f"{seeds_text(diff.n, unit)}{dm_text}) — {tail}.")


def early_stop_warnings(runs: Mapping[Any, RunOutcome | None], done: Sequence[Any], planned: int,
                        unit: str = "seed") -> list[str]:
    """A warning when early stopping kept an epoch in the first 10% of the planned ones."""
    early = []
    for seed in done:
        o = runs[seed]
        epochs = o.epochs if o is not None else []
        losses = [(e.val_loss, e.epoch) for e in epochs if finite_or_none(e.val_loss) is not None]
        if planned >= 10 and losses and len(losses) < planned:
            best = min(losses)[1]
            if best <= planned // 10:
                early.append((best, planned))
    if not early:
        return []
    best, planned = min(early)
    return [f"best at epoch {best} of {planned} on {len(early)} of {seeds_text(len(done), unit)}: the model "
            "barely learned — try a lower learning rate or more patience"]
