"""Pure helpers behind the dashboard: widget state ↔ specs, parameter tables, safe labels.

Nothing here imports Streamlit (the page does) or TensorFlow. The page keeps its model list
as plain dicts (`{"uid", "name", "layers": [{units, activation, recurrent_activation,
dropout}], "between"}`), edits them with widgets and turns them into specs with `to_model`;
the window, split and training widgets hold a `Settings`.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import count
from pathlib import PurePath
from typing import Any

import pandas as pd

from . import data
from .data.samples import PREFIX
from .errors import DataError, SpecError
from .outcome import RunStatus
from .params import count_layers
from .presets import DECISIVE_ORIGINS, DECISIVE_SEEDS, HOTEL_H2, hotel_replication, seed_question, sweep_models
from .report.stats import finite_or_none
from .runs.store import ExperimentInfo, RunRow
from .spec import BacktestSpec, ExperimentSpec, LayerSpec, ModelSpec, SplitSpec, TrainingSpec, WindowSpec
from .text import md_escape
from .windows import check_origins, origin_ends, plan_split, suggest, suggest_origins

__all__ = [
    "LAYER_COLUMNS",
    "NONE",
    "TEST_MODES",
    "Settings",
    "backtest_of",
    "build_specs",
    "data_label",
    "esc",
    "experiment",
    "history_label",
    "hotel_settings",
    "layers_from_rows",
    "md_escape",
    "model_dict",
    "new_uid",
    "param_table",
    "parse_units",
    "plural",
    "preset_models",
    "read_upload",
    "run_line",
    "seed_list",
    "settings_from",
    "split_line",
    "suggested",
    "time_label",
    "to_model",
    "unique_name",
]

NONE = "none"
LAYER_COLUMNS = ("units", "activation", "recurrent_activation", "dropout")
_uids = count(1)


esc = md_escape  # the name the page used first


def plural(n: int, noun: str, many: str | None = None) -> str:
    """`1 model`, `2 models`, `0 runs` (with `many` for irregular plurals)."""
    return f"{n:,} {noun if n == 1 else many or noun + 's'}"


def time_label(label: object) -> str:
    """A stored time label as the page shows it: an ISO date without a midnight time, or a position."""
    text = str(label)
    return text.removesuffix("T00:00:00") if "T" in text else text


def data_label(source: str) -> str:
    """A DataSpec source as the page names it: the file name (`sample:` dropped)."""
    return PurePath(source.removeprefix(PREFIX)).name


def history_label(row: ExperimentInfo) -> str:
    """`#12 name · data · 4/6 done`: one line of the experiment history (the data file is left
    out when the name already holds it, as the page's default names do)."""
    data_name = data_label(row.source)
    stem = PurePath(data_name).stem
    name = row.name if stem in row.name else f"{row.name} · {data_name}"
    return f"#{row.id} {name} · {row.counts.get(RunStatus.DONE, 0)}/{row.total} done"


def read_upload(name: str, content: bytes) -> data.Table:
    """Read an uploaded or bundled CSV; raises DataError with one sentence when it is unusable."""
    if not content:
        raise DataError(f"The file {name!r} is empty: upload a CSV with a header row and one row per time step.")
    return data.read_csv(content, name=name)


def new_uid() -> int:
    """A fresh model id for widget keys (unique within the server process)."""
    return next(_uids)


def model_dict(model: ModelSpec) -> dict[str, Any]:
    """A model spec as the page's editable dict, with a fresh `uid` (widget keys hang on it)."""
    return {
        "uid": new_uid(),
        "name": model.name,
        "layers": [
            {"units": layer.units, "activation": layer.activation,
             "recurrent_activation": layer.recurrent_activation, "dropout": layer.dropout}
            for layer in model.layers
        ],
        "between": model.between or NONE,
        "dense": list(model.dense),
    }


def layers_from_rows(name: str, rows: Iterable[Mapping[str, Any]]) -> tuple[LayerSpec, ...]:
    """Layer specs from the layers editor's rows; SpecError naming the model and layer."""
    layers = []
    for k, row in enumerate(rows, start=1):
        units = finite_or_none(row.get("units"))
        if units is None or not units.is_integer():
            raise SpecError(f"Layer {k} of model {name!r} needs a whole number of units, got {row.get('units')!r}.")
        dropout = finite_or_none(row.get("dropout"))
        try:
            layers.append(LayerSpec(
                int(units), str(row.get("activation") or "tanh"),
                str(row.get("recurrent_activation") or "sigmoid"), 0.0 if dropout is None else dropout,
            ))
        except SpecError as exc:
            raise SpecError(f"Layer {k} of model {name!r}: {exc}") from None
    if not layers:
        raise SpecError(f"Model {name!r} needs at least one LSTM layer: add a row to its layers table.")
    return tuple(layers)


def to_model(d: Mapping[str, Any], rows: Iterable[Mapping[str, Any]] | None = None) -> ModelSpec:
    """A ModelSpec from the page's dict (and the editor's current rows, when given)."""
    name = str(d.get("name") or "").strip()
    layers = layers_from_rows(name or "(unnamed)", d["layers"] if rows is None else rows)
    between = d.get("between")
    try:
        return ModelSpec(name, layers, between=None if between in (None, NONE) else between,
                         dense=tuple(d.get("dense") or ()))
    except SpecError as exc:
        raise SpecError(f"Model {name!r}: {exc}") from None


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
    frame = pd.DataFrame(
        [{"Layer": r.label, "Formula": r.formula, "Params": r.params} for r in rows]
        + [{"Layer": "Total", "Formula": "", "Params": sum(r.params for r in rows)}]
    )
    return frame


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
                  units: Sequence[Sequence[int]] = ()) -> list[dict[str, Any]]:
    """The model dicts of a preset: the seed question, the hotel replication or a sweep."""
    if name == "sweep":
        return [model_dict(m) for m in sweep_models(activations, placements, units)]
    if name == "hotel H2 replication":
        return [model_dict(m) for m in hotel_replication().models]
    return [model_dict(m) for m in seed_question()]


