"""Tests for lstm_app.runs.schedule: groups, the engine choice and the time estimate (no TensorFlow)."""

from __future__ import annotations

import dataclasses

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


def test_a_compute_bound_model_keeps_the_per_run_keras_path() -> None:
    [alone] = plan_groups(_large((0,)), 2100).groups
    assert alone.engine is Engine.KERAS, alone.reason
    [three] = plan_groups(_large((0, 1, 2)), 2100).groups
    assert three.engine is Engine.KERAS and three.reason.startswith("compute-bound model"), three.reason
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


def test_members_restrict_the_plan_to_those_runs() -> None:
    exp = hotel_replication(tuple(range(10)))
    [group] = plan_groups(exp, 169, members=[(0, 3), (1, 3)]).groups
    assert group.members == ((0, 3), (1, 3))
