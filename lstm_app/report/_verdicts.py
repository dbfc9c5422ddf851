"""The one plain sentence per model that `compare.summarize` writes (see `compare`)."""

from __future__ import annotations

from . import stats

__all__ = ["MIN_DM_POINTS", "reference_verdict", "seeds_text", "verdict"]

MIN_DM_POINTS = 10  # below this many test points the DM test is left out of the verdict
_fmt = stats.format_number


def seeds_text(n: int) -> str:
    return f"{n} seed" if n == 1 else f"{n} seeds"


def reference_verdict(name: str, rmse_mean: float | None, rmse_std: float | None, done: int, diverged: int,
                      total: int, naive_rmse: float | None, decimals: int) -> str:
    """The reference's sentence (or any model's with no finished seed): its RMSE over the seeds."""
    if not done:
        if diverged == total:
            return f"{name}: diverged on all {seeds_text(total)} — no forecast to compare."
        if diverged:
            return f"{name}: diverged on {diverged} of {seeds_text(total)} and no other seed finished."
        return f"{name}: no finished run yet."
    rmse = _fmt(rmse_mean, decimals)
    if rmse_std is not None:
        rmse += " ± " + _fmt(rmse_std, decimals)
    base = f" (naive last-value RMSE {_fmt(naive_rmse, decimals)})" if naive_rmse else ""
    return f"{name}: the reference — RMSE {rmse} over {seeds_text(done)}{base}."


def verdict(name: str, ref: str, diff: stats.PairedDiff, dm: stats.DMResult, decimals: int) -> str:
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
