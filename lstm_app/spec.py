"""Frozen specs for models, windows, splits, training and whole experiments.

Specs are plain data: they validate on construction (Keras-style messages, raised as
`SpecError`), round-trip through JSON with `to_dict`/`from_dict`, and know nothing of
TensorFlow. A network is built from a spec only in `lstm_app.engine.model`, once the data fix
the input width.

Limits are checked before work is spent: `from_json` measures the text (`MAX_JSON_BYTES`,
`MAX_JSON_DEPTH`) before parsing it, and `from_dict` counts each list (models, layers, seeds,
features) before building what it holds. Wrong types anywhere raise `SpecError` naming the
field. The parameter budget, which depends on the input width, is `lstm_app.params.check_budget`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ._specchecks import (
    ACTIVATIONS,
    FRAMINGS,
    LOSSES,
    MAX_DENSE_LAYERS,
    MAX_FEATURES,
    MAX_HORIZON,
    MAX_LAYERS,
    MAX_MODELS,
    MAX_ORIGINS,
    MAX_SEASON,
    MAX_SEEDS,
    MAX_UNITS,
    OPTIMIZERS,
    SCALINGS,
    STRATEGIES,
    TARGETS,
    _check_choice,
    _check_float,
    _check_int,
    _finite,
    _listed,
    check_horizon,
    cudnn_eligible,
    slug,
)
from ._specjson import MAX_JSON_BYTES, MAX_JSON_DEPTH, build, loads, mapping, sequence
from ._specjson import bad as _bad

__all__ = [
    "ACTIVATIONS",
    "FRAMINGS",
    "LOSSES",
    "MAX_DENSE_LAYERS",
    "MAX_FEATURES",
    "MAX_HORIZON",
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
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
    "BacktestSpec",
    "DataSpec",
    "ExperimentSpec",
    "LayerSpec",
    "ModelSpec",
    "RunKey",
    "SplitSpec",
    "TrainingSpec",
    "WindowSpec",
    "cudnn_eligible",
    "slug",
]


class RunKey(NamedTuple):
    """One run of an experiment: (model index, seed, backtest origin), a plain tuple where stored."""

    model: int
    seed: int
    origin: int

@dataclass(frozen=True)
class LayerSpec:
    """One LSTM layer: `units`, the cell `activation` and the gates' `recurrent_activation`."""

    units: int
    activation: str = "tanh"
    recurrent_activation: str = "sigmoid"
    dropout: float = 0.0
    recurrent_dropout: float = 0.0

    def __post_init__(self) -> None:
        _check_int("units", self.units, 1, MAX_UNITS)
        _check_choice("activation", self.activation, ACTIVATIONS)
        _check_choice("recurrent_activation", self.recurrent_activation, ACTIVATIONS)
        _check_float("dropout", self.dropout, 0.0, 1.0, open_high=True)
        _check_float("recurrent_dropout", self.recurrent_dropout, 0.0, 1.0, open_high=True)


@dataclass(frozen=True)
class ModelSpec:
    """A stacked LSTM: layers, an optional activation layer between them, and a dense head.

    `between` is applied after every LSTM layer but the last (it adds no weights). The head
    is `dense` hidden Dense layers (with `dense_activation`) and then Dense(1), or Dense(`horizon`)
    for the `direct` strategy (`STRATEGIES`); `horizon` without it is how far a recursive one is scored.
    """

    name: str
    layers: tuple[LayerSpec, ...]
    between: str | None = None
    dense: tuple[int, ...] = ()
    dense_activation: str = "relu"
    target: str = "level"  # what the network learns to forecast (`TARGETS`); metrics stay in the series' units
    season: int | None = None  # the lag of a seasonal difference; None: the season of the data's time axis
    horizon: int | None = None
    strategy: str = "recursive"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip() or len(self.name) > 80:
            raise _bad("name", "a non-empty name of at most 80 characters", self.name)
        layers = tuple(self.layers) if isinstance(self.layers, (list, tuple)) else self.layers
        if not isinstance(layers, tuple) or not layers or not all(
            isinstance(x, LayerSpec) for x in layers
        ):
            raise _bad("layers", "at least one LSTM layer", self.layers)
        if len(layers) > MAX_LAYERS:
            raise _bad("layers", f"at most {MAX_LAYERS} stacked LSTM layers", len(layers))
        object.__setattr__(self, "layers", layers)
        if self.between is not None:
            _check_choice("between", self.between, ACTIVATIONS)
        if not isinstance(self.dense, (list, tuple)) or len(self.dense) > MAX_DENSE_LAYERS:
            raise _bad("dense", f"a list of at most {MAX_DENSE_LAYERS} hidden Dense layer sizes", _listed(self.dense))
        dense = tuple(self.dense)
        for units in dense:
            _check_int("dense", units, 1, MAX_UNITS)
        object.__setattr__(self, "dense", dense)
        _check_choice("dense_activation", self.dense_activation, ACTIVATIONS)
        _check_choice("target", self.target, TARGETS)
        if self.season is not None:
            _check_int("season", self.season, 2, MAX_SEASON)
        check_horizon(self.horizon, self.strategy)

    @property
    def outputs(self) -> int:
        """The width of the output layer: `horizon` for a direct model, else 1."""
        return (self.horizon or 1) if self.strategy == "direct" else 1

    @property
    def units(self) -> tuple[int, ...]:
        return tuple(layer.units for layer in self.layers)

    def describe(self) -> str:
        """One line such as `LSTM 64 (relu) → relu → LSTM 32 (tanh) → Dense 1`."""
        parts: list[str] = []
        for i, layer in enumerate(self.layers):
            gates = "" if layer.recurrent_activation == "sigmoid" else f", gates {layer.recurrent_activation}"
            parts.append(f"LSTM {layer.units} ({layer.activation}{gates})")
            if self.between and i < len(self.layers) - 1:
                parts.append(self.between)
        parts += [f"Dense {u} ({self.dense_activation})" for u in self.dense]
        parts.append(f"Dense {self.outputs}")
        lag = f" (lag {self.season})" if self.target == "seasonal difference" and self.season else ""
        return " → ".join(parts) + (f", on the {self.target}{lag}" if self.target != "level" else "")


