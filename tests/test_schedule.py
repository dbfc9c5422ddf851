"""Tests for lstm_app.runs.schedule: groups, the engine choice and the time estimate (no TensorFlow)."""

from __future__ import annotations

import dataclasses

import pytest

from lstm_app import windows
from lstm_app.presets import hotel_replication
from lstm_app.runs.schedule import CostModel, Engine, group_key, plan_groups
from lstm_app.spec import DataSpec, ExperimentSpec, LayerSpec, ModelSpec, SplitSpec, TrainingSpec, WindowSpec


def _large(seeds: tuple[int, ...]) -> ExperimentSpec:
    return ExperimentSpec(
        "large", DataSpec("l.csv", "y"), (ModelSpec("large", (LayerSpec(64), LayerSpec(32))),),
        WindowSpec(lookback=20, future_steps=5), SplitSpec(50),
        TrainingSpec(epochs=3, batch_size=32, seeds=seeds, patience=0, validation_share=0.0),
    )


def test_the_replication_is_one_batched_group_of_every_model_and_seed() -> None:
    exp = hotel_replication(tuple(range(10)))
    plan = plan_groups(exp, 169)
    [group] = plan.groups
    assert group.engine is Engine.BATCHED and sorted(group.members) == sorted(exp.runs())
    assert "20 runs share one graph" in group.reason
    assert plan.describe().endswith("20 runs in 1 batched group")


def test_models_of_other_shapes_form_their_own_groups() -> None:
    models = (ModelSpec("a", (LayerSpec(8),)), ModelSpec("b", (LayerSpec(8, "relu"),), between=None),
              ModelSpec("c", (LayerSpec(8), LayerSpec(4))), ModelSpec("d", (LayerSpec(8, recurrent_dropout=0.1),)))
    exp = dataclasses.replace(hotel_replication((0, 1)), models=models)
    assert group_key(models[0]) == group_key(models[1]) != group_key(models[2]) != group_key(models[3])
    groups = {tuple(sorted({i for i, _ in g.members})) for g in plan_groups(exp, 169).groups}
    assert groups == {(0, 1), (2,), (3,)}


def test_a_compute_bound_model_goes_to_the_engine_the_rates_make_faster() -> None:
    # On the reference machine the batched engine computes LSTM 64→32 faster even for one run
    # (calibrate: 10.1 vs 17.2 ms per step), so with its rates the lone run is batched too ...
    [alone] = plan_groups(_large((0,)), 2100).groups
    assert alone.engine is Engine.BATCHED, alone.reason
    # ... while with a Keras path as fast as it was before the fused LSTM, it stays on Keras.
    old = CostModel(keras_overhead=2e-3, keras_rate=2.2e10, batched_overhead=8e-4, batched_rate=7e9)
    [three] = plan_groups(_large((0, 1, 2)), 2100, cost=old).groups
    assert three.engine is Engine.KERAS and three.reason.startswith("compute-bound model"), three.reason
    # A run too short to repay tracing a graph keeps Keras whatever the rates.
    short = dataclasses.replace(_large((0,)), training=dataclasses.replace(_large((0,)).training, epochs=1))
    [once] = plan_groups(short, 300).groups
    assert once.engine is Engine.KERAS, once.reason
    # With overheads alone the batched graph wins by far; with arithmetic alone, by its rate.
    cost = CostModel()
    assert cost.batched_seconds(0.0, 80, 20, 20) < cost.keras_seconds(0.0, 80, 20) * 20 / 10


def test_on_a_gpu_cudnn_groups_keep_keras_and_others_batch() -> None:
    exp = hotel_replication((0, 1, 2))
    tanh_only = dataclasses.replace(exp, models=exp.models[:1])
    [group] = plan_groups(tanh_only, 169, gpu=True).groups
    assert group.engine is Engine.KERAS and "cuDNN" in group.reason
    [mixed] = plan_groups(exp, 169, gpu=True).groups  # a relu model is in the group: no cuDNN for it
    assert mixed.engine is Engine.BATCHED


