"""The page's forms without Streamlit: the settings widgets' values (`Settings`), the editable
models (`ModelDraft`, `LayerDraft`), and the specs built from them.

`Settings` takes its defaults from the specs' own (`WindowSpec`, `SplitSpec`, `TrainingSpec`,
`BacktestSpec`) and is copied to and from them field by field by name, so a new spec field is
one line here plus its widget. A `ModelDraft` holds what the model's widgets hold, typed but not
yet valid (a layer's units may be missing while the user types); `ModelDraft.spec` checks it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any

import pandas as pd

from .. import data
from ..errors import DataError, SpecError
from ..params import count_layers
from ..presets import DECISIVE_ORIGINS, DECISIVE_SEEDS, hotel_replication, seed_question, sweep_models
from ..report.stats import finite_or_none
from ..spec import (
    STRATEGIES,
    TARGETS,
    BacktestSpec,
    DataSpec,
    ExperimentSpec,
    LayerSpec,
    ModelSpec,
    SplitSpec,
    TrainingSpec,
    WindowSpec,
)
from ..windows import LONG_SERIES, suggest, suggest_origins

__all__ = [
    "LAYER_COLUMNS",
    "NONE",
    "TEST_MODES",
    "LayerDraft",
    "ModelDraft",
    "Settings",
    "backtest_of",
    "build_specs",
    "experiment",
    "forecast_help",
    "hotel_settings",
    "param_table",
    "parse_units",
    "preset_models",
    "read_upload",
    "seed_list",
    "settings_from",
    "suggested",
    "target_help",
    "unique_name",
]

NONE = "none"
LAYER_COLUMNS = ("units", "activation", "recurrent_activation", "dropout")
TEST_MODES = {"points": "the last N points", "share": "a share of the series"}
_uids = count(1)
_WINDOW, _SPLIT, _TRAINING, _BACKTEST, _LAYER = WindowSpec(), SplitSpec(), TrainingSpec(), BacktestSpec(), LayerSpec(1)


def read_upload(name: str, content: bytes) -> data.Table:
    """Read an uploaded or bundled CSV; raises DataError with one sentence when it is unusable."""
    if not content:
        raise DataError(f"The file {name!r} is empty: upload a CSV with a header row and one row per time step.")
    return data.read_csv(content, name=name)


# -- models ------------------------------------------------------------------------------------------


def _number(value: object) -> float | int | None:
    """A cell of the layers editor as plain JSON: None for a missing or NaN number."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        number = finite_or_none(value)
        return None if number is None else int(number) if number.is_integer() else number
    return value


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and value != value) else str(value)


@dataclass(frozen=True)
class LayerDraft:
    """One row of a model's layers editor, as typed (checked only by `ModelDraft.spec`)."""

    units: float | None = 32
    activation: str | None = _LAYER.activation
    recurrent_activation: str | None = _LAYER.recurrent_activation
    dropout: float | None = _LAYER.dropout

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> LayerDraft:
        """A layer from an editor row or a saved draft's dict (a missing cell is None)."""
        return cls(_number(row.get("units")), _text(row.get("activation")),
                   _text(row.get("recurrent_activation")), _number(row.get("dropout")))

    @classmethod
    def of(cls, layer: LayerSpec) -> LayerDraft:
        return cls(layer.units, layer.activation, layer.recurrent_activation, layer.dropout)

    def row(self) -> dict[str, Any]:
        """The editor row and the JSON form."""
        return dataclasses.asdict(self)

    def spec(self, k: int, model: str) -> LayerSpec:
        """The layer spec; SpecError naming the layer (`k`, from 1) and the model."""
        units = finite_or_none(self.units)
        if units is None or not units.is_integer():
            raise SpecError(f"Layer {k} of model {model!r} needs a whole number of units, got {self.units!r}.")
        dropout = finite_or_none(self.dropout)
        try:
            return LayerSpec(int(units), self.activation or _LAYER.activation,
                             self.recurrent_activation or _LAYER.recurrent_activation,
                             _LAYER.dropout if dropout is None else dropout)
        except SpecError as exc:
            raise SpecError(f"Layer {k} of model {model!r}: {exc}") from None


