"""The statistical references (ETS, ARIMA, Theta) against statsmodels' own fits on a bundled
sample, and the verdict's first line when they are there."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from lstm_app.report import metrics
from lstm_app.report._baselines import Baselines, Standing, headline
from lstm_app.report.references import Arima, Ets, Theta

AIRLINE = pd.read_csv("sample_data/airline_passengers_monthly.csv").iloc[:, -1].to_numpy(float)
TRAIN, TEST = AIRLINE[:120], AIRLINE[120:]


def test_ets_matches_statsmodels_own_fit_on_the_airline_sample() -> None:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    ets = Ets(12).fit(TRAIN)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        own = ETSModel(TRAIN, **ets.spec).fit(disp=False)
        # one step ahead with the parameters held fixed == statsmodels' smoother over the whole series
        smoothed = ETSModel(AIRLINE, **ets.spec).smooth(own.params).fittedvalues[120:]
    assert ets.description == "ETS(M,A,M)"  # the airline series' textbook choice: it grows and its season does too
    assert ets.predict(12) == pytest.approx(np.asarray(own.forecast(12)), rel=1e-6)
    assert ets.predict_one_step(TEST) == pytest.approx(np.asarray(smoothed), rel=1e-6)
    assert ets.predict_one_step(TEST)[0] == pytest.approx(float(own.forecast(1)[0]), rel=1e-6)


def test_arima_and_theta_update_their_state_without_refitting() -> None:
    arima = Arima(12).fit(TRAIN)
    assert arima.description.endswith("(0,1,0)[12]")  # a strong season: one seasonal difference
    one = arima.predict_one_step(TEST)
    assert one[0] == pytest.approx(arima.predict(1)[0], rel=1e-9)
    # the seasonal change y_t − y_{t−12} forecast by the fitted ARIMA from actual history, plus y_{t−12}
    changes = AIRLINE[12:] - AIRLINE[:-12]
    again = arima.result.append(changes[108:], refit=False).fittedvalues[108:] + AIRLINE[108:132]
    assert one == pytest.approx(np.asarray(again), rel=1e-9)
    assert arima.predict(13)[12] == pytest.approx(arima.predict(13)[0] + float(arima.result.forecast(13)[12]))
    theta = Theta(12).fit(TRAIN)
    first = theta.predict_one_step(TEST)
    assert first[0] == pytest.approx(theta.predict(1)[0], rel=1e-9)
    # every reference beats the last value by far on this trending, seasonal series
    naive = metrics.rmse(np.concatenate([[TRAIN[-1]], TEST[:-1]]), TEST)
    for model in (Ets(12).fit(TRAIN), arima, theta):
        assert metrics.rmse(model.predict_one_step(TEST), TEST) < 0.6 * naive


def test_the_first_line_says_how_the_winners_fare_against_the_best_reference() -> None:
    base = Baselines({"naive": 109.0, "ets": 88.0}, "naive", 109.0, None, "ets", 88.0)
    line = headline([Standing("relu between", 5, True, 100.0, False), Standing("tanh", 5, False, 130.0, False)],
                    base, 0)
    assert line.startswith("relu between beats the best baseline, naive (RMSE 109)")
    assert line.endswith("But it does not beat the best statistical reference, ETS (RMSE 88).")
    line = headline([Standing("tanh", 5, True, 80.0, True), Standing("relu", 5, True, 90.0, None)], base, 0)
    assert line.endswith("Against the best statistical reference, ETS (RMSE 88): tanh beats it; relu is within noise "
                         "of it.")


def test_a_model_far_above_the_baseline_is_never_within_noise_and_two_runs_decide_nothing() -> None:
    base = Baselines({"drift": 0.501}, "drift", 0.501)
    line = headline([Standing("tanh", 5, False, 4.234), Standing("relu inside", 2, None, 2.9)], base, 3, unit="run")
    assert "within" not in line
    assert "tanh loses to it (tanh RMSE 4.234, 8.5× the baseline's)" in line
    assert "relu inside has too few finished runs to tell" in line
    line = headline([Standing("tanh", 5, False, 4.234), Standing("relu", 5, None, 0.52)], base, 3, unit="run")
    assert "relu is within run-to-run noise of it; tanh loses to it" in line
    line = headline([Standing("tanh", 5, False, 0.521)], base, 3, unit="run")
    assert "(tanh RMSE 0.521, 1.04× the baseline's)" in line  # close calls keep two decimals
