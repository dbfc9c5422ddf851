"""Rolling-origin backtests: origins on an expanding window, one more run axis from the spec to the
store, the workers, the comparison and the files (real tiny training where it matters)."""

from __future__ import annotations

import csv
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from factories import make_outcome, make_regions
from lstm_app import windows
from lstm_app.cli import main
from lstm_app.errors import DataError, SpecError
from lstm_app.presets import hotel_replication
from lstm_app.report import metrics
from lstm_app.report.compare import summarize
from lstm_app.runs.schedule import plan_groups
from lstm_app.runs.store import Store
from lstm_app.spec import (
    BacktestSpec,
    DataSpec,
    ExperimentSpec,
    LayerSpec,
    ModelSpec,
    SplitSpec,
    TrainingSpec,
    WindowSpec,
)

ROOT = Path(__file__).resolve().parents[1]


def _spec(origins: int, seeds: tuple[int, ...] = (0, 1, 2), epochs: int = 3, test: int = 12) -> ExperimentSpec:
    return ExperimentSpec(
        "walk", DataSpec("walk.csv", "y"),
        (ModelSpec("tanh", (LayerSpec(4),)), ModelSpec("relu", (LayerSpec(4, "relu"),))),
        WindowSpec(lookback=8, future_steps=5), SplitSpec(test),
        TrainingSpec(epochs=epochs, batch_size=32, seeds=seeds, patience=0),
        BacktestSpec(origins),
    )


def _walk(n: int = 200, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"y": 100 + np.cumsum(rng.normal(0, 1, n))},
                        index=pd.date_range("2020-01-05", periods=n, freq="W-SUN"))


def test_origins_step_back_one_test_period_each_and_scale_on_their_own_training_rows() -> None:
    frame, spec = _walk(), _spec(4)
    assert windows.origin_ends(200, spec.split, 4) == [164, 176, 188, 200]
    tests = []
    for origin in range(4):
        part, part_spec = windows.at_origin(frame, spec, origin)
        assert part_spec.backtest.origins == 1 and part_spec.split.test_size == 12
        data = windows.prepare(part, part_spec.window, part_spec.split, part_spec.training)
        tests.append(list(part.index[data.split.test_start:]))
        # min-max scaling fitted on this origin's training rows only: later rows never leak in
        fit_rows = part["y"].to_numpy()[: data.split.val_start]
        assert data.scaler.offset[0] == pytest.approx(fit_rows.min())
        assert data.scaler.scale[0] == pytest.approx(fit_rows.max() - fit_rows.min())
        seed_rows = data.origin_window()
        assert len(seed_rows) == 8 and seed_rows[-1, 0] == data.scaled[data.split.test_start - 1, 0]
    flat = [t for period in tests for t in period]
    assert len(flat) == 48 and flat == sorted(flat) and len(set(flat)) == 48  # consecutive, never overlapping
    assert flat[-1] == frame.index[-1]
    # a fractional test size is fixed in points from the whole series, not shrunk per origin
    share = dataclasses.replace(spec, split=SplitSpec(0.1))
    assert windows.at_origin(frame, share, 0)[1].split.test_size == 20
    with pytest.raises(ValueError, match="origin"):
        windows.at_origin(frame, spec, 4)


def test_too_many_origins_are_refused_in_one_sentence_and_the_default_fits_the_series() -> None:
    spec = _spec(30)
    with pytest.raises(DataError) as info:
        windows.check_origins(200, spec.window, spec.split, spec.training.validation_share, 30)
    text = str(info.value)
    assert text.startswith("30 backtest origins need") and "use at most" in text and text.count(". ") == 0
    fits = int(text.split("use at most ")[1].split()[0])
    windows.check_origins(200, spec.window, spec.split, spec.training.validation_share, fits)
    assert windows.suggest_origins(200, spec.window, spec.split, 0.2) == 5
    assert windows.suggest_origins(60, spec.window, spec.split, 0.2) == 2  # keeps half its training windows
    assert windows.suggest_origins(40, spec.window, spec.split, 0.2) == 1  # too short to go back
    with pytest.raises(DataError):
        plan_groups(spec, 200)