def new_uid() -> int:
    """A fresh model id for widget keys (unique within the server process)."""
    return next(_uids)


@dataclass(frozen=True)
class ModelDraft:
    """One model as the page edits it; `uid` names its widgets (fresh on every load, never saved)."""

    name: str
    layers: tuple[LayerDraft, ...]
    between: str = NONE
    dense: tuple[int, ...] = ()
    target: str = "level"  # `spec.TARGETS`
    season: int | None = None  # a seasonal difference's lag; None: the data's season
    strategy: str = "recursive"  # `spec.STRATEGIES`
    horizon: int | None = None  # a direct head's steps (None: not given)
    uid: int = dataclasses.field(default_factory=new_uid)

    @classmethod
    def of(cls, model: ModelSpec) -> ModelDraft:
        """A model spec as an editable draft with a fresh `uid`."""
        return cls(model.name, tuple(LayerDraft.of(layer) for layer in model.layers), model.between or NONE,
                   tuple(model.dense), model.target, model.season, model.strategy, model.horizon)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ModelDraft:
        """A draft from `to_dict`'s output (a saved working setup), with a fresh `uid`; one saved
        before targets existed is a level model, one saved before horizons a recursive one."""
        season, horizon = raw.get("season"), raw.get("horizon")
        return cls(str(raw.get("name") or ""), tuple(LayerDraft.from_row(r) for r in raw["layers"]),
                   str(raw.get("between") or NONE), tuple(int(u) for u in raw.get("dense") or ()),
                   str(raw.get("target") or "level"), None if season is None else int(season),
                   str(raw.get("strategy") or "recursive"), None if horizon is None else int(horizon))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (without the uid)."""
        return {"name": self.name, "layers": [layer.row() for layer in self.layers], "between": self.between,
                "dense": list(self.dense), "target": self.target, "season": self.season,
                "strategy": self.strategy, "horizon": self.horizon}

    def renamed(self, name: str) -> ModelDraft:
        return dataclasses.replace(self, name=name, uid=new_uid())

    def spec(self) -> ModelSpec:
        """The model spec; SpecError naming the model (and the layer) when it is not valid."""
        name = self.name.strip()
        label = name or "(unnamed)"
        layers = tuple(layer.spec(k, label) for k, layer in enumerate(self.layers, start=1))
        if not layers:
            raise SpecError(f"Model {label!r} needs at least one LSTM layer: add a row to its layers table.")
        try:
            return ModelSpec(name, layers, between=None if self.between == NONE else self.between, dense=self.dense,
                             target=self.target, season=self.season, horizon=self.horizon, strategy=self.strategy)
        except SpecError as exc:
            raise SpecError(f"Model {name!r}: {exc}") from None


def target_help() -> str:
    """The target select's help: every transform with what the network then learns."""
    return "  \n".join(f"**{name}**: {text}" for name, text in TARGETS.items()) + (
        "  \nMetrics and charts stay in the series' units; the parameter count does not change.")


def forecast_help() -> str:
    """The forecast select's help: each strategy, and what the horizon means."""
    return "  \n".join(f"**{name}**: {text}" for name, text in STRATEGIES.items()) + (
        "  \nThe horizon is how many steps ahead every model is scored (RMSE by horizon and over 1–H steps); "
        "0 = one season (up to 24 steps), else 12.")


def unique_name(name: str, taken: Iterable[str]) -> str:
    """`name`, or `name 2`, `name 3`, ... whichever is not taken."""
    taken = set(taken)
    if name not in taken:
        return name
    base = re.sub(r" \d+$", "", name)
    return next(f"{base} {k}" for k in count(2) if f"{base} {k}" not in taken)


