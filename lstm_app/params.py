"""Closed-form parameter counts per layer, without importing TensorFlow.

An LSTM layer of `m` units fed `p` inputs per time step has `4·m·(m+p+1)` weights: four
gates, each with an input kernel (p·m), a recurrent kernel (m·m) and a bias (m). The count
depends on the window length only when lags are fed as features, because then `p` is
`lookback × features`.

`check_budget` refuses experiments too big to train here, from the same counts, once the input
width is known (the CLI before training, the worker before building, the page before submitting).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import SpecError
from .spec import FRAMINGS, ExperimentSpec, ModelSpec
from .text import quote

__all__ = [
    "MAX_PARAMS_PER_EXPERIMENT",
    "MAX_PARAMS_PER_MODEL",
    "LayerCount",
    "check_budget",
    "count_layers",
    "input_shape",
    "layer_names",
    "lstm_params",
    "total",
]

# A CPU trains a 5-million-weight LSTM on a few thousand windows in minutes per epoch; beyond
# that (or 20 million over the models trained side by side) a run ties the machine up for hours.
MAX_PARAMS_PER_MODEL = 5_000_000
MAX_PARAMS_PER_EXPERIMENT = 20_000_000


@dataclass(frozen=True)
class LayerCount:
    """One layer's count: its Keras layer name, a label, the formula filled in, the number."""

    name: str
    label: str
    formula: str
    params: int


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


def layer_names(model: ModelSpec) -> list[str]:
    """Keras layer names `lstm_app.model` gives the layers, in order (shared with the counts)."""
    names: list[str] = []
    for i in range(len(model.layers)):
        names.append(f"lstm_{i + 1}")
        if model.between and i < len(model.layers) - 1:
            names.append(f"between_{i + 1}")
    names += [f"dense_{j + 1}" for j in range(len(model.dense))]
    names.append("output")
    return names


def count_layers(model: ModelSpec, n_features: int = 1, lookback: int = 12,
                 framing: str = "steps") -> list[LayerCount]:
    """Per-layer counts, formula filled in, e.g. `4 × 100 × (100 + 1 + 1) = 40,800`."""
    _, width = input_shape(n_features, lookback, framing)
    names = iter(layer_names(model))
    rows: list[LayerCount] = []
    for i, layer in enumerate(model.layers):
        m, p = layer.units, width
        n = lstm_params(m, p)
        label = f"LSTM {m} ({layer.activation})"
        rows.append(LayerCount(next(names), label, f"4 × {m} × ({m} + {p} + 1) = {_n(n)}", n))
        width = m
        if model.between and i < len(model.layers) - 1:
            rows.append(LayerCount(next(names), f"Activation ({model.between})",
                                   "no weights = 0", 0))
    for j, units in enumerate((*model.dense, 1)):
        n = (width + 1) * units
        label = f"Dense {units} ({model.dense_activation})" if j < len(model.dense) else "Dense 1 (output)"
        rows.append(LayerCount(next(names), label, f"({width} + 1) × {units} = {_n(n)}", n))
        width = units
    return rows


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