def test_the_backtest_spec_round_trips_and_old_files_mean_one_origin() -> None:
    spec = _spec(5)
    assert ExperimentSpec.from_json(spec.to_json()) == spec
    raw = spec.to_dict()
    del raw["backtest"]
    assert ExperimentSpec.from_dict(raw).backtest.origins == 1
    assert len(spec.backtest_runs()) == 2 * 3 * 5 and spec.backtest_runs()[:2] == [(0, 0, 0), (0, 0, 1)]
    for bad in (0, 51, 2.5, "3"):
        with pytest.raises(SpecError, match="origins"):
            ExperimentSpec.from_dict({**raw, "backtest": {"origins": bad}})
    with pytest.raises(SpecError, match="Unknown key `k`"):
        ExperimentSpec.from_dict({**raw, "backtest": {"k": 3}})


def test_each_origin_is_its_own_group_latest_first_and_the_store_queues_every_origin(tmp_path: Path) -> None:
    spec = hotel_replication(tuple(range(4)), origins=3)
    plan = plan_groups(spec, 169)
    assert [g.origin for g in plan.groups] == [2, 1, 0]
    assert all(sorted(g.members) == sorted(spec.runs()) for g in plan.groups)
    assert plan.group_of(1, 3, 0).origin == 0 and "over 3 backtest origins" in plan.describe()
    store = Store(tmp_path / "runs.sqlite")
    sha = store.put_dataset("h.csv", b"a,b\n1,2\n")
    eid = store.create_experiment(spec, sha)
    runs = store.runs(eid)
    assert sorted((r.model_index, r.seed, r.origin) for r in runs) == sorted(spec.backtest_runs())
    assert [r.origin for r in runs[:8]] == [2] * 8  # the latest origin queues first: it shows first


