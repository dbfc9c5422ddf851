"""Closed-form parameter counts agree with Keras's `count_params()` for every spec."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_app import params
from lstm_app.spec import ACTIVATIONS, LayerSpec, ModelSpec

activation = st.sampled_from(sorted(ACTIVATIONS))


@st.composite
def models(draw: st.DrawFn) -> ModelSpec:
    layers = tuple(
        LayerSpec(draw(st.integers(1, 24)), draw(activation), draw(activation))
        for _ in range(draw(st.integers(1, 3)))
    )
    return ModelSpec("m", layers, between=draw(st.none() | activation),
                     dense=tuple(draw(st.lists(st.integers(1, 6), max_size=2))))


def test_formula_for_the_textbook_example() -> None:
    spec = ModelSpec("m", (LayerSpec(100), LayerSpec(50)))
    rows = params.count_layers(spec, n_features=1, lookback=20)
    assert [r.formula for r in rows] == [
        "4 × 100 × (100 + 1 + 1) = 40,800",
        "4 × 50 × (50 + 100 + 1) = 30,200",
        "(50 + 1) × 1 = 51",
    ]
    assert params.total(spec, 1, 20) == 71051


def test_between_activation_adds_nothing_and_activation_choice_changes_nothing() -> None:
    tanh = ModelSpec("t", (LayerSpec(64), LayerSpec(32)))
    relu_in = ModelSpec("r", (LayerSpec(64, "relu"), LayerSpec(32, "relu")))
    relu_between = ModelSpec("b", (LayerSpec(64), LayerSpec(32)), between="relu")
    totals = {params.total(m, 1, 20) for m in (tanh, relu_in, relu_between)}
    assert len(totals) == 1
    assert [r.params for r in params.count_layers(relu_between) if r.name.startswith("between")] == [0]


def test_window_length_matters_only_when_lags_are_features() -> None:
    spec = ModelSpec("m", (LayerSpec(4),))
    assert params.total(spec, 1, 5, "steps") == params.total(spec, 1, 50, "steps") == 4 * 4 * 6 + 5
    assert params.total(spec, 1, 5, "features") == 4 * 4 * (4 + 5 + 1) + 5
    assert params.total(spec, 2, 5, "features") == 4 * 4 * (4 + 10 + 1) + 5


@given(models(), st.integers(1, 4), st.integers(1, 12), st.sampled_from(["steps", "features"]))
@settings(max_examples=40, deadline=None)
def test_counts_equal_keras_count_params(spec: ModelSpec, features: int, lookback: int, framing: str) -> None:
    from lstm_app.engine.model import build_model

    model = build_model(spec, params.input_shape(features, lookback, framing))
    rows = params.count_layers(spec, features, lookback, framing)
    assert model.count_params() == sum(r.params for r in rows)
    assert [(layer.name, layer.count_params()) for layer in model.layers] == [(r.name, r.params) for r in rows]


def test_one_layer_plan_drives_the_model_the_code_export_and_the_table() -> None:
    keras = pytest.importorskip("keras")
    from lstm_app.engine.model import build_model
    from lstm_app.report.codegen import keras_code

    spec = ModelSpec("relu between/é", (LayerSpec(6, "relu", dropout=0.1), LayerSpec(3)), between="elu", dense=(4,))
    plan = params.layer_plan(spec, n_features=2, lookback=5, framing="features")
    assert [p.kind for p in plan] == ["lstm", "between", "lstm", "dense", "output"]
    built = build_model(spec, params.input_shape(2, 5, "features"))
    scope: dict[str, object] = {}
    exec(keras_code(spec, 2, 5, "features").replace("model.summary()", ""), scope)  # the exported script
    exported = scope["model"]
    for model in (built, exported):
        assert [(type(layer).__name__, layer.name) for layer in model.layers] == \
            [(p.keras_class, p.name) for p in plan]
        assert [layer.count_params() for layer in model.layers] == [p.params for p in plan]
    assert built.layers[0].dropout == 0.1 and exported.layers[0].dropout == 0.1
    assert keras.activations.serialize(exported.layers[1].activation) == "elu"


@pytest.mark.parametrize(("target", "season"), [("difference", None), ("seasonal difference", 4), ("log", None),
                                                ("log difference", None)])
def test_the_exported_code_transforms_and_undoes_the_target_as_the_app_does(target: str, season: int | None) -> None:
    pytest.importorskip("keras")
    from lstm_app.report.codegen import keras_code
    from lstm_app.windows import Target

    spec = ModelSpec("m", (LayerSpec(4),), target=target, season=season)
    scope: dict[str, Any] = {}
    exec(keras_code(spec, 1, 5, "steps").replace("model.summary()", ""), scope)
    values = np.array([[10.0], [12.0], [15.0], [11.0], [13.0], [16.0], [14.0]])
    app = Target.of(target, season)
    assert scope["to_target"](values) == pytest.approx(app.apply(values))
    lag = app.lag
    z = float(app.apply(values)[-1, 0])
    assert scope["from_target"](z, float(values[-1 - lag, 0]) if lag else 0.0) == pytest.approx(14.0)