@dataclass(frozen=True)
class WindowSpec:
    """How the series becomes samples: `lookback` lags in a framing, scaling, future steps."""

    lookback: int = 12
    framing: str = "steps"
    scaling: str = "minmax"
    future_steps: int = 12

    def __post_init__(self) -> None:
        _check_int("lookback", self.lookback, 1, 1000)
        _check_choice("framing", self.framing, FRAMINGS)
        _check_choice("scaling", self.scaling, SCALINGS)
        _check_int("future_steps", self.future_steps, 0, 1000)


@dataclass(frozen=True)
class SplitSpec:
    """The chronological test period: the last `test_size` points (integer ≥ 1) or that
    fraction of the series (a number strictly between 0 and 1)."""

    test_size: float = 0.15

    def __post_init__(self) -> None:
        value = self.test_size
        if not _finite(value):
            raise _bad("test_size", "a point count ≥ 1 or a fraction in (0, 1)", value)
        if 0 < value < 1:
            return
        if value >= 1 and float(value).is_integer():
            object.__setattr__(self, "test_size", int(value))
            return
        raise _bad("test_size", "a point count ≥ 1 or a fraction in (0, 1)", value)

    def test_points(self, n: int) -> int:
        """Number of test points for a series of `n` points (a fraction rounds, at least 1)."""
        if isinstance(self.test_size, int):
            return self.test_size
        return max(1, round(n * self.test_size))


@dataclass(frozen=True)
class TrainingSpec:
    """Fitting: epochs, batch, optimizer, loss, validation share, early stopping, seeds.

    A run is *diverged* when a loss is NaN/inf or exceeds `divergence_loss` (in scaled units,
    where a sane model's loss is well below 1).
    """

    epochs: int = 50
    batch_size: int = 16
    optimizer: str = "adam"
    learning_rate: float = 0.001
    loss: str = "mse"
    validation_share: float = 0.2
    patience: int = 10
    seeds: tuple[int, ...] = (0, 1, 2)
    clipnorm: float | None = None
    divergence_loss: float = 1000.0

    def __post_init__(self) -> None:
        _check_int("epochs", self.epochs, 1, 10000)
        _check_int("batch_size", self.batch_size, 1, 65536)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_float("learning_rate", self.learning_rate, 0.0, 10.0, open_low=True)
        _check_choice("loss", self.loss, LOSSES)
        _check_float("validation_share", self.validation_share, 0.0, 0.9)
        _check_int("patience", self.patience, 0, 10000)
        seeds = tuple(self.seeds) if isinstance(self.seeds, (list, tuple)) else self.seeds
        if not isinstance(seeds, tuple) or not seeds or len(seeds) > MAX_SEEDS:
            raise _bad("seeds", f"1 to {MAX_SEEDS} distinct integer seeds", _listed(self.seeds))
        for seed in seeds:
            _check_int("seeds", seed, 0, 2**31 - 1)
        if len(set(seeds)) != len(seeds):
            raise _bad("seeds", "distinct seeds", _listed(self.seeds))
        object.__setattr__(self, "seeds", seeds)
        if self.clipnorm is not None:
            _check_float("clipnorm", self.clipnorm, 0.0, 1e6, open_low=True)
        _check_float("divergence_loss", self.divergence_loss, 0.0, 1e30, open_low=True)