@pytest.mark.slow
def test_a_backtest_trains_every_origin_scores_horizons_and_writes_it_to_the_results(tmp_path: Path) -> None:
    from lstm_app import data
    from lstm_app.runs import headless

    frame, spec = _walk(), _spec(3, epochs=3)
    outcomes, failures = headless.run_experiment(spec, frame)
    assert not failures and sorted(outcomes) == sorted(spec.backtest_runs())
    starts = {o: outcomes[(0, 0, o)].regions.test_start for o in range(3)}  # type: ignore[union-attr]
    assert starts[0] < starts[1] < starts[2] == frame.index[-12].isoformat()
    for out in outcomes.values():
        assert out.test is not None and len(out.test.recursive) == 12 == len(out.test.actual)
    # the same seed at the same origin: the same split for both models
    assert outcomes[(0, 1, 1)].test.actual == outcomes[(1, 1, 1)].test.actual  # type: ignore[union-attr]
    comparison = summarize(spec, outcomes)
    bt = comparison.backtest
    assert bt.count == 3 and [o.index for o in bt.origins] == [0, 1, 2] and bt.horizons == 12
    assert bt.forecasts["tanh"] == 9 and bt.forecasts["naive (last value)"] == 3
    assert all(v is not None and v > 0 for v in bt.rmse_by_horizon["relu"])
    vs = comparison.models[1].vs_reference
    assert vs is not None and vs.rmse.n == 9  # paired over 3 seeds × 3 origins
    # An undertrained LSTM on a random walk: no model beats the naive forecast, and the first
    # verdict line says so before anything about activations.
    assert [m.beats_naive for m in comparison.models] == [False, False]
    assert comparison.headline.startswith("No model beats the best baseline")
    assert "9 runs" in comparison.models[0].verdict and "runs" in comparison.models[1].verdict
    table = data.read_csv(frame.reset_index(names="date").to_csv(index=False).encode(), name="walk.csv")
    headless.write_results(tmp_path, spec, table, outcomes, failures, comparison)
    results = json.loads((tmp_path / "results.json").read_text())
    assert [o["index"] for o in results["backtest"]["origins"]] == [0, 1, 2]
    assert len(results["backtest"]["rmse_by_horizon"]["tanh"]) == 12
    assert results["comparison"]["models"][1]["beats_naive"] is False
    assert "0@2" in results["comparison"]["models"][0]["per_seed"]
    assert {r["origin"] for r in results["runs"]} == {0, 1, 2} and len(results["runs"]) == 18
    with (tmp_path / "metrics.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 18 and {r["origin"] for r in rows} == {"0", "1", "2"}
    per_run = comparison.per_seed_table()
    assert list(per_run.columns[:4]) == ["Model", "Seed", "Origin", "Status"] and len(per_run) == 18


def _origin_outcome(rng: np.random.Generator, origin: int, errors: np.ndarray, level: float) -> object:
    actual = level + np.sin(np.arange(len(errors)))
    labels = list(range(100 * origin, 100 * origin + len(errors)))
    return make_outcome(time=labels, actual=actual, forecast=actual + errors, previous=level,
                        regions=make_regions(list(range(100 * origin - 50, 100 * origin + len(errors))), None, 50))


def test_paired_over_seeds_and_origins_a_planted_difference_is_found_and_a_copy_is_not() -> None:
    rng = np.random.default_rng(5)
    spec = ExperimentSpec("p", DataSpec("sample:x.csv", "y"),
                          tuple(ModelSpec(n, (LayerSpec(4),)) for n in ("a", "copy of a", "degraded")),
                          training=TrainingSpec(seeds=(0, 1, 2)), backtest=BacktestSpec(4))
    outcomes = {}
    for s in range(3):
        for o in range(4):
            errors = rng.normal(0, 0.3, 10)
            level = 10.0 * (o + 1)  # origins differ in level: pairing by origin removes that
            outcomes[(0, s, o)] = _origin_outcome(rng, o, errors, level)
            outcomes[(1, s, o)] = _origin_outcome(rng, o, errors.copy(), level)
            outcomes[(2, s, o)] = _origin_outcome(rng, o, 1.6 * errors + 0.2, level)
    comparison = summarize(spec, outcomes)  # type: ignore[arg-type]
    same, degraded = comparison.models[1], comparison.models[2]
    assert same.vs_reference is not None and same.vs_reference.rmse.n == 12
    assert "identical" in same.verdict and "12 runs" in same.verdict
    assert degraded.vs_reference is not None and degraded.vs_reference.rmse.excludes_zero
    assert degraded.verdict.endswith("a real deterioration on this data.") and "of 12 runs" in degraded.verdict
    # each origin's own naive RMSE is the baseline its runs are paired with
    assert comparison.baselines is not None and comparison.baselines.per_origin is not None
    assert sorted(comparison.baselines.per_origin["naive"]) == [0, 1, 2, 3]
    assert comparison.table().columns[0] == "Runs"
    assert comparison.origins == 4 and "4 backtest origins" in comparison.headline


def test_the_cli_runs_a_backtest_with_origins_given_on_the_command_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = dataclasses.replace(hotel_replication((0,)), models=(ModelSpec("tanh", (LayerSpec(2),)),),
                               training=TrainingSpec(epochs=1, batch_size=16, seeds=(0, 1), patience=0))
    exp_file = tmp_path / "exp.json"
    exp_file.write_text(spec.to_json())
    proc = subprocess.run([sys.executable, "-m", "lstm_app", "run", str(exp_file), "--out", str(tmp_path / "o"),
                           "--origins", "2"], capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "× 2 backtest origins = 4 runs" in proc.stdout and "origin 2 of 2" in proc.stdout
    results = json.loads((tmp_path / "o" / "results.json").read_text())
    assert results["experiment"]["backtest"] == {"origins": 2} and len(results["backtest"]["origins"]) == 2
    # refused before anything trains (in-process: no TensorFlow is loaded for it)
    assert main(["run", str(exp_file), "--out", str(tmp_path / "p"), "--origins", "40"]) == 2
    assert capsys.readouterr().err.strip().startswith("error: 40 backtest origins need")


def test_horizon_rmse_pools_recursive_errors_and_holds_the_naive_flat() -> None:
    from lstm_app.outcome import TestForecast
    from lstm_app.report.backtest import backtest

    spec = dataclasses.replace(_spec(2), models=(ModelSpec("m", (LayerSpec(2),)),), training=TrainingSpec(seeds=(0,)))
    actual = (10.0, 12.0, 14.0)
    outs = {}
    for o, rec in ((0, (11.0, 12.0, 17.0)), (1, (9.0, 12.0, 11.0))):
        out = make_outcome(actual=list(actual), forecast=list(actual), previous=10.0,
                           regions=make_regions(list(range(10)), None, 7))
        assert out.test is not None
        out.test = TestForecast(out.test.time, out.test.actual, out.test.forecast, out.test.naive, rec)
        outs[(0, 0, o)] = out
    bt = backtest(spec, outs)
    assert bt.horizons == 3
    assert bt.rmse_by_horizon["m"] == pytest.approx([1.0, 0.0, 3.0])
    assert bt.rmse_by_horizon["naive (last value)"] == pytest.approx([0.0, 2.0, 4.0])
    assert metrics.naive_forecast(10.0, np.array(actual)).tolist()[0] == 10.0
