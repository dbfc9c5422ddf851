"""Plain Keras code that builds a model spec, for export (no TensorFlow import)."""

from __future__ import annotations

from .params import input_shape, layer_names
from .spec import ModelSpec, TrainingSpec
from .text import one_line

__all__ = ["keras_code"]


def keras_code(spec: ModelSpec, n_features: int, lookback: int, framing: str,
               training: TrainingSpec | None = None) -> str:
    """A self-contained script that builds (and compiles) the same network as `lstm_app.model`."""
    shape = input_shape(n_features, lookback, framing)
    names = iter(layer_names(spec))
    lines = [
        f"# {one_line(spec.name)}: {spec.describe()}",  # a name with a line break would end the comment
        f"# Input: {shape[0]} time step(s) × {shape[1]} value(s) per step ({framing} framing).",
        "import keras",
        "",
        "model = keras.Sequential(",
        "    [",
        f"        keras.Input(shape={shape!r}, name=\"window\"),",
    ]
    last = len(spec.layers) - 1
    for i, layer in enumerate(spec.layers):
        args = [str(layer.units), f"activation={layer.activation!r}",
                f"recurrent_activation={layer.recurrent_activation!r}"]
        if layer.dropout:
            args.append(f"dropout={layer.dropout!r}")
        if layer.recurrent_dropout:
            args.append(f"recurrent_dropout={layer.recurrent_dropout!r}")
        args += [f"return_sequences={i < last}", f"name={next(names)!r}"]
        lines.append(f"        keras.layers.LSTM({', '.join(args)}),")
        if spec.between and i < last:
            lines.append(f"        keras.layers.Activation({spec.between!r}, name={next(names)!r}),")
    for units in spec.dense:
        lines.append(f"        keras.layers.Dense({units}, activation={spec.dense_activation!r}, "
                     f"name={next(names)!r}),")
    lines += [f"        keras.layers.Dense(1, name={next(names)!r}),", "    ]", ")"]
    if training is not None:
        opt = f"learning_rate={training.learning_rate!r}"
        if training.clipnorm is not None:
            opt += f", clipnorm={training.clipnorm!r}"
        optimizer = {"adam": "Adam", "adamw": "AdamW", "nadam": "Nadam", "rmsprop": "RMSprop",
                     "sgd": "SGD"}[training.optimizer]
        lines += [
            f"model.compile(optimizer=keras.optimizers.{optimizer}({opt}), loss={training.loss!r})",
            f"# fit: epochs={training.epochs}, batch_size={training.batch_size}, "
            f"validation share {training.validation_share}, early stopping patience {training.patience}",
        ]
    lines += ["model.summary()", ""]
    return "\n".join(lines)