def test_the_estimate_grows_with_the_work() -> None:
    exp = hotel_replication((0, 1))
    small = plan_groups(exp, 169).seconds
    more = dataclasses.replace(exp, training=dataclasses.replace(exp.training, epochs=200))
    assert plan_groups(more, 169).seconds > 2 * small
    cost = CostModel()
    assert cost.step_flops(_large((0,)).models[0], 20, 1, 32) > 100 * cost.step_flops(exp.models[0], 1, 5, 1)


def test_the_estimate_counts_each_origins_references_and_a_cold_workers_start() -> None:
    from lstm_app.runs import schedule

    exp = hotel_replication((0, 1), origins=3)
    cost = CostModel()
    plan = plan_groups(exp, 2000, cost=cost)
    ends = windows.origin_ends(2000, exp.split, 3)
    test = exp.split.test_points(2000)
    assert plan.scoring == pytest.approx(sum(cost.reference_seconds(end - test) for end in ends))
    assert plan.seconds == pytest.approx(sum(g.seconds for g in plan.groups) + plan.scoring)
    assert cost.reference_seconds(2000) > 2 * cost.reference_seconds(500)  # the fits grow with the rows
    warm, sentence = schedule.estimate(exp, 2000, cost=cost)
    cold, cold_sentence = schedule.estimate(exp, 2000, cost=cost, cold=True)
    assert cold == pytest.approx(warm + cost.worker_start)
    assert "fitting the statistical references" in sentence and "for a worker to start" not in sentence
    assert f"{cost.worker_start:.0f} s for a worker to start" in cold_sentence


def test_members_restrict_the_plan_to_those_runs() -> None:
    exp = hotel_replication(tuple(range(10)))
    [group] = plan_groups(exp, 169, members=[(0, 3), (1, 3)]).groups
    assert group.members == ((0, 3), (1, 3))


def test_measured_rates_kept_in_the_data_folder_route_the_groups_on_this_machine_only(tmp_path) -> None:
    import json

    from lstm_app.runs import schedule

    lone = _large((0,))
    assert schedule.cost_model(tmp_path) == CostModel()  # nothing measured: the defaults
    # A machine whose batched engine computes far faster than its Keras path: the lone
    # compute-bound run goes to the batched engine, and the estimate follows the rates.
    path = schedule.save_rates(tmp_path, {"keras_rate": 1e9, "batched_rate": 1e11})
    fast = schedule.cost_model(tmp_path)
    assert (fast.keras_rate, fast.batched_rate, fast.keras_overhead) == (1e9, 1e11, CostModel().keras_overhead)
    [group] = plan_groups(lone, 2100, cost=fast).groups
    assert group.engine is Engine.BATCHED, group.reason
    # ... and one whose Keras path is far faster keeps it there.
    schedule.save_rates(tmp_path, {"keras_rate": 1e12, "batched_rate": 1e9})
    [group] = plan_groups(lone, 2100, cost=schedule.cost_model(tmp_path)).groups  # the file changed: read again
    assert group.engine is Engine.KERAS, group.reason
    seconds, sentence = schedule.estimate(lone, 2100, cost=schedule.cost_model(tmp_path))
    assert seconds == plan_groups(lone, 2100, cost=schedule.cost_model(tmp_path)).seconds and "Keras" in sentence
    # Rates measured on another machine, or a damaged file, leave the defaults.
    raw = json.loads(path.read_text())
    path.write_text(json.dumps({**raw, "machine": "elsewhere, 64 CPUs, arm64"}))
    assert schedule.cost_model(tmp_path) == CostModel()
    path.write_text("{not json")
    assert schedule.cost_model(tmp_path) == CostModel()
    path.write_text(json.dumps({**raw, "fields": {"keras_rate": -1, "batched_rate": "fast", "other": 3}}))
    assert schedule.cost_model(tmp_path) == CostModel()
    for bad in ({"keras_rate": 0.0}, {"keras_rate": float("nan")}, {"flops": 1.0}):
        with pytest.raises(ValueError, match="expected positive finite"):
            schedule.save_rates(tmp_path, bad)
