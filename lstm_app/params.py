"""The layer plan of a model spec and its closed-form parameter counts, without TensorFlow.

`layer_plan` is the one walk over a model's layers: Keras model building (`engine.model`), the
Keras code export (`report.codegen`), the parameter table (`count_layers`) and the parameter
chart (`report.charts.param_comparison`) all read it, so they cannot drift apart.

An LSTM layer of `m` units fed `p` inputs per time step has `4·m·(m+p+1)` weights: four
gates, each with an input kernel (p·m), a recurrent kernel (m·m) and a bias (m). The count
depends on the window length only when lags are fed as features, because then `p` is
`lookback × features`.

`check_budget` refuses experiments too big to train here, from the same counts, once the input
width is known (the CLI before training, the worker before building, the page before submitting).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .errors import SpecError
from .spec import FRAMINGS, ExperimentSpec, ModelSpec
from .text import quote

__all__ = [
    "MAX_PARAMS_PER_EXPERIMENT", "MAX_PARAMS_PER_MODEL", "LayerCount", "LayerKind", "PlannedLayer", "check_budget",
    "count_layers", "input_shape", "layer_names", "layer_plan", "lstm_params", "total",
]

# A CPU trains a 5-million-weight LSTM on a few thousand windows in minutes per epoch; beyond
# that (or 20 million over the models trained side by side) a run ties the machine up for hours.
MAX_PARAMS_PER_MODEL = 5_000_000
MAX_PARAMS_PER_EXPERIMENT = 20_000_000


class LayerKind(StrEnum):
    """What a planned layer is: a stacked LSTM, an activation between LSTMs, a hidden Dense
    layer of the head, or the final Dense(1) (Dense(H) for a direct model)."""

    LSTM = "lstm"
    BETWEEN = "between"
    DENSE = "dense"
    OUTPUT = "output"


@dataclass(frozen=True)
class PlannedLayer:
    """One layer of a model as Keras builds it: kind, Keras name and class, constructor
    arguments (besides `name`), input and output width, and its parameter count with the
    formula filled in and a short label for tables."""

    kind: LayerKind
    name: str
    keras_class: str
    args: tuple[tuple[str, Any], ...]
    inputs: int
    outputs: int
    params: int
    formula: str
    label: str

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.args)


# The parameter table's rows are the plan's layers.
LayerCount = PlannedLayer


def _n(value: int) -> str:
    return f"{value:,}"


def lstm_params(units: int, inputs: int) -> int:
    """`4·m·(m+p+1)` for an LSTM layer of `units` = m fed `inputs` = p values per step."""
    return 4 * units * (units + inputs + 1)


def input_shape(n_features: int, lookback: int, framing: str) -> tuple[int, int]:
    """(time steps, values per step) of one sample in the given framing."""
    if framing not in FRAMINGS:
        raise ValueError(f"Received an invalid value for argument `framing`, expected one of "
                         f"{', '.join(FRAMINGS)}, got {framing!r}.")
    return (lookback, n_features) if framing == "steps" else (1, lookback * n_features)


def layer_plan(model: ModelSpec, n_features: int = 1, lookback: int = 12,
               framing: str = "steps") -> tuple[PlannedLayer, ...]:
    """The layers Keras builds for `model` fed this input, in order: stacked LSTMs (each but the
    last returning sequences), an activation after every LSTM but the last when `between` is
    set, the hidden Dense layers, and Dense(1), or Dense(horizon) for a direct model."""
    _, width = input_shape(n_features, lookback, framing)
    plan: list[PlannedLayer] = []
    last = len(model.layers) - 1
    for i, layer in enumerate(model.layers):
        m, p = layer.units, width
        n = lstm_params(m, p)
        args = (("units", m), ("activation", layer.activation),
                ("recurrent_activation", layer.recurrent_activation), ("dropout", layer.dropout),
                ("recurrent_dropout", layer.recurrent_dropout), ("return_sequences", i < last))
        plan.append(PlannedLayer(LayerKind.LSTM, f"lstm_{i + 1}", "LSTM", args, p, m, n,
                                 f"4 × {m} × ({m} + {p} + 1) = {_n(n)}", f"LSTM {m} ({layer.activation})"))
        width = m
        if model.between and i < last:
            plan.append(PlannedLayer(LayerKind.BETWEEN, f"between_{i + 1}", "Activation",
                                     (("activation", model.between),), m, m, 0, "no weights = 0",
                                     f"Activation ({model.between})"))
    for j, units in enumerate(model.dense):
        n = (width + 1) * units
        plan.append(PlannedLayer(LayerKind.DENSE, f"dense_{j + 1}", "Dense",
                                 (("units", units), ("activation", model.dense_activation)), width, units, n,
                                 f"({width} + 1) × {units} = {_n(n)}", f"Dense {units} ({model.dense_activation})"))
        width = units
    h = model.outputs  # a direct model's head outputs all `horizon` steps at once
    plan.append(PlannedLayer(LayerKind.OUTPUT, "output", "Dense", (("units", h),), width, h, (width + 1) * h,
                             f"({width} + 1) × {h} = {_n((width + 1) * h)}",
                             f"Dense {h} (output{', direct' if model.strategy == 'direct' else ''})"))
    return tuple(plan)


def layer_names(model: ModelSpec) -> list[str]:
    """Keras layer names of the model's layers, in order (they do not depend on the input)."""
    return [layer.name for layer in layer_plan(model)]


def count_layers(model: ModelSpec, n_features: int = 1, lookback: int = 12,
                 framing: str = "steps") -> list[PlannedLayer]:
    """The parameter table: per-layer counts, formula filled in, e.g. `4 × 100 × (100 + 1 + 1) = 40,800`."""
    return list(layer_plan(model, n_features, lookback, framing))


def total(model: ModelSpec, n_features: int = 1, lookback: int = 12, framing: str = "steps") -> int:
    """Total trainable parameters of the model built for this input."""
    return sum(r.params for r in count_layers(model, n_features, lookback, framing))


def check_budget(spec: ExperimentSpec, n_features: int | None = None) -> int:
    """Raise `SpecError` if a model, or all models together, exceed the parameter budget.

    `n_features` is the number of input columns (default: the target plus `spec.data.features`).
    Returns the total count over all models.
    """
    n_features = 1 + len(spec.data.features) if n_features is None else n_features
    window = spec.window
    counts = [total(m, n_features, window.lookback, window.framing) for m in spec.models]
    for model, count in zip(spec.models, counts, strict=True):
        if count > MAX_PARAMS_PER_MODEL:
            hint = " or lags as time steps" if window.framing == "features" else ""
            raise SpecError(
                f"Model {quote(model.name)} has {count:,} parameters for {n_features} input column(s), "
                f"more than the {MAX_PARAMS_PER_MODEL:,} a model may have: use fewer units or layers{hint}."
            )
    if sum(counts) > MAX_PARAMS_PER_EXPERIMENT:
        raise SpecError(
            f"The {len(counts)} models have {sum(counts):,} parameters together, more than the "
            f"{MAX_PARAMS_PER_EXPERIMENT:,} an experiment may have: train fewer or smaller models at a time."
        )
    return sum(counts)
