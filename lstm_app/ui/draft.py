"""The page's working setup: the chosen data, target and extra columns, the models, the settings.

A `Draft` is plain data with a JSON form, so the run store keeps it under an id (`?draft=<id>`
in the page's URL) and a refresh, a second tab or a bookmark brings it back; uploaded files
come back from the store by their SHA-256. Its methods are the page's transitions (choose
data, adopt a freshly read table, apply a preset, import an experiment); the ones the page
reports on return a `Note`. An imported experiment whose data file is not at hand waits in
`pending` until a file with the same hash (or, without a recorded hash, the same name) is
chosen, so none of its settings are dropped on the way.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath
from typing import Any, Literal

import pandas as pd

from ..data import Table, series
from ..data.samples import PREFIX, SAMPLES, sample_path
from ..errors import DataError
from ..presets import HOTEL_H2, PRESETS
from ..spec import DataSpec, ExperimentSpec
from .advice import Advice, advise
from .forms import (
    LayerDraft,
    ModelDraft,
    Settings,
    hotel_settings,
    preset_models,
    settings_from,
    suggested,
    unique_name,
)
from .labels import Note, plural, say

__all__ = ["DEFAULT_SAMPLE", "HOTEL_PRESET", "SEED_PRESET", "Chosen", "DataKind", "Draft", "Note", "Upload",
           "sample_sha"]

SEED_PRESET, HOTEL_PRESET = list(PRESETS)
DEFAULT_SAMPLE = HOTEL_H2.removeprefix(PREFIX)
_VERSION = 1
DataKind = Literal["sample", "upload"]


@functools.lru_cache(maxsize=16)
def sample_sha(name: str) -> str:
    """SHA-256 of a bundled sample's bytes (what the store would key it by)."""
    return hashlib.sha256(sample_path(name).read_bytes()).hexdigest()


@dataclass(frozen=True)
class Upload:
    """An uploaded file, kept in the run store under its SHA-256."""

    name: str
    sha: str


@dataclass(frozen=True)
class Chosen:
    """The draft's data as read: file name, spec source and hash, the table, and the series with
    its DataSpec, or the one sentence that says why not."""

    name: str
    source: str
    sha: str
    table: Table | None
    frame: pd.DataFrame | None = None
    spec: DataSpec | None = None
    error: str | None = None


