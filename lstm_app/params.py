"""Closed-form parameter counts per layer, without importing TensorFlow.

An LSTM layer of `m` units fed `p` inputs per time step has `4·m·(m+p+1)` weights: four
gates, each with an input kernel (p·m), a recurrent kernel (m·m) and a bias (m). The count
depends on the window length only when lags are fed as features, because then `p` is
`lookback × features`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .spec import FRAMINGS, ModelSpec

__all__ = ["LayerCount", "count_layers", "input_shape", "layer_names", "lstm_params", "total"]


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
    """Keras layer names `lstm_app.engine.model` gives the layers, in order (shared with the counts)."""
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