TEST_MODES = {"points": "the last N points", "share": "a share of the series"}


@dataclass
class Settings:
    """The window, split and training widgets' values. The test period is the last `test_size`
    points (`test_mode` "points") or that `test_share` of the series ("share"); the other
    field keeps its value so switching back restores it."""

    lookback: int = 12
    framing: str = "steps"
    scaling: str = "minmax"
    future_steps: int = 12
    test_mode: str = "points"
    test_size: int = 10
    test_share: float = 0.15
    validation_share: float = 0.2
    epochs: int = 50
    n_seeds: int = 3
    seeds: tuple[int, ...] = ()
    batch_size: int = 16
    optimizer: str = "adam"
    learning_rate: float = 0.001
    loss: str = "mse"
    patience: int = 10
    origins: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "seeds": list(self.seeds)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Settings:
        """Settings from `to_dict`'s output; unknown keys are ignored, missing ones default."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in raw.items() if k in names}
        values["seeds"] = tuple(int(s) for s in values.get("seeds") or ())
        return cls(**values)


def settings_from(window: WindowSpec, split: SplitSpec, training: TrainingSpec,
                  backtest: BacktestSpec | None = None) -> Settings:
    """Widget values for the window, split, training and backtest settings (a fractional test
    size too)."""
    points = isinstance(split.test_size, int)
    return Settings(
        lookback=window.lookback, framing=window.framing, scaling=window.scaling,
        future_steps=window.future_steps, test_mode="points" if points else "share",
        test_size=int(split.test_size) if points else Settings.test_size,
        test_share=Settings.test_share if points else float(split.test_size),
        epochs=training.epochs, batch_size=training.batch_size, optimizer=training.optimizer,
        learning_rate=training.learning_rate, loss=training.loss,
        validation_share=training.validation_share, patience=training.patience,
        n_seeds=len(training.seeds), seeds=tuple(training.seeds),
        origins=(backtest or BacktestSpec()).origins,
    )


def suggested(n: int) -> Settings:
    """Default settings for a series of `n` points (see `windows.suggest`): 5 seeds and as many
    backtest origins as the series allows (up to 5, see `windows.suggest_origins`)."""
    window, split, training = suggest(n)
    training = dataclasses.replace(training, seeds=tuple(range(5)))
    origins = suggest_origins(n, window, split, training.validation_share, DECISIVE_ORIGINS)
    return settings_from(window, split, training, BacktestSpec(origins))


def hotel_settings() -> tuple[Settings, str, str]:
    """The hotel replication's settings (`DECISIVE_SEEDS` × `DECISIVE_ORIGINS`), data source and target."""
    spec = hotel_replication(tuple(range(DECISIVE_SEEDS)), origins=DECISIVE_ORIGINS)
    return settings_from(spec.window, spec.split, spec.training, spec.backtest), HOTEL_H2, spec.data.target


def backtest_of(s: Settings) -> BacktestSpec:
    """The backtest spec from the widget value (SpecError on a bad one)."""
    return BacktestSpec(int(s.origins))


