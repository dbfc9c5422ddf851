"""What a spec is checked against, for `lstm_app.spec` (which re-exports the public names): the
registries of choices (activations, framings, scalings, optimizers, losses), the size limits and
the field checks that raise Keras-style `SpecError` messages.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

from ._specjson import bad as _bad


class _Stacked(Protocol):
    """What `cudnn_eligible` reads of a `spec.ModelSpec` (typed by shape: spec imports this module)."""

    @property
    def layers(self) -> Sequence[Any]: ...

__all__ = [
    "ACTIVATIONS",
    "FRAMINGS",
    "LOSSES",
    "MAX_DENSE_LAYERS",
    "MAX_FEATURES",
    "MAX_HORIZON",
    "MAX_LAYERS",
    "MAX_MODELS",
    "MAX_ORIGINS",
    "MAX_SEASON",
    "MAX_SEEDS",
    "MAX_UNITS",
    "OPTIMIZERS",
    "SCALINGS",
    "STRATEGIES",
    "TARGETS",
    "check_horizon",
    "cudnn_eligible",
    "slug",
]


# The one registry of activations: it feeds the widgets, spec validation and the CLI.
# Names are Keras 3 identifiers; the text is what the page shows beside each choice.
ACTIVATIONS: dict[str, str] = {
    "tanh": "tanh, Keras's default cell activation, bounded in (-1, 1)",
    "sigmoid": "sigmoid, Keras's default gate activation, bounded in (0, 1)",
    "relu": "ReLU, unbounded above, can blow up inside a recurrent cell",
    "leaky_relu": "leaky ReLU (slope 0.2 below zero)",
    "elu": "ELU",
    "selu": "SELU",
    "gelu": "GELU",
    "silu": "SiLU / swish",
    "softsign": "softsign, bounded in (-1, 1)",
    "softplus": "softplus",
    "hard_sigmoid": "hard sigmoid, piecewise-linear sigmoid",
    "linear": "linear (identity), no squashing at all",
}
FRAMINGS: dict[str, str] = {
    "steps": "lags as time steps, input shape (lookback, features)",
    "features": "lags as features, input shape (1, lookback × features)",
}
SCALINGS: dict[str, str] = {
    "minmax": "min-max to [0, 1] on the training part",
    "standard": "zero mean, unit variance on the training part",
}
# What a model learns to forecast (Hyndman & Athanasopoulos): forecasts are turned back into the
# series' units before any metric. A difference applies to every input column too; log to the target.
TARGETS: dict[str, str] = {
    "level": "the values themselves",
    "difference": "the change from one step to the next, y_t − y_{t−1}",
    "seasonal difference": "the change from one season before, y_t − y_{t−s}",
    "log": "the logarithm of the values (all must be positive)",
    "log difference": "the change of the logarithm, log y_t − log y_{t−1} (about the growth rate)",
}
# How a model forecasts h > 1 steps ahead: feed each forecast back as the next input, or output
# all `horizon` steps at once from a Dense(horizon) head trained on the next `horizon` values.
STRATEGIES: dict[str, str] = {
    "recursive": "one step at a time, each forecast fed back as the next input",
    "direct": "all steps at once: a Dense(horizon) head trained on the next horizon values",
}
OPTIMIZERS = ("adam", "adamw", "nadam", "rmsprop", "sgd")
LOSSES = ("mse", "mae", "huber")

# Width-independent size limits; one layer of MAX_UNITS fed one column stays within
# `params.MAX_PARAMS_PER_MODEL`, which bounds the whole model once the input width is known.
MAX_UNITS = 1024
MAX_LAYERS = 8
MAX_DENSE_LAYERS = 8
MAX_MODELS = 64
MAX_SEEDS = 100
MAX_FEATURES = 100
MAX_ORIGINS = 50
MAX_SEASON = 366  # daily data with a yearly season
MAX_HORIZON = 366


def _check_int(argument: str, value: object, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _bad(argument, "a positive integer" if low == 1 else f"an integer of at least {low}", value)
    if high is not None and value > high:
        raise _bad(argument, f"an integer of at most {high}", value)


def _finite(value: object) -> bool:
    """A real number that is not NaN or infinite (an int too big for a float is not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _check_float(argument: str, value: object, low: float, high: float, *, open_low: bool = False,
                 open_high: bool = False) -> None:
    ok = _finite(value)
    if ok:
        assert isinstance(value, (int, float))  # _finite checked it; this tells the type checker
        ok = (value > low if open_low else value >= low) and (
            value < high if open_high else value <= high
        )
    if not ok:
        lo, hi = ("(" if open_low else "["), (")" if open_high else "]")
        raise _bad(argument, f"a number in {lo}{low}, {high}{hi}", value)


def _listed(value: object) -> object:
    """A tuple shown as the JSON list it came from."""
    return list(value) if isinstance(value, tuple) else value


def _check_choice(argument: str, value: object, choices: Any) -> None:
    if not isinstance(value, str) or value not in choices:
        raise _bad(argument, "one of " + ", ".join(repr(c) for c in choices), value)


def check_horizon(horizon: object, strategy: object) -> None:
    """A strategy from `STRATEGIES`, and a horizon of 1 to `MAX_HORIZON` steps (a direct one needs it)."""
    _check_choice("strategy", strategy, STRATEGIES)
    if horizon is None:
        if strategy == "direct":
            raise _bad("horizon", "the number of steps a direct model forecasts at once (1 or more)", None)
        return
    _check_int("horizon", horizon, 1, MAX_HORIZON)


def cudnn_eligible(model: _Stacked) -> tuple[bool, str]:
    """Whether Keras would run every LSTM layer of `model` with the fused cuDNN kernel on a GPU.

    Keras 3 uses cuDNN only for activation tanh, recurrent_activation sigmoid, use_bias,
    no unroll and no recurrent dropout; anything else falls back to the generic loop.
    """
    for i, layer in enumerate(model.layers, start=1):
        if layer.activation != "tanh":
            return False, f"LSTM {i} uses activation {layer.activation} (cuDNN needs tanh)"
        if layer.recurrent_activation != "sigmoid":
            return False, (
                f"LSTM {i} uses recurrent_activation {layer.recurrent_activation} "
                "(cuDNN needs sigmoid)"
            )
        if layer.recurrent_dropout > 0:
            return False, f"LSTM {i} uses recurrent_dropout (cuDNN needs none)"
    return True, "every LSTM layer qualifies for the cuDNN kernel (tanh, sigmoid, no recurrent dropout)"


def slug(name: str, sep: str = "-", fallback: str = "model", limit: int = 80) -> str:
    """A file- and identifier-safe form of a user's name: ASCII letters and digits kept (Keras
    refuses other characters in a model name), anything else `sep`, trimmed, at most `limit`
    characters (`fallback` when nothing is left)."""
    cleaned = "".join(c if c.isascii() and c.isalnum() else sep for c in name)[:limit].strip(sep)
    return cleaned or fallback
