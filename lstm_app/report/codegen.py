"""Plain Keras code that builds a model spec, for export (no TensorFlow import)."""

from __future__ import annotations

from ..params import input_shape, layer_plan
from ..spec import TARGETS, ModelSpec, TrainingSpec
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
    lines += [*_target_lines(spec), *_direct_lines(spec), "model.summary()", ""]
    return "\n".join(lines)


def _direct_lines(spec: ModelSpec) -> list[str]:
    """A direct model's H-step targets (`windows.prepare` with `outputs` builds the same)."""
    if spec.strategy != "direct":
        return []
    h = spec.outputs
    return [
        "",
        f"# Direct strategy: the Dense({h}) output forecasts the next {h} values at once. Each window's",
        f"# target is the next {h} values of the (transformed, scaled) target, all inside its own part:",
        "import numpy as np",
        "",
        "",
        f"def direct_targets(series: np.ndarray, lookback: int, horizon: int = {h}) -> tuple[np.ndarray, np.ndarray]:",
        '    """(samples, lookback, columns) windows of `series` (rows × columns) and their next `horizon` targets."""',
        "    view = np.lib.stride_tricks.sliding_window_view",
        "    windows = view(series, lookback, axis=0)[: len(series) - lookback - horizon + 1]",
        "    targets = view(series[lookback:, 0], horizon)",
        "    return np.moveaxis(windows, -1, 1), targets",
        "",
    ]


def _target_lines(spec: ModelSpec) -> list[str]:
    """The target transform as two functions: what the model is trained on, and the way back
    (`windows.Target` does the same in the app)."""
    if spec.target == "level":
        return []
    log = spec.target.startswith("log")
    lag = {"difference": "1", "log difference": "1", "seasonal difference": str(spec.season) if spec.season
           else "SEASON  # the data's season, e.g. 12 for monthly"}.get(spec.target)
    lines = [
        "",
        f"# The model learns the {spec.target} of the series: {TARGETS[spec.target]}.",
        "# Transform the values (target first, then any extra columns) before scaling and windowing,",
        "# and undo it on each forecast before scoring it in the series' units.",
        "import numpy as np",
        "",
    ]
    if lag is not None:
        lines += [f"LAG = {lag}", "", ""]
    lines += ["def to_target(values: np.ndarray) -> np.ndarray:",
              "    values = np.asarray(values, dtype=float).copy()"]
    if log:
        lines.append("    values[:, 0] = np.log(values[:, 0])  # every target value must be positive")
    lines.append("    return values[LAG:] - values[:-LAG]" if lag is not None else "    return values")
    lines += ["", "", "def from_target(forecast: float, previous: float) -> float:",
              '    """A one-step forecast back in original units; `previous`: the actual value LAG steps before."""']
    back = "np.log(previous) + forecast" if log and lag is not None else "previous + forecast"
    if lag is None:
        back = "forecast"
    lines.append(f"    return float(np.exp({back}))" if log else f"    return float({back})")
    lines.append("")
    return lines
