"""Specs validate with Keras-style messages and round-trip through JSON."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_app import params
from lstm_app.errors import SpecError
from lstm_app.spec import (
    ACTIVATIONS,
    MAX_JSON_BYTES,
    MAX_JSON_DEPTH,
    MAX_LAYERS,
    MAX_MODELS,
    MAX_UNITS,
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


# --- limits and wrong types in experiment files ---------------------------------------------------



def _valid() -> dict:
    return ExperimentSpec("e", DataSpec("f.csv", "y", "date", ("x",)),
                          (ModelSpec("a", (LayerSpec(4), LayerSpec(2))),)).to_dict()


@pytest.mark.parametrize(("path", "value", "argument"), [
    (("data", "features"), [[1]], "features"),
    (("data", "features"), 5, "features"),
    (("data", "target"), ["y"], "target"),
    (("data", "time_column"), {"a": 1}, "time_column"),
    (("data", "sha256"), 12, "sha256"),
    (("models", 0, "layers", 0, "activation"), [1], "activation"),
    (("models", 0, "between"), {"x": 1}, "between"),
    (("models", 0, "dense"), 3, "dense"),
    (("models", 0, "dense"), [[1]], "dense"),
    (("models", 0, "name"), None, "name"),
    (("models", 0, "layers", 0, "units"), lambda: 10**5000, "units"),
    (("training", "learning_rate"), 10**400, "learning_rate"),
    (("training", "seeds"), [[0]], "seeds"),
    (("training", "seeds"), [0] * 1000, "seeds"),
    (("split", "test_size"), 10**400, "test_size"),
    (("window", "framing"), ["steps"], "framing"),
])
def test_wrong_types_anywhere_name_the_field(path: tuple, value: object, argument: str) -> None:
    value = value() if callable(value) else value
    raw = _valid()
    target = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(SpecError, match=f"argument `{argument}`") as info:
        ExperimentSpec.from_dict(raw)
    assert "\n" not in str(info.value) and len(str(info.value)) < 300


def test_features_message_shows_what_was_given() -> None:
    raw = _valid()
    raw["data"]["features"] = [[1]]
    with pytest.raises(SpecError) as info:
        ExperimentSpec.from_dict(raw)
    assert str(info.value).endswith("expected a list of at most 100 column names, got [[1]].")


def test_missing_keys_are_named() -> None:
    raw = _valid()
    del raw["data"]["target"]
    with pytest.raises(SpecError, match="Missing key `target` in `data`"):
        ExperimentSpec.from_dict(raw)
    raw = _valid()
    del raw["models"][0]["layers"][0]["units"]
    with pytest.raises(SpecError, match="Missing key `units` in `layers"):
        ExperimentSpec.from_dict(raw)


def test_deep_json_is_refused_before_parsing() -> None:
    for text in ("[" * 100_000 + "]" * 100_000, '{"a":' * 5000 + "1" + "}" * 5000):
        with pytest.raises(SpecError, match=f"more than the {MAX_JSON_DEPTH} levels"):
            ExperimentSpec.from_json(text)
    # brackets inside strings do not count
    raw = _valid()
    raw["data"]["target"] = "[{" * 1000
    assert ExperimentSpec.from_json(json.dumps(raw)).data.target == "[{" * 1000


def test_big_json_with_a_million_models_is_refused_at_once() -> None:
    import tracemalloc

    raw = _valid()
    model = json.dumps(raw["models"][0]).encode()
    head = json.dumps({**raw, "models": []}).encode().replace(b'"models": []', b'"models": [%s]')
    assert len(ExperimentSpec.from_json(head % model).models) == 1  # the template is a valid experiment
    text = head % b", ".join([model] * 1_000_000)
    assert len(text) > 50_000_000
    tracemalloc.start()
    with pytest.raises(SpecError, match=f"more than the {MAX_JSON_BYTES:,} bytes"):
        ExperimentSpec.from_json(text)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1_000_000  # refused before parsing: a parse of 50 MB would allocate far more


def test_model_count_is_checked_on_the_raw_list_before_building(monkeypatch: pytest.MonkeyPatch) -> None:
    import lstm_app.spec as spec_module

    built: list[object] = []
    monkeypatch.setattr(spec_module, "_model", lambda raw: built.append(raw))
    raw = _valid()
    raw["models"] = raw["models"] * (MAX_MODELS + 1)
    with pytest.raises(SpecError, match=f"expected 1 to {MAX_MODELS} models, got {MAX_MODELS + 1}."):
        ExperimentSpec.from_dict(raw)
    assert built == []


def test_width_independent_limits() -> None:
    with pytest.raises(SpecError, match=f"at most {MAX_UNITS}"):
        LayerSpec(MAX_UNITS + 1)
    with pytest.raises(SpecError, match=f"at most {MAX_LAYERS} stacked"):
        ModelSpec("m", tuple(LayerSpec(2) for _ in range(MAX_LAYERS + 1)))
    raw = _valid()
    raw["models"][0]["layers"] = raw["models"][0]["layers"] * 50
    with pytest.raises(SpecError, match=f"at most {MAX_LAYERS} stacked"):
        ExperimentSpec.from_dict(raw)


def test_direct_construction_with_wrong_types_is_a_spec_error() -> None:
    data = DataSpec("f.csv", "y")
    with pytest.raises(SpecError, match="argument `models`"):
        ExperimentSpec("e", data, ({"name": "a"},))  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="argument `training`"):
        ExperimentSpec("e", data, (ModelSpec("a", (LayerSpec(2),)),), training={})  # type: ignore[arg-type]


def test_parameter_budget_names_the_model_the_count_and_the_limit() -> None:
    big = ModelSpec("big", tuple(LayerSpec(MAX_UNITS) for _ in range(MAX_LAYERS)))
    exp = ExperimentSpec("e", DataSpec("f.csv", "y"), (big,))
    count = params.total(big, 1, exp.window.lookback, exp.window.framing)
    with pytest.raises(SpecError) as info:
        params.check_budget(exp)
    message = str(info.value)
    assert f"'big' has {count:,} parameters" in message
    assert f"{params.MAX_PARAMS_PER_MODEL:,}" in message and message.endswith(".")
    fits = ModelSpec("fits", (LayerSpec(MAX_UNITS),))
    assert params.total(fits, 1) <= params.MAX_PARAMS_PER_MODEL
    many = ExperimentSpec("e", DataSpec("f.csv", "y"),
                          tuple(dataclasses.replace(fits, name=f"m{i}") for i in range(6)))
    with pytest.raises(SpecError, match=f"more than the {params.MAX_PARAMS_PER_EXPERIMENT:,}"):
        params.check_budget(many)
    assert params.check_budget(ExperimentSpec("e", DataSpec("f.csv", "y"), (fits,))) == params.total(fits, 1)


def test_parameter_budget_depends_on_the_input_width() -> None:
    model = ModelSpec("wide", (LayerSpec(64),))
    exp = ExperimentSpec("e", DataSpec("f.csv", "y"), (model,), WindowSpec(lookback=1000, framing="features"))
    assert params.check_budget(exp, n_features=1) == params.total(model, 1, 1000, "features")
    with pytest.raises(SpecError, match="lags as time steps"):
        params.check_budget(exp, n_features=100)


def test_values_in_messages_are_shortened() -> None:
    raw = _valid()
    raw["name"] = {"deep": [[{"x": "y" * 1000}] * 50] * 50}
    with pytest.raises(SpecError) as info:
        ExperimentSpec.from_dict(raw)
    assert "argument `name`" in str(info.value) and len(str(info.value)) < 250
