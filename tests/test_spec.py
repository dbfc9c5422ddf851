"""Specs validate with Keras-style messages and round-trip through JSON."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_app.errors import SpecError
from lstm_app.spec import (
    ACTIVATIONS,
    DataSpec,
    ExperimentSpec,
    LayerSpec,
    ModelSpec,
    SplitSpec,
    TrainingSpec,
    WindowSpec,
    cudnn_eligible,
)

activation = st.sampled_from(sorted(ACTIVATIONS))
layer = st.builds(LayerSpec, units=st.integers(1, 64), activation=activation,
                  recurrent_activation=activation, dropout=st.sampled_from([0.0, 0.1]))


@st.composite
def experiments(draw: st.DrawFn) -> ExperimentSpec:
    n = draw(st.integers(1, 4))
    models = tuple(
        ModelSpec(f"m{i}", tuple(draw(st.lists(layer, min_size=1, max_size=3))),
                  between=draw(st.none() | activation), dense=tuple(draw(st.lists(st.integers(1, 8), max_size=2))))
        for i in range(n)
    )
    return ExperimentSpec(
        draw(st.text(min_size=1, max_size=20).filter(str.strip)),
        DataSpec("sample:x.csv", "y", "date", ("a", "b")),
        models,
        WindowSpec(draw(st.integers(1, 50)), draw(st.sampled_from(["steps", "features"]))),
        SplitSpec(draw(st.sampled_from([0.1, 0.25, 10, 3]))),
        TrainingSpec(seeds=tuple(draw(st.sets(st.integers(0, 1000), min_size=1, max_size=5)))),
    )


@given(experiments())
@settings(max_examples=60, deadline=None)
def test_experiment_round_trips_through_json(exp: ExperimentSpec) -> None:
    again = ExperimentSpec.from_json(exp.to_json())
    assert again == exp
    assert json.loads(again.to_json()) == json.loads(exp.to_json())


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: LayerSpec(0), "Received an invalid value for argument `units`, expected a positive integer, got 0."),
        (lambda: LayerSpec(4, activation="relu6x"), "argument `activation`"),
        (lambda: LayerSpec(4, dropout=1.0), "argument `dropout`"),
        (lambda: ModelSpec("a", ()), "argument `layers`"),
        (lambda: ModelSpec("", (LayerSpec(2),)), "argument `name`"),
        (lambda: WindowSpec(framing="lags"), "argument `framing`"),
        (lambda: SplitSpec(1.5), "argument `test_size`"),
        (lambda: SplitSpec(0), "argument `test_size`"),
        (lambda: TrainingSpec(seeds=(1, 1)), "distinct seeds"),
        (lambda: TrainingSpec(learning_rate=0), "argument `learning_rate`"),
        (lambda: TrainingSpec(epochs=True), "argument `epochs`"),
        (lambda: DataSpec("f.csv", "y", features=("y",)), "argument `features`"),
        (
            lambda: ExperimentSpec("e", DataSpec("f.csv", "y"),
                                   (ModelSpec("a", (LayerSpec(2),)), ModelSpec("a", (LayerSpec(3),)))),
            "distinct model names",
        ),
    ],
)
def test_invalid_values_raise_keras_style_messages(build, message: str) -> None:
    with pytest.raises(SpecError) as info:
        build()
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_from_dict_rejects_unknown_keys_and_bad_json() -> None:
    good = ExperimentSpec("e", DataSpec("f.csv", "y"), (ModelSpec("a", (LayerSpec(2),)),)).to_dict()
    good["models"][0]["layers"][0]["unitz"] = 3
    with pytest.raises(SpecError, match="Unknown key `unitz` in `layers"):
        ExperimentSpec.from_dict(good)
    with pytest.raises(SpecError, match="not valid JSON"):
        ExperimentSpec.from_json("{nope")
    with pytest.raises(SpecError, match="argument `models`"):
        ExperimentSpec.from_dict({"name": "e", "data": {"source": "f", "target": "y"}, "models": {}})


def test_runs_pair_every_model_with_the_same_seeds() -> None:
    exp = ExperimentSpec("e", DataSpec("f.csv", "y"),
                         (ModelSpec("a", (LayerSpec(2),)), ModelSpec("b", (LayerSpec(2, "relu"),))),
                         training=TrainingSpec(seeds=(3, 7)))
    assert exp.runs() == [(0, 3), (0, 7), (1, 3), (1, 7)]


def test_split_counts_points_or_fraction() -> None:
    assert SplitSpec(10).test_points(115) == 10
    assert SplitSpec(10.0).test_size == 10
    assert SplitSpec(0.1).test_points(115) == 12
    assert SplitSpec(0.001).test_points(50) == 1


def test_cudnn_eligibility_follows_keras_rules() -> None:
    assert cudnn_eligible(ModelSpec("t", (LayerSpec(4), LayerSpec(2)), between="relu"))[0]
    ok, why = cudnn_eligible(ModelSpec("r", (LayerSpec(4, "relu"),)))
    assert not ok and "relu" in why
    assert not cudnn_eligible(ModelSpec("g", (LayerSpec(4, recurrent_activation="hard_sigmoid"),)))[0]
    assert not cudnn_eligible(ModelSpec("d", (LayerSpec(4, recurrent_dropout=0.1),)))[0]
    assert cudnn_eligible(ModelSpec("d", (LayerSpec(4, dropout=0.1),)))[0]


def test_describe_reads_like_the_network() -> None:
    spec = ModelSpec("x", (LayerSpec(64, "relu"), LayerSpec(32)), between="relu")
    assert spec.describe() == "LSTM 64 (relu) → relu → LSTM 32 (tanh) → Dense 1"
