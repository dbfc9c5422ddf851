"""Build a Keras model from a `ModelSpec` once the data fix the input shape (imports Keras)."""

from __future__ import annotations

import keras

from ..params import layer_names
from ..spec import ModelSpec

__all__ = ["build_model", "lstm_layers"]


def build_model(spec: ModelSpec, input_shape: tuple[int, int]) -> keras.Sequential:
    """Stacked LSTM → optional activation between layers → dense head → Dense(1).

    Layer names match `params.layer_names`, so closed-form counts line up with Keras's.
    """
    names = iter(layer_names(spec))
    layers: list[keras.layers.Layer] = [keras.Input(shape=input_shape, name="window")]
    last = len(spec.layers) - 1
    for i, layer in enumerate(spec.layers):
        layers.append(
            keras.layers.LSTM(
                layer.units,
                activation=layer.activation,
                recurrent_activation=layer.recurrent_activation,
                dropout=layer.dropout,
                recurrent_dropout=layer.recurrent_dropout,
                return_sequences=i < last,
                name=next(names),
            )
        )
        if spec.between and i < last:
            layers.append(keras.layers.Activation(spec.between, name=next(names)))
    for units in spec.dense:
        layers.append(keras.layers.Dense(units, activation=spec.dense_activation, name=next(names)))
    layers.append(keras.layers.Dense(1, name=next(names)))
    return keras.Sequential(layers, name=_keras_name(spec.name))


def lstm_layers(model: keras.Model) -> list[keras.layers.LSTM]:
    return [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]


def _keras_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in name).strip("_")
    return cleaned or "model"
