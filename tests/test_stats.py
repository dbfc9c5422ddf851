"""Tests for lstm_app.report.stats: mean ± std, paired t-intervals and the HLN-corrected DM test."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from factories import make_test
from lstm_app.num import finite_or_none
from lstm_app.report.stats import (
    DMResult,
    ForecastBand,
    PairedDiff,
    decimals_for,
    diebold_mariano,
    dm_variant,
    forecast_band,
    format_number,
    format_p,
    hln_factor,
    mean_std,
    paired_difference,
)

REFERENCE = [10, 11, 12, 10.5, 11.5]
BETTER = [5, 5.5, 6, 5.2, 5.9]


def test_finite_or_none() -> None:
    assert finite_or_none(1) == 1.0
    assert finite_or_none(np.float32(2.5)) == 2.5
    for bad in (None, math.nan, math.inf, -math.inf, "x", True):
        assert finite_or_none(bad) is None


def test_mean_std() -> None:
    assert mean_std([]) == (None, None)
    assert mean_std([None, math.nan]) == (None, None)
    assert mean_std([4.0]) == (4.0, None)
    mean, std = mean_std([1.0, 2.0, 3.0, None, math.inf])
    assert mean == 2.0
    assert std == pytest.approx(1.0)  # ddof=1: sqrt(((1)^2 + 0 + 1^2) / 2)
    assert mean_std([0.1, 0.1, 0.1]) == (0.1, 0.0)  # exact: no rounding noise in the std


def test_identical_lists_give_degenerate_interval_at_zero() -> None:
    diff = paired_difference(REFERENCE, REFERENCE)
    # sd = 0: the interval degenerates to the point 0 (it "contains" 0 but excludes nothing).
    assert (diff.mean, diff.low, diff.high, diff.sd) == (0.0, 0.0, 0.0, 0.0)
    assert diff.n == 5 and diff.wins == 0 and diff.ties == 5 and diff.losses == 0
    assert not diff.excludes_zero


def test_clearly_better_model_excludes_zero_and_wins_every_seed() -> None:
    diff = paired_difference(BETTER, REFERENCE)
    assert diff.mean == pytest.approx(-5.48)  # mean 5.52 − mean 11
    assert diff.low is not None and diff.high is not None
    assert diff.low < diff.mean < diff.high < 0
    assert diff.excludes_zero
    assert (diff.wins, diff.n, diff.losses) == (5, 5, 0)


def test_interval_matches_hand_computation() -> None:
    model, reference = [3.0, 5.0, 4.0], [2.0, 2.0, 3.0]
    # differences 1, 3, 1: mean 5/3, sd sqrt(((−2/3)² + (4/3)² + (−2/3)²) / 2) = sqrt(4/3)
    mean, sd = 5 / 3, math.sqrt(4 / 3)
    half = scipy_stats.t.ppf(0.975, 2) * sd / math.sqrt(3)  # t(0.975, 2) ≈ 4.303
    diff = paired_difference(model, reference)
    assert diff.mean == pytest.approx(mean)
    assert diff.sd == pytest.approx(sd)
    assert diff.low == pytest.approx(mean - half)
    assert diff.high == pytest.approx(mean + half)
    assert diff.low == pytest.approx(-1.2018, abs=1e-4)  # 5/3 − 4.3027 · 1.1547 / 1.7321 = 5/3 − 2.8684
    assert not diff.excludes_zero
    assert diff.wins == 0 and diff.losses == 3
    wider = paired_difference(model, reference, confidence=0.99)
    assert wider.low is not None and diff.low is not None and wider.low < diff.low


def test_pairs_with_missing_values_are_dropped() -> None:
    diff = paired_difference([1.0, None, 3.0, math.nan], [0.0, 1.0, 1.0, 1.0])
    assert diff.n == 2
    assert diff.mean == pytest.approx(1.5)


def test_fewer_than_two_pairs_give_no_interval() -> None:
    one = paired_difference([2.0], [1.0])
    assert (one.mean, one.low, one.high, one.sd, one.n, one.wins) == (1.0, None, None, None, 1, 0)
    assert not one.excludes_zero
    none = paired_difference([None], [1.0])
    assert none == PairedDiff(None, None, None, 0, 0, 0, None)
    assert none.to_dict()["excludes_zero"] is False


def test_paired_difference_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="one value per seed"):
        paired_difference([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="confidence"):
        paired_difference([1.0], [1.0], confidence=1.0)


values = st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=12)


@given(st.data())
def test_interval_contains_mean_and_swap_negates(data: st.DataObject) -> None:
    model = data.draw(values)
    reference = data.draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=len(model),
                                   max_size=len(model)))
    diff = paired_difference(model, reference)
    swapped = paired_difference(reference, model)
    assert diff.low is not None and diff.high is not None and diff.mean is not None
    assert diff.low <= diff.mean <= diff.high
    assert swapped.mean == -diff.mean
    assert swapped.wins == diff.losses


def test_hln_factor_by_hand() -> None:
    # n = 10, h = 1: sqrt((10 + 1 − 2 + 0) / 10) = sqrt(0.9)
    assert hln_factor(10, 1) == pytest.approx(math.sqrt(0.9))
    assert hln_factor(10, 1) == pytest.approx(0.9486833, abs=1e-7)
    # n = 10, h = 2: sqrt((10 + 1 − 4 + 2/10) / 10) = sqrt(0.72)
    assert hln_factor(10, 2) == pytest.approx(math.sqrt(0.72))
    with pytest.raises(ValueError):
        hln_factor(0, 1)


def test_dm_identical_errors_give_p_one_without_warnings() -> None:
    errors = [0.5, -1.0, 2.0, 0.1, -0.3, 0.7, 1.1, -0.2, 0.4, 0.9]
    result = diebold_mariano(errors, errors)
    assert result.statistic == 0.0
    assert result.p_value == 1.0
    assert result.n == 10
    assert "identical" in result.note
    # The same loss with opposite sign errors is also a zero differential.
    assert diebold_mariano(errors, [-e for e in errors]).p_value == 1.0


def test_dm_clearly_different_errors_give_small_p() -> None:
    rng = np.random.default_rng(0)
    small = rng.normal(0, 0.1, 40)
    large = rng.normal(0, 2.0, 40)
    result = diebold_mariano(small, large)
    assert result.p_value is not None and result.p_value < 0.001
    assert result.statistic is not None and result.statistic < 0  # a has the smaller loss
    assert result.mean_loss_diff is not None and result.mean_loss_diff < 0
    flipped = diebold_mariano(large, small)
    assert flipped.statistic == pytest.approx(-result.statistic)
    assert flipped.p_value == pytest.approx(result.p_value)


def test_dm_statistic_by_hand_for_n_10() -> None:
    a = np.array([1.0, 2.0, 1.0, 3.0, 2.0, 1.0, 2.0, 2.0, 1.0, 3.0])
    b = np.ones(10)
    d = a**2 - b**2
    dm = d.mean() / math.sqrt(np.mean((d - d.mean()) ** 2) / 10)  # h = 1: variance γ₀ / n
    statistic = dm * math.sqrt(0.9)
    result = diebold_mariano(a, b)
    assert result.statistic == pytest.approx(statistic)
    assert result.p_value == pytest.approx(2 * scipy_stats.t.sf(abs(statistic), 9))
    assert result.variant == dm_variant(1, 2)


def test_dm_variant_text() -> None:
    text = dm_variant()
    assert "squared-error loss" in text and "h = 1" in text
    assert "Harvey–Leybourne–Newbold (1997)" in text and "n − 1" in text and "two-sided" in text
    assert "absolute-error" in dm_variant(power=1)


def test_dm_degenerate_cases() -> None:
    assert diebold_mariano([1.0], [2.0]) == DMResult(None, None, 1, dm_variant(), note=diebold_mariano(
        [1.0], [2.0]).note)
    constant = diebold_mariano([2.0, 2.0, 2.0], [1.0, 1.0, 1.0])
    assert constant.statistic is None and constant.p_value is None and "constant" in constant.note
    missing = diebold_mariano([1.0, None, 3.0, math.nan, 2.0], [0.5, 1.0, 1.0, 1.0, 0.1])
    assert missing.n == 3
    huge = diebold_mariano([1e200, 2e200, 1.0], [1.0, 1.0, 1.0])
    assert huge.p_value is None and "overflow" in huge.note
    with pytest.raises(ValueError, match="aligned"):
        diebold_mariano([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="h must be"):
        diebold_mariano([1.0, 2.0], [1.0, 2.0], h=0)


def test_dm_with_longer_horizon_uses_autocovariances() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 30), rng.normal(0, 1.5, 30)
    one, two = diebold_mariano(a, b, h=1), diebold_mariano(a, b, h=2)
    assert one.p_value is not None
    assert two.statistic is None or two.statistic != one.statistic
    assert "h = 2" in two.variant


def test_forecast_band_aligns_on_times() -> None:
    a = make_test(["t1", "t2", "t3"], [1.0, 2.0, 3.0], [1.0, 4.0, None])
    b = make_test(["t2", "t3", "t4"], [2.0, None, 4.0], [2.0, 5.0, 6.0])
    broken = make_test(["t1", "t1"], [], [9.0, 9.0])  # a repeated time: skipped
    band = forecast_band([a, b, broken, make_test([], [], [])])
    assert band == ForecastBand(time=("t1", "t2", "t3", "t4"), mean=(1.0, 3.0, 5.0, 6.0), low=(1.0, 2.0, 5.0, 6.0),
                                high=(1.0, 4.0, 5.0, 6.0), actual=(1.0, 2.0, 3.0, 4.0), n=2)
    assert forecast_band([]) == ForecastBand() and forecast_band([]).n == 0


def test_number_formatting() -> None:
    assert [decimals_for(x) for x in (0.0123, 1.5, 25.3, 999, 12345, None, 0.0)] == [4, 2, 1, 0, 0, 3, 3]
    assert format_number(-3.14159, 1) == "−3.1"
    assert format_number(2.0, 2, signed=True) == "+2.00"
    assert format_number(0.0004, 1) == "0.0"
    assert format_number(-0.0001, 3) == "0.000"
    assert format_number(12345.6, 0) == "12346"
    assert format_number(None, 2) == format_number(math.nan, 2) == "—"
    assert format_number(0.0, 2) == "0.00"
    assert format_number(-0.0, 2) == "0.00"
    assert [format_p(p) for p in (0.0004, 0.0042, 0.31, 1.0)] == [
        "p < 0.001", "p = 0.004", "p = 0.31", "p = 1.00"]


def test_dm_from_statsmodels_reproduces_the_values_of_the_hand_written_test_it_replaced() -> None:
    # Values printed by the hand-written implementation (before statsmodels) for these errors.
    rng = np.random.default_rng(0)
    expected = {10: (-1.059805945888234, 0.31684545385890744), 30: (-1.808999880616561, 0.0808298016934598)}
    for n, (statistic, p_value) in expected.items():
        a, b = rng.normal(size=n), rng.normal(size=n) * 1.2
        result = diebold_mariano(list(a), list(b), h=1)
        assert result.statistic == pytest.approx(statistic, rel=1e-12)
        assert result.p_value == pytest.approx(p_value, rel=1e-12)
        assert result.n == n and result.mean_loss_diff == pytest.approx(float(np.mean(a**2 - b**2)))


def test_the_fast_forecast_band_on_shared_times_equals_the_aligned_one() -> None:
    from lstm_app.report.stats import _band_aligned

    rng = np.random.default_rng(3)
    times = [f"2021-01-{d:02d}" for d in range(1, 11)]
    tests = []
    for k in range(5):
        forecast = list(rng.normal(10, 2, 10))
        forecast[k] = math.nan  # a gap in one seed at a time
        actual = [math.nan if k == 0 and i == 3 else float(i) for i in range(10)]  # one seed lacks an actual
        tests.append(make_test(times, actual, forecast, [0.0] * 10))
    tests.append(make_test(times, list(range(10)), [math.nan] * 9 + [1.0], [0.0] * 10))
    fast, aligned = forecast_band(tests), _band_aligned(tests)
    assert fast.time == aligned.time and fast.actual == aligned.actual and fast.n == aligned.n == 6
    for field in ("mean", "low", "high"):
        assert getattr(fast, field) == pytest.approx(getattr(aligned, field))