def param_table(model: ModelSpec, n_features: int, lookback: int, framing: str) -> pd.DataFrame:
    """Per-layer parameter counts with the formula filled in, plus a total row."""
    rows = count_layers(model, n_features, lookback, framing)
    return pd.DataFrame(
        [{"Layer": r.label, "Formula": r.formula, "Params": r.params} for r in rows]
        + [{"Layer": "Total", "Formula": "", "Params": sum(r.params for r in rows)}]
    )


def parse_units(text: str) -> tuple[tuple[int, ...], ...]:
    """`"64,32; 32"` → ((64, 32), (32,)); SpecError for anything else."""
    options = []
    for part in filter(None, (p.strip() for p in text.replace("|", ";").split(";"))):
        try:
            units = tuple(int(u) for u in re.split(r"[,\s→>]+", part) if u)
        except ValueError:
            raise SpecError(
                f"Units option {part!r} is not a list of whole numbers: write e.g. 64,32; 32."
            ) from None
        if not units or any(u < 1 for u in units):
            raise SpecError(f"Units option {part!r} needs positive whole numbers: write e.g. 64,32; 32.")
        options.append(units)
    if not options:
        raise SpecError("Give at least one units option, e.g. 64,32 for two stacked layers.")
    return tuple(options)


def preset_models(name: str, *, activations: Sequence[str] = (), placements: Sequence[str] = (),
                  units: Sequence[Sequence[int]] = ()) -> list[ModelDraft]:
    """The models of a preset: the seed question, the hotel replication or a sweep."""
    specs: Sequence[ModelSpec]
    if name == "sweep":
        specs = sweep_models(activations, placements, units)
    elif name == "hotel H2 replication":
        specs = list(hotel_replication().models)
    else:
        specs = list(seed_question())
    return [ModelDraft.of(m) for m in specs]


# -- settings ----------------------------------------------------------------------------------------


@dataclass
class Settings:
    """The window, split, training and backtest widgets' values, with the specs' defaults. The
    test period is the last `test_size` points (`test_mode` "points") or that `test_share` of
    the series ("share"); the other field keeps its value so switching back restores it."""

    lookback: int = _WINDOW.lookback
    framing: str = _WINDOW.framing
    scaling: str = _WINDOW.scaling
    future_steps: int = _WINDOW.future_steps
    test_mode: str = "points"  # the page asks for points first; the spec's default is a share
    test_size: int = 10
    test_share: float = float(_SPLIT.test_size)
    validation_share: float = _TRAINING.validation_share
    epochs: int = _TRAINING.epochs
    n_seeds: int = len(_TRAINING.seeds)
    seeds: tuple[int, ...] = ()
    batch_size: int = _TRAINING.batch_size
    optimizer: str = _TRAINING.optimizer
    learning_rate: float = _TRAINING.learning_rate
    loss: str = _TRAINING.loss
    patience: int = _TRAINING.patience
    origins: int = _BACKTEST.origins

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "seeds": list(self.seeds)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Settings:
        """Settings from `to_dict`'s output; unknown keys are ignored, missing ones default."""
        values = {k: v for k, v in raw.items() if k in _FIELDS}
        values["seeds"] = tuple(int(s) for s in values.get("seeds") or ())
        return cls(**values)


_FIELDS = frozenset(f.name for f in dataclasses.fields(Settings))


def _shared(spec_type: type[Any]) -> tuple[str, ...]:
    """The fields a spec shares with `Settings` by name (copied both ways as they are)."""
    return tuple(f.name for f in dataclasses.fields(spec_type) if f.name in _FIELDS and f.name != "seeds")


_WINDOW_FIELDS, _TRAINING_FIELDS, _BACKTEST_FIELDS = _shared(WindowSpec), _shared(TrainingSpec), _shared(BacktestSpec)