@dataclass(frozen=True)
class DataSpec:
    """Which data: a `source` (a file name, or `sample:NAME` for a bundled sample), its
    content hash when known, the time column, the target and extra input columns."""

    source: str
    target: str
    time_column: str | None = None
    features: tuple[str, ...] = ()
    sha256: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.source, str) or not self.source or len(self.source) > 4096:
            raise _bad("source", "a file name or 'sample:NAME'", self.source)
        if not isinstance(self.target, str) or not self.target:
            raise _bad("target", "a column name", self.target)
        if self.time_column is not None and (not isinstance(self.time_column, str) or not self.time_column):
            raise _bad("time_column", "a column name or null", self.time_column)
        if (not isinstance(self.features, (list, tuple)) or len(self.features) > MAX_FEATURES
                or not all(isinstance(f, str) and f for f in self.features)):
            raise _bad("features", f"a list of at most {MAX_FEATURES} column names", _listed(self.features))
        features = tuple(self.features)
        if self.target in features:
            raise _bad("features", "extra input columns other than the target", list(features))
        object.__setattr__(self, "features", features)
        if self.sha256 is not None and not (isinstance(self.sha256, str) and len(self.sha256) == 64
                                            and all(c in "0123456789abcdef" for c in self.sha256)):
            raise _bad("sha256", "the file's SHA-256 as 64 hexadecimal digits, or null", self.sha256)


@dataclass(frozen=True)
class BacktestSpec:
    """Rolling-origin backtest: `origins` forecast origins on an expanding window. Origin K − 1
    is the end of the series (today's single split); each earlier one ends one test period
    sooner, so the K test periods are consecutive and never overlap. 1 = a single split."""

    origins: int = 1

    def __post_init__(self) -> None:
        _check_int("origins", self.origins, 1, MAX_ORIGINS)


@dataclass(frozen=True)
class ExperimentSpec:
    """A whole experiment: data, window, split, models and training, trained model × seed."""

    name: str
    data: DataSpec
    models: tuple[ModelSpec, ...]
    window: WindowSpec = field(default_factory=WindowSpec)
    split: SplitSpec = field(default_factory=SplitSpec)
    training: TrainingSpec = field(default_factory=TrainingSpec)
    backtest: BacktestSpec = field(default_factory=BacktestSpec)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip() or len(self.name) > 120:
            raise _bad("name", "a non-empty name of at most 120 characters", self.name)
        for argument, kind in (("data", DataSpec), ("window", WindowSpec), ("split", SplitSpec),
                               ("training", TrainingSpec), ("backtest", BacktestSpec)):
            if not isinstance(getattr(self, argument), kind):
                raise _bad(argument, f"a {kind.__name__}", type(getattr(self, argument)).__name__)
        models = tuple(self.models) if isinstance(self.models, (list, tuple)) else ()
        if not models or len(models) > MAX_MODELS:
            raise _bad("models", f"1 to {MAX_MODELS} models", len(models))
        if not all(isinstance(m, ModelSpec) for m in models):
            raise _bad("models", "ModelSpec values", self.models)
        names = [m.name for m in models]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise _bad("models", "distinct model names", duplicates[0])
        object.__setattr__(self, "models", models)

    def runs(self) -> list[tuple[int, int]]:
        """Every (model index, seed) pair, model-major: the same seeds for every model (what one
        backtest origin trains)."""
        return [(i, s) for i in range(len(self.models)) for s in self.training.seeds]

    def backtest_runs(self) -> list[RunKey]:
        """Every run key, model-major then seed: the same seeds and origins (and so the same
        splits) for every model."""
        return [RunKey(i, s, o) for i, s in self.runs() for o in range(self.backtest.origins)]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, raw: Any) -> ExperimentSpec:
        """Build from parsed JSON; any wrong key, type or value is a `SpecError` naming the field."""
        raw = mapping("experiment", raw)
        return build(
            cls,
            raw,
            "experiment",
            data=lambda v: build(DataSpec, mapping("data", v), "data",
                                 features=lambda f: tuple(sequence(
                                     "features", f, most=MAX_FEATURES,
                                     expected=f"a list of at most {MAX_FEATURES} column names"))),
            models=lambda v: tuple(
                _model(m) for m in sequence("models", v, most=MAX_MODELS, expected=f"1 to {MAX_MODELS} models")
            ),
            window=lambda v: build(WindowSpec, mapping("window", v), "window"),
            split=lambda v: build(SplitSpec, mapping("split", v), "split"),
            training=lambda v: build(TrainingSpec, mapping("training", v), "training",
                                     seeds=lambda x: tuple(sequence(
                                         "seeds", x, most=MAX_SEEDS,
                                         expected=f"1 to {MAX_SEEDS} distinct integer seeds"))),
            backtest=lambda v: build(BacktestSpec, mapping("backtest", v), "backtest"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> ExperimentSpec:
        """Parse experiment JSON, refusing oversized or overly nested text before parsing it."""
        return cls.from_dict(loads(text))


def _model(raw: Any) -> ModelSpec:
    raw = mapping("models[]", raw)
    return build(
        ModelSpec,
        raw,
        "models[]",
        layers=lambda v: tuple(
            build(LayerSpec, mapping("layers[]", x), "layers[]")
            for x in sequence("layers", v, most=MAX_LAYERS, expected=f"at most {MAX_LAYERS} stacked LSTM layers")
        ),
        dense=lambda v: tuple(sequence("dense", v, most=MAX_DENSE_LAYERS,
                                       expected=f"a list of at most {MAX_DENSE_LAYERS} hidden Dense layer sizes")),
    )
