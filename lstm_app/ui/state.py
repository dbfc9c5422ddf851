"""The page's session state, typed: every key the page keeps between reruns is owned here.

`PageState` wraps a MutableMapping — `st.session_state` on the page, a plain dict in tests — so
the package never imports Streamlit. It holds

- the working setup (`draft`, a `Draft`), its id (`?draft=` in the URL) and the JSON the store
  last saved, so `save` writes only changes. Each browser session has its own: a URL without
  `?draft=` starts a fresh one, so two browsers never edit one setup by accident;
- the open experiment (`experiment_id`, `?experiment=` in the URL);
- messages for the next run (`flash`), and the confirmations a click asks for (deleting an
  experiment; a preset that brings its own data);
- the widgets' keys: the class constants name the widgets the page reads back (an uploader, a
  search box); `bind_*` writes the value the page keeps (mostly the draft's) into a widget's key
  just before the widget is drawn, so it wins on every page, after a refresh, a preset or an
  import; the matching `commit_*` (the widget's on_change) writes a new value back.

Widgets the page forgets when it leaves a page (Streamlit drops their keys) come back from the
draft (or from the session's own copy, for the sweep builder) the next time they are drawn, so
nothing depends on which page was visited.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..data import Table
from ..errors import SpecError, StoreError
from ..presets import PLACEMENTS
from ..runs.store import Store
from .draft import Draft
from .forms import LayerDraft, Settings, parse_units, preset_models
from .labels import Kind, Note, say

__all__ = ["MLFLOW_DEFAULT", "SETTINGS", "PageState", "Sweep"]

SETTINGS = tuple(f.name for f in dataclasses.fields(Settings) if f.name != "seeds")
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DRAFT, _DRAFT_ID, _SAVED, _EXPERIMENT, _FLASH = "draft", "draft_id", "draft_saved", "experiment_id", "flash"
_CONFIRM_DELETE, _CONFIRM_PRESET, _BASES, _SWEEP = "confirm_delete", "confirm_preset", "editor_bases", "sweep_kept"
_MLFLOW_KEPT = "mlflow_uri_kept"
# The Compare page's first MLflow URI: the user's MLFLOW_TRACKING_URI, else a local `mlflow server`.
MLFLOW_DEFAULT = os.environ.get("MLFLOW_TRACKING_URI") or "http://127.0.0.1:5000"


@dataclass(frozen=True)
class Sweep:
    """The sweep builder's choices, kept for the session (its widgets forget them off the page);
    `keep_open` keeps its expander open once an error was shown (the message above the page
    moves the expander, and Streamlit draws a moved expander afresh, closed)."""

    activations: tuple[str, ...] = ("tanh", "relu")
    placements: tuple[str, ...] = tuple(PLACEMENTS)
    units: str = "64,32"
    keep_open: bool = False


class PageState:
    """Typed access to the page's session keys; see the module docstring."""

    # Widgets the page reads back by key (not bound to the draft).
    UPLOADER, IMPORT, SEARCH = "uploader", "import_json", "history_search"
    # Data widgets, seeded by `bind_data`.
    KIND, SAMPLE, TARGET, FEATURES = "source_kind", "sample", "target", "features"
    # The sweep builder's widgets, seeded by `bind_sweep`.
    SWEEP_ACTS, SWEEP_PLACES, SWEEP_UNITS = "sweep_acts", "sweep_places", "sweep_units"
    # Compare's "Send to MLflow": the URI field (seeded by `bind_mlflow_uri`) and its button.
    MLFLOW_URI, MLFLOW_SEND = "mlflow_uri", "mlflow_send"

    def __init__(self, session: MutableMapping[Any, Any]) -> None:
        self._s = session

    # -- the session's start, the URL and the store ------------------------------------------

    @property
    def started(self) -> bool:
        return _DRAFT in self._s

    def open(self, store: Store, params: Mapping[str, str]) -> None:
        """The first run of a browser session: the working setup named by `?draft=` (else a
        fresh one: a bare URL never opens another browser's setup) and the experiment named by
        `?experiment=`."""
        wanted = params.get("draft") or ""
        draft_id, body = (wanted, store.draft(wanted)) if _ID.fullmatch(wanted) else (None, None)
        if draft_id and body is None:
            self.note(say("info", "There is no saved working setup {} in this lab; this is a fresh one under "
                                  "that name.", draft_id))
        draft = Draft()
        if body is not None:
            try:
                draft = Draft.from_json(body)
            except ValueError as exc:
                self.note(say("warning", "{}", f"The saved working setup could not be read ({exc}); "
                                               "this is a fresh one."))
                body = None
        self._s[_DRAFT], self._s[_DRAFT_ID], self._s[_SAVED] = draft, draft_id or secrets.token_hex(4), body
        self._s[_EXPERIMENT] = None
        raw = params.get("experiment") or ""
        if raw:
            try:
                self._s[_EXPERIMENT] = store.experiment(int(raw)).id
            except (ValueError, StoreError):
                self.note(say("warning", "There is no experiment {} in this lab's store.", raw))

    def new_draft(self) -> None:
        """Start a fresh working setup under a new id (the old one stays saved under its own)."""
        self._s[_DRAFT], self._s[_DRAFT_ID], self._s[_SAVED] = Draft(), secrets.token_hex(4), None
        self._s.pop(_CONFIRM_PRESET, None)

    def save(self, store: Store) -> bool:
        """Write the working setup to the store when it changed; returns whether it did."""
        body = self.draft.to_json()
        if body == self._s.get(_SAVED):
            return False
        store.save_draft(self.draft_id, body, self.draft.upload_sha)
        self._s[_SAVED] = body
        return True

    def url(self) -> dict[str, str]:
        """The query parameters that bring this page back: the draft and the open experiment."""
        eid = self.experiment_id
        return {"draft": self.draft_id, **({"experiment": str(eid)} if eid is not None else {})}

    @property
    def draft(self) -> Draft:
        draft: Draft = self._s[_DRAFT]
        return draft

    @property
    def draft_id(self) -> str:
        return str(self._s[_DRAFT_ID])

    @property
    def experiment_id(self) -> int | None:
        eid: int | None = self._s.get(_EXPERIMENT)
        return eid

    @experiment_id.setter
    def experiment_id(self, value: int | None) -> None:
        if value != self._s.get(_EXPERIMENT):
            self._s.pop(_CONFIRM_DELETE, None)
        self._s[_EXPERIMENT] = value

    # -- messages and confirmations -----------------------------------------------------------

    def flash(self, kind: Kind, text: str) -> None:
        """Show `text` (Markdown, user parts escaped: see `labels.say`) as st.<kind> on the next run."""
        self._s.setdefault(_FLASH, []).append(Note(kind, text))

    def note(self, note: Note | None) -> None:
        """Show `note` on the next run."""
        if note is not None:
            self.flash(note.kind, note.text)

    def flashes(self) -> list[Note]:
        """The messages to show now (each once)."""
        notes: list[Note] = self._s.pop(_FLASH, [])
        return notes

    @property
    def confirm_delete(self) -> int | None:
        """The experiment whose Delete was clicked and waits for a confirmation."""
        eid: int | None = self._s.get(_CONFIRM_DELETE)
        return eid

    @confirm_delete.setter
    def confirm_delete(self, value: int | None) -> None:
        self._s[_CONFIRM_DELETE] = value

    @property
    def confirm_preset(self) -> str | None:
        """The preset that would replace the user's data and waits for a choice."""
        name: str | None = self._s.get(_CONFIRM_PRESET)
        return name

    @confirm_preset.setter
    def confirm_preset(self, value: str | None) -> None:
        self._s[_CONFIRM_PRESET] = value

    def value(self, key: str) -> Any:
        """The value of a widget that is not bound to the draft (one of the class constants)."""
        return self._s.get(key)

    @property
    def search(self) -> str:
        """The experiment history's search text ("" without one)."""
        return str(self._s.get(self.SEARCH) or "")

    # -- widgets bound to the draft ------------------------------------------------------------

    def bind(self, key: str) -> str:
        """A settings widget's key (a `Settings` field), seeded from the draft."""
        self._s[key] = getattr(self.draft.settings, key)
        return key

    def commit(self, key: str) -> None:
        setattr(self.draft.settings, key, self._s[key])
        self.draft.settings_touched = True

    def bind_data(self, table: Table | None) -> None:
        """Seed the data widgets: source kind, sample, target and extra columns (these only
        with a table, whose columns are their options)."""
        d = self.draft
        self._s[self.KIND], self._s[self.SAMPLE] = d.kind, d.sample
        if table is not None:
            self._s[self.TARGET], self._s[self.FEATURES] = d.target, list(d.features)

    def commit_kind(self) -> None:
        self.draft.kind = "upload" if self._s[self.KIND] == "upload" else "sample"

    def commit_sample(self) -> None:
        self.draft.choose_sample(self._s[self.SAMPLE])

    def commit_target(self) -> None:
        d = self.draft
        d.target = self._s[self.TARGET]
        d.features = [f for f in d.features if f != d.target]

    def commit_features(self) -> None:
        self.draft.features = list(self._s[self.FEATURES])

    def bind_model(self, uid: int) -> tuple[str, str, str]:
        """Keys of a model's name box, between-layers select and layers editor (the first two
        seeded from the draft; the editor keeps its base rows while it is on the page)."""
        d = self.draft.model(uid)
        name, between, layers = f"name_{uid}", f"between_{uid}", f"layers_{uid}"
        self._s[name], self._s[between] = d.name, d.between
        bases = self._s.setdefault(_BASES, {})
        if layers not in self._s or uid not in bases:
            bases[uid] = [layer.row() for layer in d.layers]
        return name, between, layers

    def editor_base(self, uid: int) -> list[dict[str, Any]]:
        """The rows the layers editor of model `uid` started from (its edits apply on top)."""
        rows: list[dict[str, Any]] = self._s[_BASES][uid]
        return rows

    def bind_target(self, uid: int) -> str:
        """Key of a model's target-transform select, seeded from the draft (its on_change is
        `commit_model(uid, "target")`)."""
        key = f"target_{uid}"
        self._s[key] = self.draft.model(uid).target
        return key

    def bind_forecast(self, uid: int) -> tuple[str, str]:
        """Keys of a model's forecast-strategy select and horizon input (0: none), seeded from the draft."""
        d, strategy, horizon = self.draft.model(uid), f"strategy_{uid}", f"horizon_{uid}"
        self._s[strategy], self._s[horizon] = d.strategy, d.horizon or 0
        return strategy, horizon

    def commit_horizon(self, uid: int) -> None:
        value = self._s[f"horizon_{uid}"]
        self.draft.update_model(uid, horizon=int(value) if value else None)

    def commit_model(self, uid: int, field: str) -> None:
        """A model's name box, between-layers, target or strategy select changed (`field` is
        "name", "between", "target" or "strategy"; a target chosen here is never replaced by advice)."""
        self.draft.update_model(uid, **{field: str(self._s[f"{field}_{uid}"])})

    def set_layers(self, uid: int, rows: Sequence[Mapping[Any, Any]]) -> None:
        """The layers editor's current rows (missing numbers as None, so the JSON stays valid)."""
        self.draft.update_model(uid, layers=tuple(LayerDraft.from_row(r) for r in rows))

    def choose_preset(self, name: str) -> None:
        """A preset button: load it, or ask first when it would replace the user's data."""
        if self.draft.preset_moves_data(name):
            self.confirm_preset = name
        else:
            self.note(self.draft.apply_preset(name))

    def answer_preset(self, keep_data: bool | None) -> None:
        """The answer to `confirm_preset`: keep the data (True), switch (False) or cancel (None)."""
        name, self.confirm_preset = self.confirm_preset, None
        if name is not None and keep_data is not None:
            self.note(self.draft.apply_preset(name, keep_data=keep_data))

    def bind_name(self) -> str:
        self._s["exp_name"] = self.draft.name
        return "exp_name"

    def commit_name(self) -> None:
        self.draft.name = str(self._s["exp_name"])

    # -- the sweep builder ------------------------------------------------------------------------

    @property
    def sweep(self) -> Sweep:
        kept: Sweep = self._s.get(_SWEEP) or Sweep()
        return kept

    def bind_sweep(self) -> tuple[str, str, str]:
        """The keys of the sweep's activations, placements and units widgets, seeded from the
        session's copy (so they keep their values after the page was left)."""
        kept = self.sweep
        self._s[self.SWEEP_ACTS], self._s[self.SWEEP_PLACES] = list(kept.activations), list(kept.placements)
        self._s[self.SWEEP_UNITS] = kept.units
        return self.SWEEP_ACTS, self.SWEEP_PLACES, self.SWEEP_UNITS

    def commit_sweep(self) -> None:
        """Keep what the sweep's widgets hold now."""
        self._s[_SWEEP] = dataclasses.replace(
            self.sweep, activations=tuple(self._s.get(self.SWEEP_ACTS) or ()),
            placements=tuple(self._s.get(self.SWEEP_PLACES) or ()), units=str(self._s.get(self.SWEEP_UNITS) or ""))

    def apply_sweep(self) -> Note | None:
        """The sweep button: replace the draft's models with the sweep's, or say why not (and keep
        the builder open)."""
        self.commit_sweep()  # the units box may change in the same click
        sweep = self.sweep
        try:
            models = preset_models("sweep", activations=sweep.activations, placements=sweep.placements,
                                   units=parse_units(sweep.units))
        except (SpecError, ValueError) as exc:
            note = say("error", "{}", exc)
        else:
            if models:
                self.draft.apply_sweep(models)
                return None
            note = Note("error", "The sweep is empty: choose at least one activation and one placement.")
        self._s[_SWEEP] = dataclasses.replace(sweep, keep_open=True)
        return note

    # -- Send to MLflow -------------------------------------------------------------------------

    @property
    def mlflow_uri(self) -> str:
        """The MLflow tracking URI last used in this session (kept when the page is left)."""
        return str(self._s.get(_MLFLOW_KEPT) or MLFLOW_DEFAULT)

    def bind_mlflow_uri(self) -> str:
        """The URI field's key, seeded with the URI kept for the session."""
        self._s[self.MLFLOW_URI] = self.mlflow_uri
        return self.MLFLOW_URI

    def commit_mlflow_uri(self) -> None:
        """Keep what the URI field holds now (spaces around it dropped)."""
        self._s[_MLFLOW_KEPT] = str(self._s.get(self.MLFLOW_URI) or "").strip()

    # -- the experiment history -----------------------------------------------------------------

    def bind_pick(self, ids: list[int]) -> str:
        """The history select's key, showing the open experiment."""
        self._s["history_pick"] = self.experiment_id if self.experiment_id in ids else ids[0]
        return "history_pick"

    def commit_pick(self) -> None:
        self.experiment_id = self._s["history_pick"]

    def bind_rename(self, experiment_id: int, name: str) -> str:
        """The rename box of one experiment (its own key, so it never holds another's name)."""
        key = f"rename_{experiment_id}"
        self._s.setdefault(key, name)
        return key

    def rename_to(self, experiment_id: int) -> str:
        return str(self._s.get(f"rename_{experiment_id}", "")).strip()

    def forget_rename(self, experiment_id: int) -> None:
        self._s.pop(f"rename_{experiment_id}", None)