def settings_from(window: WindowSpec, split: SplitSpec, training: TrainingSpec,
                  backtest: BacktestSpec | None = None) -> Settings:
    """Widget values for the window, split, training and backtest settings (a fractional test
    size too)."""
    points = isinstance(split.test_size, int)
    values: dict[str, Any] = {
        **{f: getattr(window, f) for f in _WINDOW_FIELDS},
        **{f: getattr(training, f) for f in _TRAINING_FIELDS},
        **{f: getattr(backtest or _BACKTEST, f) for f in _BACKTEST_FIELDS},
    }
    return Settings(
        **values, test_mode="points" if points else "share",
        test_size=int(split.test_size) if points else Settings.test_size,
        test_share=Settings.test_share if points else float(split.test_size),
        n_seeds=len(training.seeds), seeds=tuple(training.seeds),
    )


def suggested(n: int) -> Settings:
    """Default settings for a series of `n` points (see `windows.suggest`): 5 seeds (3 from
    `LONG_SERIES` points: each run costs more, and its longer test period varies less) and as
    many backtest origins as the series allows (up to 5, see `windows.suggest_origins`)."""
    window, split, training = suggest(n)
    training = dataclasses.replace(training, seeds=tuple(range(5 if n < LONG_SERIES else 3)))
    origins = suggest_origins(n, window, split, training.validation_share, DECISIVE_ORIGINS)
    return settings_from(window, split, training, BacktestSpec(origins))


def hotel_settings() -> tuple[Settings, str, str]:
    """The hotel replication's settings (`DECISIVE_SEEDS` × `DECISIVE_ORIGINS`), data source and target."""
    spec = hotel_replication(tuple(range(DECISIVE_SEEDS)), origins=DECISIVE_ORIGINS)
    return settings_from(spec.window, spec.split, spec.training, spec.backtest), spec.data.source, spec.data.target


def _typed(spec_type: type[Any], name: str, value: Any) -> Any:
    """A widget value as the spec field's type (number inputs may hand back floats)."""
    kind = type(getattr(spec_type(), name))
    return kind(value) if kind in (int, float) else value


def backtest_of(s: Settings) -> BacktestSpec:
    """The backtest spec from the widget value (SpecError on a bad one)."""
    return BacktestSpec(**{f: _typed(BacktestSpec, f, getattr(s, f)) for f in _BACKTEST_FIELDS})


def build_specs(s: Settings) -> tuple[WindowSpec, SplitSpec, TrainingSpec]:
    """Window, split and training specs from widget values (SpecError on a bad one)."""
    window = WindowSpec(**{f: _typed(WindowSpec, f, getattr(s, f)) for f in _WINDOW_FIELDS})
    split = SplitSpec(int(s.test_size) if s.test_mode == "points" else float(s.test_share))
    training = TrainingSpec(**{f: _typed(TrainingSpec, f, getattr(s, f)) for f in _TRAINING_FIELDS},
                            seeds=seed_list(s.seeds, int(s.n_seeds)))
    return window, split, training


def seed_list(known: Sequence[int], n: int) -> tuple[int, ...]:
    """`n` seeds: the first of `known` (an imported or preset experiment's), topped up with the
    smallest unused integers, so changing the count keeps the seeds already compared."""
    seeds = list(dict.fromkeys(int(s) for s in known))[:n]
    candidate = 0
    while len(seeds) < n:
        if candidate not in seeds:
            seeds.append(candidate)
        candidate += 1
    return tuple(seeds)


def experiment(name: str, data_spec: DataSpec, models: Sequence[ModelSpec], window: WindowSpec, split: SplitSpec,
               training: TrainingSpec, backtest: BacktestSpec | None = None) -> ExperimentSpec:
    """The experiment spec (SpecError when the name or the model list is invalid)."""
    return ExperimentSpec(name.strip() or "experiment", data_spec, tuple(models), window, split, training,
                          backtest or BacktestSpec())
