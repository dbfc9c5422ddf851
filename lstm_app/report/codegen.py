"""Plain Keras code that builds a model spec, for export (no TensorFlow import)."""

from __future__ import annotations

from ..params import input_shape, layer_plan
from ..spec import ModelSpec, TrainingSpec
from ..text import one_line

__all__ = ["keras_code"]


def keras_code(spec: ModelSpec, n_features: int, lookback: int, framing: str,
               training: TrainingSpec | None = None) -> str:
    """A self-contained script that builds (and compiles) the same network as `lstm_app.engine.model`."""
    shape = input_shape(n_features, lookback, framing)
    lines = [
        f"# {one_line(spec.name)}: {spec.describe()}",  # a name with a line break would end the comment
        f"# Input: {shape[0]} time step(s) × {shape[1]} value(s) per step ({framing} framing).",
        "import keras",
        "",
        "model = keras.Sequential(",
        "    [",
        f"        keras.Input(shape={shape!r}, name=\"window\"),",
    ]
    for planned in layer_plan(spec, n_features, lookback, framing):
        kwargs = planned.kwargs
        units = kwargs.pop("units", None)
        # Zero dropout is Keras's default: leave it out, as a person writing the code would.
        args = [] if units is None else [str(units)]
        args += [f"{k}={v!r}" for k, v in kwargs.items() if not (k.endswith("dropout") and not v)]
        lines.append(f"        keras.layers.{planned.keras_class}({', '.join([*args, f'name={planned.name!r}'])}),")
    lines += ["    ]", ")"]
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
