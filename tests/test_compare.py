"""Tests for lstm_app.report.compare on synthetic RunOutcome objects (no training)."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factories import make_outcome, make_test
from lstm_app.outcome import RunOutcome, RunStatus
from lstm_app.report.compare import LABELS, NAIVE_LABEL, Comparison, MetricValues, forecast_band, summarize
from lstm_app.report.stats import ForecastBand
from lstm_app.spec import DataSpec, ExperimentSpec, LayerSpec, ModelSpec, TrainingSpec

N = 20
TIMES = [f"2020-01-{d:02d}" for d in range(1, N + 1)]
SERIES = 100 + 10 * np.sin(0.5 * np.arange(N + 1))
PREVIOUS, ACTUAL = float(SERIES[0]), SERIES[1:]


def _pattern(seed: int, n: int = N) -> np.ndarray:
    """A fixed error shape with root-mean-square 1, so `rmse * pattern` has RMSE `rmse`."""
    p = np.random.default_rng(seed).normal(size=n)
    return p / np.sqrt(np.mean(p**2))


def run(rmse: float, pattern: np.ndarray | None = None, status: RunStatus = RunStatus.DONE,
        n: int = N) -> RunOutcome:
    """A finished run whose test forecast misses the actual series by `rmse * pattern`."""
    if status != RunStatus.DONE:
        return make_outcome(status, params=1234, diverged_epoch=3 if status == RunStatus.DIVERGED else None)
    errors = rmse * (_pattern(0, n) if pattern is None else pattern)
    actual = ACTUAL[:n]
    return make_outcome(time=TIMES[:n], actual=actual, forecast=actual + errors, previous=PREVIOUS, params=1234,
                        seconds_per_epoch=0.25)


def experiment(names: Sequence[str] = ("tanh", "ReLU between layers"),
               seeds: Sequence[int] = (0, 1, 2, 3, 4)) -> ExperimentSpec:
    models = tuple(ModelSpec(name=n, layers=(LayerSpec(8), LayerSpec(4))) for n in names)
    return ExperimentSpec(name="test", data=DataSpec(source="sample:x.csv", target="y"), models=models,
                          training=TrainingSpec(seeds=tuple(seeds)))


def outcomes_for(*per_model: Sequence[RunOutcome | None], seeds: Sequence[int] = (0, 1, 2, 3, 4)):
    return {(i, s): o for i, runs in enumerate(per_model) for s, o in zip(seeds, runs, strict=True)
            if o is not None}


REF_RMSE = [10, 11, 12, 10.5, 11.5]
REF = [run(r, _pattern(100)) for r in REF_RMSE]


def claims_winner(verdict: str) -> bool:
    text = verdict.lower()
    return any(w in text for w in ("better on", "worse on", "a real improvement", "a real deterioration"))


def test_clearly_better_model_is_called_a_real_improvement() -> None:
    better = [run(r, _pattern(200)) for r in (5, 5.5, 6, 5.2, 5.9)]
    comparison = summarize(experiment(), outcomes_for(REF, better))
    model = comparison.models[1]
    vs = model.vs_reference
    assert vs is not None
    assert vs.rmse.mean == pytest.approx(-5.48)
    assert vs.rmse.high is not None and vs.rmse.high < 0
    assert vs.rmse.wins == 5 and vs.rmse.n == 5 and vs.win_share == 1.0
    assert vs.dm.p_value is not None and vs.dm.p_value < 0.05 and vs.dm.statistic is not None and vs.dm.statistic < 0
    assert "Harvey–Leybourne–Newbold" in vs.dm.variant
    assert model.verdict.startswith("ReLU between layers: RMSE 5.48 lower than tanh (95% CI ")
    assert "better on 5 of 5 seeds)" in model.verdict
    assert model.verdict.endswith("— a real improvement on this data.")
    assert model.warnings == []
    assert comparison.models[0].verdict.startswith("tanh: the reference — RMSE 11.00 ± 0.79 over 5 seeds")


def test_difference_within_noise_never_claims_a_winner() -> None:
    ref = [run(r, _pattern(100)) for r in (4, 4, 5, 5, 3)]
    model = [run(r, _pattern(200)) for r in (3, 5, 4, 6, 2)]
    summary = summarize(experiment(), outcomes_for(ref, model)).models[1]
    assert summary.vs_reference is not None
    rmse = summary.vs_reference.rmse
    assert rmse.low is not None and rmse.high is not None
    assert rmse.low < 0 < rmse.high and not rmse.excludes_zero
    assert summary.verdict.startswith("ReLU between layers: RMSE 0.20 lower than tanh (95% CI ")
    assert "lower RMSE on 3 of 5 seeds" in summary.verdict
    assert "within seed-to-seed noise on this data" in summary.verdict
    assert not claims_winner(summary.verdict)


def test_worse_model_is_flagged_and_a_disagreeing_dm_test_never_contradicts_the_sentence() -> None:
    seeds = (0, 1, 2, 3)
    ref = [run(5, _pattern(100)) for _ in seeds]
    # Per seed the model is worse, but its errors cancel across seeds, so its
    # seed-averaged forecast is much better: the DM test points the other way.
    model = [run(m, sign * _pattern(300)) for m, sign in zip((6, 6.1, 6, 6.1), (1, -1, 1, -1), strict=True)]
    summary = summarize(experiment(seeds=seeds), outcomes_for(ref, model, seeds=seeds)).models[1]
    assert "RMSE 1.05 higher than tanh" in summary.verdict
    assert "worse on 4 of 4 seeds" in summary.verdict
    assert summary.verdict.endswith("— a real deterioration on this data.")
    dm = summary.vs_reference.dm if summary.vs_reference else None
    assert dm is not None and dm.p_value is not None and dm.p_value < 0.05 and (dm.statistic or 0) < 0
    assert "DM" not in summary.verdict  # the DM test is supporting detail, in the table only


def test_identical_models_say_no_difference() -> None:
    comparison = summarize(experiment(), outcomes_for(REF, REF))
    model = comparison.models[1]
    assert model.verdict == "ReLU between layers: RMSE identical to tanh on all 5 seeds — no difference on this data."
    assert model.vs_reference is not None
    assert model.vs_reference.dm.p_value == 1.0
    assert model.vs_reference.dm.statistic == 0.0


def test_two_seeds_warn_too_few() -> None:
    seeds = (0, 1)
    comparison = summarize(experiment(seeds=seeds),
                           outcomes_for(REF[:2], [run(5), run(20)], seeds=seeds))
    model = comparison.models[1]
    assert "only 2 seeds: too few to tell noise from a difference" in model.warnings
    assert "Only 2 seeds: too few to tell noise from a difference." in model.message()
    assert not claims_winner(model.verdict)
    assert "only 2 seeds: too few to tell noise from a difference" in comparison.models[0].warnings


def test_one_paired_seed_gives_no_interval() -> None:
    model = [run(5), None, None, None, None]
    summary = summarize(experiment(), outcomes_for(REF, model)).models[1]
    assert summary.vs_reference is not None and summary.vs_reference.rmse.low is None
    assert "on the one seed where both finished (no confidence interval" in summary.verdict
    assert "only 1 seed: too few to tell noise from a difference" in summary.warnings
    assert not claims_winner(summary.verdict)


def test_diverged_runs_are_left_out_and_counted() -> None:
    model = [run(0, status=RunStatus.DIVERGED), run(0, status=RunStatus.DIVERGED), run(5), run(6), run(7)]
    summary = summarize(experiment(), outcomes_for(REF, model)).models[1]
    assert (summary.seeds_done, summary.seeds_diverged, summary.seeds_unfinished) == (3, 2, 0)
    assert summary.divergence_rate == pytest.approx(0.4)
    assert summary.mean.rmse == pytest.approx(6.0)
    assert summary.std.rmse == pytest.approx(1.0)
    assert summary.mean.params == 1234
    assert "2 of 5 seeds diverged and are left out" in summary.warnings
    assert summary.vs_reference is not None and summary.vs_reference.seeds == ((2, 0), (3, 0), (4, 0))
    assert summary.per_seed[(0, 0)].status is RunStatus.DIVERGED


def test_model_diverged_on_all_seeds() -> None:
    model = [run(0, status=RunStatus.DIVERGED) for _ in range(5)]
    comparison = summarize(experiment(), outcomes_for(REF, model))
    summary = comparison.models[1]
    assert summary.verdict == "ReLU between layers: diverged on all 5 seeds — no forecast to compare."
    assert summary.warnings == []
    assert summary.divergence_rate == 1.0
    assert summary.mean.rmse is None and summary.vs_reference is None
    assert comparison.table().loc["ReLU between layers", "RMSE"] == "—"
    delta = next(c for c in comparison.table().columns if c.startswith("ΔRMSE"))
    assert comparison.table().loc["ReLU between layers", delta] == "no finished run"  # not "reference"
    assert comparison.table().loc["tanh", delta] == "reference"
    json.dumps(comparison.to_dict(), allow_nan=False)


def test_missing_and_cancelled_runs_are_counted_not_fatal() -> None:
    model = [run(5), None, run(0, status=RunStatus.CANCELLED), run(6), None]
    comparison = summarize(experiment(), outcomes_for(REF, model))
    summary = comparison.models[1]
    assert (summary.seeds_done, summary.seeds_unfinished, summary.divergence_rate) == (2, 3, 0.0)
    assert any(w.startswith("3 of 5 seeds did not finish") for w in summary.warnings)
    assert summary.per_seed[(1, 0)].status is None and summary.per_seed[(1, 0)].label == "not finished"
    assert summary.per_seed[(2, 0)].status is RunStatus.CANCELLED
    empty = summarize(experiment(), outcomes_for(REF, [None] * 5)).models[1]
    assert empty.verdict == "ReLU between layers: no finished run yet."
    nothing = summarize(experiment(), {})
    assert nothing.models[0].verdict == "tanh: no finished run yet."
    assert nothing.naive["rmse"] is None
    json.dumps(nothing.to_dict(), allow_nan=False)
    assert nothing.table().shape[0] == 3


def test_reference_without_finished_seed() -> None:
    ref = [run(0, status=RunStatus.DIVERGED)] * 5
    comparison = summarize(experiment(), outcomes_for(ref, REF))
    assert "not compared, because the reference tanh has no seed" in comparison.models[1].verdict
    assert comparison.models[0].verdict == "tanh: diverged on all 5 seeds — no forecast to compare."


def test_reference_is_selectable_by_index_or_name() -> None:
    better = [run(r, _pattern(200)) for r in (5, 5.5, 6, 5.2, 5.9)]
    outcomes = outcomes_for(REF, better)
    by_index = summarize(experiment(), outcomes, reference=1)
    by_name = summarize(experiment(), outcomes, reference="ReLU between layers")
    assert by_index.reference == by_name.reference == "ReLU between layers"
    assert by_index.reference_index == 1
    assert by_index.models[1].vs_reference is None and by_index.models[1].is_reference
    vs = by_index.models[0].vs_reference
    assert vs is not None and vs.rmse.mean == pytest.approx(5.48)
    assert "RMSE 5.48 higher than ReLU between layers" in by_index.models[0].verdict
    assert "worse on 5 of 5 seeds" in by_index.models[0].verdict
    with pytest.raises(ValueError, match="`reference`"):
        summarize(experiment(), outcomes, reference=2)
    with pytest.raises(ValueError, match="`reference`"):
        summarize(experiment(), outcomes, reference="sigmoid")


def test_few_test_points_leave_dm_out_of_the_verdict() -> None:
    ref = [run(r, _pattern(100, 6), n=6) for r in REF_RMSE]
    model = [run(r, _pattern(200, 6), n=6) for r in (5, 5.5, 6, 5.2, 5.9)]
    summary = summarize(experiment(), outcomes_for(ref, model)).models[1]
    assert "only 6 test points: too few for the Diebold–Mariano test, so it is left out of the verdict" \
        in summary.warnings
    assert "DM" not in summary.verdict
    assert "a real improvement" in summary.verdict


def test_to_dict_is_json_without_nan() -> None:
    model = [run(0, status=RunStatus.DIVERGED), run(5), None, run(6), run(7)]
    data = summarize(experiment(), outcomes_for(REF, model)).to_dict()
    text = json.dumps(data, allow_nan=False)
    back = json.loads(text)
    assert back["dm_variant"].startswith("Diebold–Mariano (1995), squared-error loss, h = 1")
    assert back["reference"] == "tanh"
    assert back["models"][1]["per_seed"]["2"]["status"] == "not finished"
    assert back["models"][1]["vs_reference"]["dm_variant"] == back["dm_variant"]
    assert back["models"][1]["vs_reference"]["rmse"]["excludes_zero"] in (True, False)
    assert back["models"][1]["per_seed"]["0"]["status"] == "diverged"
    assert REF[0].metrics is not None and back["naive"]["rmse"] == pytest.approx(REF[0].metrics.naive_rmse)


def test_tables_have_naive_row_and_formatted_cells() -> None:
    better = [run(r, _pattern(200)) for r in (5, 5.5, 6, 5.2, 5.9)]
    comparison = summarize(experiment(), outcomes_for(REF, better))
    table = comparison.table()
    assert list(table.index) == ["tanh", "ReLU between layers", NAIVE_LABEL]
    assert table.loc["tanh", "RMSE"] == "11.00 ± 0.79"
    assert table.loc["tanh", "ΔRMSE (95% CI)"] == "reference"
    assert table.loc["ReLU between layers", "ΔRMSE (95% CI)"].startswith("−5.48 (−")
    assert table.loc["ReLU between layers", "Lower RMSE on"] == "5 of 5"
    assert table.loc["ReLU between layers", "Params"] == "1,234"
    assert table.loc[NAIVE_LABEL, "Skill"] == "0.000"
    numeric = comparison.numeric_table()
    assert REF[0].metrics is not None and REF[0].metrics.naive_rmse is not None
    naive_rmse = REF[0].metrics.naive_rmse
    assert numeric.loc[NAIVE_LABEL, "RMSE"] == pytest.approx(naive_rmse)
    assert numeric.loc[NAIVE_LABEL, "MAE"] == pytest.approx(REF[0].metrics.naive_mae)
    assert math.isnan(numeric.loc[NAIVE_LABEL, "Params"])
    best = comparison.best()
    assert best["RMSE"] == ("ReLU between layers" if naive_rmse > 5.52 else NAIVE_LABEL)
    assert "Params" not in best
    per_seed = comparison.per_seed_table()
    assert per_seed.shape[0] == 10
    assert per_seed.loc[0, "RMSE"] == pytest.approx(10)


def test_forecast_band_by_hand() -> None:
    a = make_outcome(test=make_test([1, 2, 3], [1.0, 2.0, 3.0], [1.0, 4.0, None]))
    b = make_outcome(test=make_test([1, 2, 3], [1.0, 2.0, 3.0], [3.0, 2.0, None]))
    diverged = make_outcome(RunStatus.DIVERGED, test=make_test([1], [], [99.0]))
    band = forecast_band([a, None, b, diverged])
    assert band == ForecastBand(time=(1, 2), mean=(2.0, 3.0), low=(1.0, 2.0), high=(3.0, 4.0), actual=(1.0, 2.0),
                                n=2)
    assert forecast_band([]).n == 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(1, 50), st.floats(1, 50)), min_size=2, max_size=5))
def test_verdict_claims_a_winner_only_when_the_interval_excludes_zero(pairs: list[tuple[float, float]]) -> None:
    seeds = tuple(range(len(pairs)))
    ref = [run(r, _pattern(100)) for r, _ in pairs]
    model = [run(m, _pattern(200)) for _, m in pairs]
    comparison: Comparison = summarize(experiment(seeds=seeds), outcomes_for(ref, model, seeds=seeds))
    summary = comparison.models[1]
    assert summary.vs_reference is not None
    visible = "on average the same as" not in summary.verdict
    enough = summary.vs_reference.rmse.n >= 3  # fewer pairs never make a claim
    assert claims_winner(summary.verdict) == (summary.vs_reference.rmse.excludes_zero and visible and enough)
    json.dumps(comparison.to_dict(), allow_nan=False)


def test_a_dm_test_that_does_not_confirm_the_interval_stays_out_of_the_sentence() -> None:
    seeds = (0, 1, 2, 3)
    ref = [run(5, _pattern(100)) for _ in seeds]
    model = [run(m, _pattern(300)) for m in (6, 6.1, 6, 6.1)]
    summary = summarize(experiment(seeds=seeds), outcomes_for(ref, model, seeds=seeds)).models[1]
    p_value = summary.vs_reference.dm.p_value if summary.vs_reference else None
    assert p_value is not None and p_value >= 0.05
    assert "worse on 4 of 4 seeds" in summary.verdict
    assert summary.verdict.endswith("— a real deterioration on this data.") and "DM" not in summary.verdict


def test_dm_difference_inside_seed_noise_is_not_a_winner() -> None:
    seeds = (0, 1, 2, 3)
    ref = [run(5, _pattern(100)) for _ in seeds]
    # Noisy per seed (CI contains 0), but the errors cancel in the seed average.
    model = [run(m, sign * _pattern(300)) for m, sign in zip((4, 6, 3, 7.5), (1, -1, 1, -1), strict=True)]
    summary = summarize(experiment(seeds=seeds), outcomes_for(ref, model, seeds=seeds)).models[1]
    p_value = summary.vs_reference.dm.p_value if summary.vs_reference else None
    assert p_value is not None and p_value < 0.05
    assert not claims_winner(summary.verdict)
    assert summary.verdict.startswith("ReLU between layers: RMSE 0.13 higher than tanh (95% CI −")
    assert "— within seed-to-seed noise on this data; about " in summary.verdict
    assert summary.verdict.endswith("seeds would tell a difference this size apart (80% power).")
    assert "DM" not in summary.verdict
    same = [run(m, _pattern(300)) for m in (4, 6, 4, 6)]
    even = summarize(experiment(seeds=seeds), outcomes_for(ref, same, seeds=seeds)).models[1]
    assert even.verdict.startswith("ReLU between layers: RMSE on average the same as tanh (95% CI −")
    assert not claims_winner(even.verdict)


def test_consistent_but_invisible_difference_is_not_a_winner() -> None:
    seeds = (0, 1, 2)
    ref = [run(5.0, _pattern(100)) for _ in seeds]
    model = [run(5.0 + 1e-9, _pattern(100)) for _ in seeds]
    summary = summarize(experiment(seeds=seeds), outcomes_for(ref, model, seeds=seeds)).models[1]
    assert summary.verdict.startswith("ReLU between layers: RMSE on average the same as tanh (95% CI ")
    assert not claims_winner(summary.verdict)


def test_metric_values_have_one_field_per_table_metric() -> None:
    assert [f.name for f in dataclasses.fields(MetricValues)] == list(LABELS)
    assert MetricValues(rmse=2.0).get("rmse") == 2.0 and MetricValues().get("nope") is None


def test_two_runs_that_agree_are_too_few_to_claim_a_real_difference() -> None:
    seeds = (0, 1)
    ref = [run(r, _pattern(100)) for r in (5.0, 5.1)]
    model = [run(r, _pattern(100)) for r in (3.7, 3.85)]  # lower on both, a narrow interval below 0
    summary = summarize(experiment(seeds=seeds), outcomes_for(ref, model, seeds=seeds)).models[1]
    assert summary.vs_reference is not None and summary.vs_reference.rmse.excludes_zero
    assert "lower RMSE on 2 of 2 seeds" in summary.verdict
    assert summary.verdict.endswith("— too few seeds to tell; train at least 3.")
    assert "real improvement" not in summary.verdict and not claims_winner(summary.verdict)