@dataclass
class Draft:
    """The working setup; see the module docstring. `data_key` is the hash of the data that
    `target`, `features` and `settings` were chosen for: another file resets the columns, and
    the settings too unless someone set them (`settings_touched`)."""

    kind: DataKind = "sample"
    sample: str = DEFAULT_SAMPLE
    upload: Upload | None = None
    data_key: str | None = None
    target: str | None = None
    features: list[str] = field(default_factory=list)
    models: list[ModelDraft] = field(default_factory=lambda: preset_models(SEED_PRESET))
    settings: Settings = field(default_factory=lambda: suggested(115))
    settings_touched: bool = False
    name: str = ""  # the experiment name typed by the user; "" means `auto_name`
    origin: str = SEED_PRESET  # where the models came from: a preset, a sweep, an imported file
    pending: ExperimentSpec | None = None
    advice: Advice | None = None  # the target transform and lookback advised for the data's target column
    targets_touched: bool = False  # someone chose a model's target: advice never overrides it

    # -- the data --------------------------------------------------------------------------------

    @property
    def file_name(self) -> str | None:
        if self.kind == "sample":
            return self.sample
        return self.upload.name if self.upload else None

    @property
    def source(self) -> str | None:
        """The DataSpec source: `sample:NAME` or the uploaded file's name."""
        if self.kind == "sample":
            return PREFIX + self.sample
        return self.upload.name if self.upload else None

    @property
    def sha(self) -> str | None:
        if self.kind == "sample":
            return sample_sha(self.sample)
        return self.upload.sha if self.upload else None

    @property
    def upload_sha(self) -> str | None:
        """The uploaded dataset this draft keeps alive in the store (used or not)."""
        return self.upload.sha if self.upload else None

    def choose_sample(self, name: str) -> None:
        if name not in SAMPLES:
            raise DataError(f"There is no bundled sample named {name!r}.")
        self.kind, self.sample = "sample", name

    def choose_upload(self, name: str, sha: str) -> None:
        self.kind, self.upload = "upload", Upload(name, sha)

    def adopt(self, table: Table) -> Note | None:
        """Fit the draft to the freshly read table of its data: apply a pending import that was
        waiting for this file, or reset the columns (and untouched settings) for new data."""
        note = None
        if self.pending is not None and self._matches(self.pending):
            spec, self.pending = self.pending, None
            self._apply(spec)
            note = say("success", "The imported experiment **{}** now has its data file: its columns, models "
                                  "and settings apply.", spec.name)
        elif self.data_key != self.sha:
            self.data_key, self.advice = self.sha, None
            self.target, self.features = table.target_candidate, []
            if not self.settings_touched:
                self.settings = dataclasses.replace(suggested(table.rows), seeds=self.settings.seeds)
        numeric = table.numeric_columns
        if self.target not in numeric:
            self.target = table.target_candidate
        self.features = [f for f in self.features if f in numeric and f != self.target]
        if self.advice is None or self.advice.column != self.target:
            self._advise(table)
        return note

    def _advise(self, table: Table) -> None:
        """Advise a target transform and lookback for the target column (`advice.advise`) and
        apply them where nobody chose otherwise: the target to the seed preset's models while
        they are as the preset made them, the lookback to untouched settings."""
        try:
            frame = series(table, self.target or table.target_candidate, [])
        except DataError:
            return
        self.advice = advise(frame, self.settings)
        if self.origin == SEED_PRESET and not self.targets_touched and _bare(self.models) == _bare(
                preset_models(SEED_PRESET)):
            self.models = self._advised(self.models)
        if not self.settings_touched and self.advice.lookback:
            self.settings.lookback = self.advice.lookback

    def _advised(self, models: list[ModelDraft]) -> list[ModelDraft]:
        """`models` with the advised target (the data's own season)."""
        if self.advice is None:
            return models
        return [dataclasses.replace(m, target=self.advice.target, season=None) for m in models]

    @property
    def advice_line(self) -> str | None:
        """The advice's reason, and whether the models follow it, for the Models page."""
        if self.advice is None or not self.advice.reason:
            return None
        if all(m.target == self.advice.target for m in self.models):
            return self.advice.reason
        return f"{self.advice.reason} Advised: {self.advice.target}; the models keep the targets set for them."

    def chosen(self, table: Table | str) -> Chosen:
        """The data as read (`table`, or the reason it could not be read) with the series."""
        name, source, sha = self.file_name or "", self.source or "", self.sha or ""
        if isinstance(table, str):
            return Chosen(name, source, sha, None, error=table)
        try:
            frame = series(table, self.target or table.target_candidate, self.features)
        except DataError as exc:
            return Chosen(name, source, sha, table, error=str(exc))
        spec = DataSpec(source, self.target or table.target_candidate, table.time_column, tuple(self.features))
        return Chosen(name, source, sha, table, frame, spec)

    # -- presets, sweeps, imports ----------------------------------------------------------------

    def preset_moves_data(self, preset: str) -> bool:
        """Whether `preset` comes with data other than the draft's (the page asks first); an
        upload with the sample's very bytes is the same data."""
        return preset == HOTEL_PRESET and self.sha != sample_sha(DEFAULT_SAMPLE)

    def apply_preset(self, preset: str, *, keep_data: bool = False) -> Note:
        """Load a preset's models; the hotel replication also its settings and, unless
        `keep_data`, its data (the bundled hotel H2 sample, or the same bytes uploaded)."""
        self.models, self.origin, self.name, self.targets_touched = preset_models(preset), preset, "", False
        if preset == SEED_PRESET:
            self.models = self._advised(self.models)
        if preset != HOTEL_PRESET:
            return say("success", "Loaded the preset {}: " + plural(len(self.models), "model") + ".", preset)
        settings, source, target = hotel_settings()
        self.settings, self.settings_touched = settings, True
        if self.sha == sample_sha(DEFAULT_SAMPLE):
            self.target, self.features, self.data_key = target, [], self.sha
            return Note("success", "Loaded the hotel H2 replication on its data.")
        if keep_data:
            return Note("success", "Loaded the hotel H2 recipe's models and settings; your data stays.")
        self.choose_sample(source.removeprefix(PREFIX))
        self.target, self.features, self.data_key = target, [], self.sha
        return Note("success", "Loaded the hotel H2 replication with its data, the bundled hotel H2 sample.")

    def apply_sweep(self, models: list[ModelDraft]) -> None:
        self.models, self.origin, self.name = self._advised(models), f"sweep of {plural(len(models), 'model')}", ""
        self.targets_touched = False

    def import_spec(self, spec: ExperimentSpec, stored_name: str | None = None) -> Note:
        """Apply an imported experiment now when its data is at hand (a bundled sample, a file
        the store holds by its hash — `stored_name` —, or the data already chosen); else keep
        it pending until its file is chosen."""
        n = plural(len(spec.models), "model")
        sample = spec.data.source.removeprefix(PREFIX)
        if spec.data.source.startswith(PREFIX) and sample in SAMPLES:
            self.choose_sample(sample)
            self._apply(spec)
            return say("success", "Imported **{}** with " + n + " and its sample data.", spec.name)
        if spec.data.sha256 and stored_name is not None:
            self.choose_upload(stored_name, spec.data.sha256)
            self._apply(spec)
            return say("success", "Imported **{}** with " + n + "; its data file **{}** came back from the "
                       "lab's store.", spec.name, stored_name)
        if self._matches(spec):
            self._apply(spec)
            return say("success", "Imported **{}** with " + n + " onto the data already chosen.", spec.name)
        self.pending = spec
        return say("info", "Imported **{}** with " + n + ". It waits for its data file **{}**: upload it on "
                   "the Data page and its columns, models and settings apply together.",
                   spec.name, self.pending_file or "")

    @property
    def pending_file(self) -> str | None:
        """The name of the data file a pending import waits for."""
        return PurePath(self.pending.data.source).name if self.pending else None

    def apply_pending_here(self, table: Table) -> Note:
        """Apply the pending import to the data chosen now, keeping the columns that exist here."""
        spec = self.pending
        if spec is None:
            return Note("info", "There is no imported experiment waiting for its data.")
        self.pending = None
        self._apply(spec)
        numeric = table.numeric_columns
        missing = [c for c in (spec.data.target, *spec.data.features) if c not in numeric]
        self.adopt(table)
        text = "Applied **{}** to **{}**"
        if missing:
            columns = ", ".join("**{}**" for _ in missing)
            return say("warning", text + "; this file has no column " + columns + ", so it was left out.",
                       spec.name, self.file_name or "", *missing)
        return say("success", text + ".", spec.name, self.file_name or "")

    def _matches(self, spec: ExperimentSpec) -> bool:
        if self.sha is None:
            return False
        if spec.data.sha256:
            return spec.data.sha256 == self.sha
        return PurePath(spec.data.source.removeprefix(PREFIX)).name == self.file_name

    def _apply(self, spec: ExperimentSpec) -> None:
        self.models = [ModelDraft.of(m) for m in spec.models]
        # the test-size field the spec does not use keeps the page's value, for switching back
        settings = dataclasses.replace(settings_from(spec.window, spec.split, spec.training, spec.backtest),
                                       test_size=self.settings.test_size, test_share=self.settings.test_share)
        if settings.test_mode == "points":
            settings.test_size = int(spec.split.test_size)
        else:
            settings.test_share = float(spec.split.test_size)
        self.settings, self.settings_touched = settings, True
        self.target, self.features = spec.data.target, list(spec.data.features)
        self.data_key, self.origin, self.name = self.sha, spec.name, ""

    # -- models ----------------------------------------------------------------------------------

    def model(self, uid: int) -> ModelDraft:
        return next(m for m in self.models if m.uid == uid)

    def update_model(self, uid: int, **changes: Any) -> None:
        """Replace model `uid` by a copy with `changes` (name, layers, between, target), same uid;
        a target set here is the user's choice (`targets_touched`)."""
        self.targets_touched = self.targets_touched or "target" in changes
        self.models = [dataclasses.replace(m, **changes) if m.uid == uid else m for m in self.models]

    def add_model(self) -> None:
        name = unique_name("model", [m.name for m in self.models])
        self.models.extend(self._advised([ModelDraft(name, (LayerDraft(32),))]))

    def duplicate(self, uid: int) -> None:
        source = self.model(uid)
        self.models.append(source.renamed(unique_name(f"{source.name} copy"[:80], [m.name for m in self.models])))

    def remove(self, uid: int) -> None:
        self.models = [m for m in self.models if m.uid != uid]

    # -- naming ----------------------------------------------------------------------------------

    def auto_name(self, when: datetime) -> str:
        """`origin · data file · date time`, at most 120 characters."""
        data = PurePath(self.file_name or "no data").stem
        tail = f" · {when:%Y-%m-%d %H:%M}"
        head = f"{self.origin[:60]} · {data}"
        return head[: 120 - len(tail)] + tail

    def experiment_name(self, when: datetime) -> str:
        return self.name.strip()[:120] or self.auto_name(when)

    # -- JSON ------------------------------------------------------------------------------------

    def to_json(self) -> str:
        models = [m.to_dict() for m in self.models]
        return json.dumps({
            "version": _VERSION, "kind": self.kind, "sample": self.sample,
            "upload": dataclasses.asdict(self.upload) if self.upload else None, "data_key": self.data_key,
            "target": self.target, "features": self.features, "models": models,
            "settings": self.settings.to_dict(), "settings_touched": self.settings_touched, "name": self.name,
            "origin": self.origin, "pending": self.pending.to_dict() if self.pending else None,
            "advice": self.advice.to_dict() if self.advice else None, "targets_touched": self.targets_touched,
        }, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Draft:
        """A draft from `to_json`'s text (fresh model uids); ValueError when it is not one."""
        try:
            raw = json.loads(text)
            if raw.get("version") != _VERSION:
                raise ValueError(f"unknown draft version {raw.get('version')!r}")
            upload, pending, advice = raw.get("upload"), raw.get("pending"), raw.get("advice")
            draft = cls(
                kind=raw["kind"], sample=raw["sample"], upload=Upload(**upload) if upload else None,
                data_key=raw.get("data_key"), target=raw.get("target"), features=list(raw.get("features") or []),
                models=[ModelDraft.from_dict(m) for m in raw["models"]],
                settings=Settings.from_dict(raw["settings"]), settings_touched=bool(raw.get("settings_touched")),
                name=str(raw.get("name") or ""), origin=str(raw.get("origin") or SEED_PRESET),
                pending=ExperimentSpec.from_dict(pending) if pending else None,
                advice=Advice.from_dict(advice) if advice else None,
                targets_touched=bool(raw.get("targets_touched")),
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(f"not a saved working setup ({exc})") from None
        if draft.kind not in ("sample", "upload") or draft.sample not in SAMPLES:
            raise ValueError("not a saved working setup (unknown data choice)")
        return draft


def _bare(models: list[ModelDraft]) -> list[dict[str, Any]]:
    """Models as JSON without their targets (to tell a preset's models from edited ones)."""
    return [{k: v for k, v in m.to_dict().items() if k not in ("target", "season")} for m in models]