def build_specs(s: Settings) -> tuple[WindowSpec, SplitSpec, TrainingSpec]:
    """Window, split and training specs from widget values (SpecError on a bad one)."""
    window = WindowSpec(lookback=int(s.lookback), framing=s.framing, scaling=s.scaling,
                        future_steps=int(s.future_steps))
    split = SplitSpec(int(s.test_size) if s.test_mode == "points" else float(s.test_share))
    training = TrainingSpec(
        epochs=int(s.epochs), batch_size=int(s.batch_size), optimizer=s.optimizer,
        learning_rate=float(s.learning_rate), loss=s.loss, validation_share=float(s.validation_share),
        patience=int(s.patience), seeds=seed_list(s.seeds, int(s.n_seeds)),
    )
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


def split_line(n: int, window: WindowSpec, split: SplitSpec, training: TrainingSpec, origins: int = 1) -> str:
    """`115 points → 80 training windows, 20 validation, 10 test`, plus the backtest origins
    when there are several, or DataError."""
    plan = plan_split(n, window, split, training.validation_share)
    line = (f"{n} points → {plan.n_train} training windows, {plan.n_val} validation, {plan.n_test} test "
            f"(the first {window.lookback} points only feed the first window).")
    if origins <= 1:
        return line
    check_origins(n, window, split, training.validation_share, origins)
    first = plan_split(origin_ends(n, split, origins)[0], window, SplitSpec(plan.n_test), training.validation_share)
    return (f"{line} Backtest: {origins} origins, each trained on the rows before its own test period of "
            f"{plan.n_test} points, the last {origins * plan.n_test} points tested in all (the oldest origin has "
            f"{first.n_train} training windows).")


def experiment(name: str, data_spec: Any, models: Sequence[ModelSpec], window: WindowSpec, split: SplitSpec,
               training: TrainingSpec, backtest: BacktestSpec | None = None) -> ExperimentSpec:
    """The experiment spec (SpecError when the name or the model list is invalid)."""
    return ExperimentSpec(name.strip() or "experiment", data_spec, tuple(models), window, split, training,
                          backtest or BacktestSpec())


def _seconds(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    value = max(0.0, value)
    if value < 90:
        return f"{value:.0f} s"
    return f"{value // 60:.0f} min {value % 60:02.0f} s"


def engine_lines(runs: Sequence[RunRow]) -> list[str]:
    """Which engine trained the runs and why, one line per distinct choice (groups whose reasons
    differ only in their estimates, e.g. one per backtest origin, share a line)."""
    seen: dict[tuple[str, str], list[Any]] = {}
    for run in runs:
        if run.engine:
            entry = seen.setdefault((run.engine, run.engine_reason.split(":")[0]), [0, run.engine_reason, set()])
            entry[0] += 1
            entry[2].add(run.engine_reason)
    lines = []
    for (engine, _), (n, reason, reasons) in seen.items():
        how = ("in batched groups: their s/epoch is the whole group's epoch, shared by its runs"
               if engine == "batched" else "one at a time through Keras")
        more = f"; {len(reasons) - 1} more like it" if len(reasons) > 1 else ""
        lines.append(f"{plural(n, 'run')} trained {how} ({reason}{more}).")
    return lines


def run_line(run: RunRow, stalled: str = "") -> tuple[float, str]:
    """Progress (0..1) and one line for a run: epoch k/n, loss, ETA, or its end in words;
    `stalled` ("no progress for 75 s") is said first for a running run that went silent."""
    fraction = min(1.0, run.epoch / run.epochs_total) if run.epochs_total else 0.0
    loss = f"loss {run.loss:.4g}" if run.loss is not None else "loss —"
    if run.val_loss is not None:
        loss += f", val {run.val_loss:.4g}"
    epoch = f"epoch {run.epoch}/{run.epochs_total}"
    if run.status == RunStatus.QUEUED:
        return 0.0, "queued, waiting for a worker"
    if run.status == RunStatus.RUNNING:
        cancelling = " · cancelling…" if run.cancel_requested else ""
        engine = " · in a batched group" if run.engine == "batched" else ""
        retried = f" · retried {plural(run.retries, 'time')}" if run.retries else ""
        if stalled:
            return fraction, f"{stalled} · {epoch} · {loss}{engine}{retried}{cancelling}"
        return fraction, f"{epoch} · {loss} · ETA {_seconds(run.eta_seconds)}{engine}{retried}{cancelling}"
    if run.status == RunStatus.DONE:
        engine = f" · {run.engine} engine" if run.engine else ""
        retried = f" · retried {plural(run.retries, 'time')}" if run.retries else ""
        return 1.0, f"done: {run.message or epoch} · {loss}{engine}{retried}"
    if run.status == RunStatus.DIVERGED:
        return fraction, f"diverged: {run.message or 'the loss blew up'}"
    return fraction, f"{run.status}: {run.message or epoch}"


