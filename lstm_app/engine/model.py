"""Build a Keras model from a `ModelSpec` once the data fix the input shape (imports Keras)."""

from __future__ import annotations

import keras

from ..params import layer_plan
from ..spec import ModelSpec, slug

__all__ = ["build_model", "lstm_layers"]


def build_model(spec: ModelSpec, input_shape: tuple[int, int]) -> keras.Sequential:
    """Stacked LSTM → optional activation between layers → dense head → Dense(1), exactly as
    `params.layer_plan` lists it, so closed-form counts line up with Keras's."""
    steps, width = input_shape  # already framed: the plan needs only the width per step
    plan = layer_plan(spec, n_features=width, lookback=steps, framing="steps")
    layers: list[keras.layers.Layer] = [keras.Input(shape=input_shape, name="window")]
    for planned in plan:
        layers.append(getattr(keras.layers, planned.keras_class)(**planned.kwargs, name=planned.name))
    return keras.Sequential(layers, name=_keras_name(spec.name))


def lstm_layers(model: keras.Model) -> list[keras.layers.LSTM]:
    return [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]


def _keras_name(name: str) -> str:
    return slug(name, "_")
