"""Direct multi-step heads (`ModelSpec.strategy = "direct"`, `horizon` H) and horizon scores:
the spec and its counts, H-step targets, exact inversion of H-step paths, RMSE by horizon from
every test window, its pooling and the 1–H verdicts, and real tiny training on both engines."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from factories import make_outcome, make_regions
from lstm_app import params
from lstm_app.errors import DataError, SpecError
from lstm_app.horizons import by_horizon, experiment_horizon
from lstm_app.outcome import Horizon, RunOutcome, TestForecast
from lstm_app.report import codegen, metrics
from lstm_app.report.backtest import NAIVE, backtest
from lstm_app.report.compare import summarize
from lstm_app.spec import (
    DataSpec,
    ExperimentSpec,
    LayerSpec,
    ModelSpec,
    SplitSpec,
    TrainingSpec,
    WindowSpec,
)
from lstm_app.windows import Target, prepare

DIRECT = ModelSpec("direct", (LayerSpec(4),), horizon=6, strategy="direct")
N = 72
# a linear trend with a season of 12 (monthly): the kind of series recursive forecasts drift on
SERIES = pd.DataFrame({"y": 100 + 2.0 * np.arange(N) + 10 * np.sin(np.arange(N) * np.pi / 6)},
                      index=pd.date_range("2018-01-01", periods=N, freq="MS"))


def test_the_spec_validates_in_one_sentence_and_round_trips_and_old_files_mean_recursive() -> None:
    exp = ExperimentSpec("d", DataSpec("x.csv", "y"), (DIRECT, ModelSpec("r", (LayerSpec(4),), horizon=3)))
    assert ExperimentSpec.from_json(exp.to_json()) == exp
    raw = json.loads(exp.to_json())
    assert raw["models"][0]["horizon"] == 6 and raw["models"][0]["strategy"] == "direct"
    for key in ("horizon", "strategy"):
        del raw["models"][1][key]
    old = ExperimentSpec.from_dict(raw).models[1]
    assert (old.strategy, old.horizon, old.outputs) == ("recursive", None, 1)
    with pytest.raises(SpecError, match=r"^Received an invalid value for argument `horizon`, expected the number"):
        ModelSpec("m", (LayerSpec(4),), strategy="direct")
    with pytest.raises(SpecError, match="argument `strategy`"):
        ModelSpec("m", (LayerSpec(4),), horizon=3, strategy="both")
    for bad in (0, 2.5, True, 10_000):
        with pytest.raises(SpecError, match="argument `horizon`"):
            ModelSpec("m", (LayerSpec(4),), horizon=bad, strategy="direct")  # type: ignore[arg-type]
    assert DIRECT.describe() == "LSTM 4 (tanh) → Dense 6" and DIRECT.outputs == 6


def test_a_direct_heads_parameter_count_is_keras_count_and_the_code_export_builds_it() -> None:
    from lstm_app.engine.model import build_model

    spec = dataclasses.replace(DIRECT, layers=(LayerSpec(5), LayerSpec(3)), dense=(4,))
    head = params.count_layers(spec, 1, 8)[-1]
    assert (head.params, head.formula) == ((4 + 1) * 6, "(4 + 1) × 6 = 30")
    for framing in ("steps", "features"):
        built = build_model(spec, params.input_shape(2, 8, framing))
        assert built.count_params() == params.total(spec, 2, 8, framing)
        assert built.output_shape == (None, 6)
    code = codegen.keras_code(spec, 1, 8, "steps")
    assert "keras.layers.Dense(6, name='output')" in code and "next 6 values" in code


def test_direct_and_recursive_models_of_one_shape_train_in_separate_groups() -> None:
    from lstm_app.runs.schedule import group_key, plan_groups

    exp = ExperimentSpec("g", DataSpec("x.csv", "y"), (ModelSpec("r", (LayerSpec(4),)), DIRECT,
                                                        ModelSpec("r6", (LayerSpec(4),), horizon=6)),
                         training=TrainingSpec(seeds=(0, 1)))
    assert group_key(exp.models[0]) == group_key(exp.models[2]) != group_key(exp.models[1])
    groups = plan_groups(exp, N).groups
    assert sorted(sorted({i for i, _ in g.members}) for g in groups) == [[0, 2], [1]]


def test_horizon_is_the_largest_direct_head_else_a_season_else_12_never_past_the_test_period() -> None:
    plain = ModelSpec("p", (LayerSpec(4),))
    assert experiment_horizon([plain, DIRECT], 12, 40) == 6
    assert experiment_horizon([plain], 12, 40) == 12 and experiment_horizon([plain], 4, 40) == 8
    assert experiment_horizon([plain], 52, 40) == 12 and experiment_horizon([plain], None, 40) == 12
    assert experiment_horizon([plain], None, 5) == 5


def test_h_step_targets_stay_inside_their_part_and_too_long_a_head_is_one_sentence() -> None:
    data = prepare(SERIES, WindowSpec(6), SplitSpec(12), TrainingSpec(validation_share=0.2), outputs=4)
    split, scaled = data.split, data.scaled[:, 0]
    assert data.y_train.shape == (split.n_train - 3, 4) and data.y_val.shape == (split.n_val - 3, 4)
    assert data.y_train[0] == pytest.approx(scaled[6:10])  # the next 4 values after the first window
    assert data.y_train[-1][-1] == pytest.approx(scaled[split.val_start - 1])  # never into validation
    assert data.y_val[-1][-1] == pytest.approx(scaled[split.test_start - 1])  # never into the test period
    assert len(data.x_train) == len(data.y_train) and len(data.x_test) == 12
    with pytest.raises(DataError, match=r"^A direct horizon of 60 steps is longer than the \d+ training rows"):
        prepare(SERIES, WindowSpec(6), SplitSpec(12), TrainingSpec(), outputs=60)


@pytest.mark.parametrize("kind", ["level", "difference", "seasonal difference", "log difference"])
def test_h_step_paths_of_the_true_change_give_back_the_true_series_from_every_window(kind: str) -> None:
    data = prepare(SERIES, WindowSpec(6), SplitSpec(12), TrainingSpec(), Target.of(kind, 12), outputs=4)
    truth = data.scaled[:, 0]
    start, y = data.split.test_start, SERIES["y"].to_numpy()
    rows = np.array([[truth[min(start + k + h, len(truth) - 1)] for h in range(4)] for k in range(12)])
    paths = data.paths(rows)
    for k in range(9):  # windows whose 4 steps all fall inside the test period
        assert paths[k] == pytest.approx(y[N - 12 + k: N - 8 + k])
    scored = by_horizon(paths, data.y_test)
    assert scored.n == (12, 11, 10, 9) and scored.rmse[0] == pytest.approx(0.0, abs=1e-9)


def test_rmse_by_horizon_scores_every_window_as_far_as_the_test_period_reaches() -> None:
    actual = np.array([1.0, 2.0, 3.0])
    paths = np.array([[1.0, 3.0], [2.0, 3.0], [4.0, 9.0]])
    scored = by_horizon(paths, actual)
    assert scored.n == (3, 2) and scored.rmse == pytest.approx((np.sqrt(1 / 3), np.sqrt(0.5)))
    assert scored.pooled() == pytest.approx(np.sqrt(2 / 5))
    assert by_horizon(np.array([[np.inf], [1.0], [1.0]]), actual).rmse == (None,)
    naive = metrics.horizon_baselines(np.array([0.0, 1.0]), actual, None, 2)["naive"]
    # the last value before each window: 1 for 1 and 2, 1 for 2 and 3, 2 for 3
    assert naive.rmse == pytest.approx((np.sqrt(2 / 3), np.sqrt(5 / 2))) and naive.n == (3, 2)


def _run(rmse: tuple[float, ...], naive: tuple[float, ...], origin: int) -> RunOutcome:
    out = make_outcome(actual=[10.0, 11.0, 12.0], forecast=[10.0, 11.0, 12.5], previous=9.0,
                       regions=make_regions(list(range(10)), None, 7))
    assert out.test is not None
    n = (3, 2, 1)
    horizon = Horizon(rmse, n, {"naive": Horizon(naive, n), "ets": Horizon((1.0, 1.0, 1.0), (1, 1, 1))})
    out.test = dataclasses.replace(out.test, recursive=(10.0, 11.0, 12.0), horizon=horizon)
    return out


def test_horizon_rmse_pools_squared_errors_over_runs_and_windows_and_round_trips() -> None:
    spec = ExperimentSpec("b", DataSpec("x.csv", "y"), (ModelSpec("m", (LayerSpec(2),)),),
                          training=TrainingSpec(seeds=(0, 1)))
    outs = {(0, 0, 0): _run((1.0, 2.0, 3.0), (2.0, 2.0, 2.0), 0), (0, 1, 0): _run((3.0, 2.0, 1.0), (2.0, 2.0, 2.0), 0)}
    bt = backtest(spec, outs)
    assert bt.horizons == 3 and bt.rmse_by_horizon["m"] == pytest.approx([np.sqrt(5), 2.0, np.sqrt(5)])
    assert bt.rmse_by_horizon[NAIVE] == bt.rmse_by_horizon["naive"] == pytest.approx([2.0, 2.0, 2.0])
    assert bt.baselines == ("naive", "ets") and bt.rmse_h["naive"] == pytest.approx(2.0)
    # every squared error of both runs: 3·1 + 2·4 + 1·9 and 3·9 + 2·4 + 1·1 over 12 forecasts
    assert bt.rmse_h["m"] == pytest.approx(np.sqrt((20 + 36) / 12))
    raw = outs[(0, 0, 0)].to_dict()
    assert RunOutcome.from_dict(json.loads(json.dumps(raw))).to_dict() == raw
    assert TestForecast.from_dict(raw["test"]).horizon == outs[(0, 0, 0)].test.horizon  # type: ignore[union-attr]


def test_verdicts_say_next_step_and_1_to_h_steps() -> None:
    seeds = (0, 1, 2, 3)
    spec = ExperimentSpec("v", DataSpec("x.csv", "y"), (ModelSpec("m", (LayerSpec(2),)),),
                          training=TrainingSpec(seeds=seeds))
    outs = {(0, s, 0): _run((1.0 + s / 10, 1.0, 1.0), (2.0, 2.0, 2.0), 0) for s in seeds}
    comparison = summarize(spec, outs)
    model = comparison.models[0]
    assert model.horizon == 3 and model.rmse_h is not None and model.beats_naive_h is True
    assert " on the next step" in comparison.headline
    assert "Over 1–3 steps: m beats the best baseline, naive (RMSE 2" in comparison.headline
    saved = comparison.to_dict()["models"][0]
    assert saved["beats_naive_h"] is True and saved["rmse_h"] == pytest.approx(model.rmse_h)
    losing = {(0, s, 0): _run((5.0 + s / 10, 5.0, 5.0), (2.0, 2.0, 2.0), 0) for s in seeds}
    assert "Over 1–3 steps: no model beats the best baseline, naive (RMSE 2" in summarize(spec, losing).headline


@pytest.fixture(scope="module")
def direct_exp() -> ExperimentSpec:
    models = (ModelSpec("recursive", (LayerSpec(4),), target="difference"),
              dataclasses.replace(DIRECT, target="difference"))
    return ExperimentSpec("t", DataSpec("x.csv", "y"), models, WindowSpec(12, future_steps=8), SplitSpec(12),
                          TrainingSpec(epochs=3, batch_size=16, seeds=(0, 1), patience=0))


def _check_direct(out: RunOutcome) -> None:
    assert out.status == "done" and out.metrics is not None and out.test is not None
    horizon = out.test.horizon
    assert horizon is not None and len(horizon.rmse) == 6 and horizon.n == (12, 11, 10, 9, 8, 7)
    assert horizon.pooled() is not None and np.isfinite(horizon.pooled())  # type: ignore[arg-type]
    assert horizon.rmse[0] == pytest.approx(out.metrics.rmse)  # h = 1 is the one-step forecast
    assert len(out.test.recursive) == 6 and out.future is not None and len(out.future.forecast) == 6
    assert {"naive", "seasonal", "drift"} <= set(horizon.baselines)


def test_a_direct_model_trains_on_keras_and_the_batched_engine(direct_exp: ExperimentSpec) -> None:
    from lstm_app.engine.batched import group_key, train_group
    from lstm_app.engine.train import run_one

    keras_run = run_one(direct_exp, SERIES, 1, 0, probe_gradients=False)
    _check_direct(keras_run)
    assert keras_run.params == params.total(direct_exp.models[1], 1, 12)
    exp = direct_exp
    assert group_key(exp.models[0], exp.training, exp.window) != group_key(exp.models[1], exp.training, exp.window)
    direct = [r.outcome for r in train_group(exp, SERIES, [(1, 0), (1, 1)])]
    for out in direct:
        _check_direct(out)
    recursive = [r.outcome for r in train_group(exp, SERIES, [(0, 0), (0, 1)])]
    for out in recursive:  # scored to the experiment's horizon, 6, from every window too
        assert out.test is not None and out.test.horizon is not None and len(out.test.horizon.rmse) == 6
        assert len(out.test.recursive) == 6 and out.future is not None and len(out.future.forecast) == 8
    comparison = summarize(exp, {(0, 0): recursive[0], (0, 1): recursive[1], (1, 0): direct[0], (1, 1): direct[1]})
    assert comparison.backtest.horizons == 6 and all(m.rmse_h is not None for m in comparison.models)
    assert set(comparison.backtest.rmse_by_horizon) >= {"recursive", "direct", NAIVE, "drift"}
