"""What every page shares: the typed page state, the run store and runner, the chosen data, messages.

Page helpers only: the state and the words live in `lstm_app.ui`.

Not a page itself (dashboard.py lists the pages). Nothing here imports TensorFlow.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from lstm_app.data import Table
from lstm_app.data.samples import sample_path
from lstm_app.errors import DataError, LabError, StoreError
from lstm_app.runs.runner import Runner, get_runner
from lstm_app.runs.store import Store, default_path
from lstm_app.ui import Chosen, Kind, Note, PageState, say
from lstm_app.ui.forms import read_upload

__all__ = ["content", "data", "read", "runner", "runner_problem", "show", "state", "store", "tell", "title",
           "upload"]


def state() -> PageState:
    return PageState(st.session_state)


def store() -> Store:
    """The run store of this data folder: one per server process (migrations are checked once)."""
    return _store(str(default_path()))


@st.cache_resource(max_entries=4, show_spinner=False)
def _store(path: str) -> Store:
    return Store(path)


def runner() -> Runner:
    """The background runner of this data folder (started on first use); a LabError in one
    sentence when it cannot start, e.g. another server holds the folder."""
    return get_runner(default_path())


def runner_problem() -> str | None:
    """Why this server cannot train (one sentence), or None when its runner is up."""
    try:
        runner()
    except LabError as exc:
        return str(exc)
    return None


@st.cache_resource(max_entries=8, show_spinner=False)
def read(sha: str, name: str, _content: Callable[[], bytes]) -> Table | str:
    """The table of a file, by its hash (the bytes are fetched only when not cached), or the
    sentence that says why it cannot be used. Tables are shared read-only between sessions."""
    try:
        return read_upload(name, _content())
    except DataError as exc:
        return str(exc)


def _loader(s: PageState, db: Store) -> Callable[[], bytes]:
    d = s.draft
    if d.kind == "sample":
        return sample_path(d.sample).read_bytes
    sha = d.upload_sha or ""
    return lambda: db.dataset(sha)[1]


def data(s: PageState, db: Store) -> Chosen | None:
    """The draft's data read and adopted into the draft (a pending import that waited for this
    file applies here); None when no file is chosen yet."""
    d = s.draft
    if d.sha is None:
        return None
    try:
        table = read(d.sha, d.file_name or "", _loader(s, db))
    except StoreError:
        return d.chosen(f"The uploaded file {d.file_name!r} is no longer in the lab's store; upload it again.")
    if isinstance(table, Table):
        s.note(d.adopt(table))
    return d.chosen(table)


def content(s: PageState, db: Store) -> bytes:
    """The bytes of the draft's data (for a submission)."""
    return _loader(s, db)()


def upload(s: PageState, db: Store, name: str, raw: bytes) -> Note | None:
    """Keep an uploaded file in the store and make it the draft's data; else say why it is unusable
    (the draft keeps its data then)."""
    sha = hashlib.sha256(raw).hexdigest()
    table = read(sha, name, lambda: raw)
    if isinstance(table, str):
        return say("error", "{}", table)
    try:
        s.draft.choose_upload(name, db.put_dataset(name, raw))
    except LabError as exc:  # e.g. the disk is full: the draft keeps its data
        return say("error", "{}", exc)
    return None


def show(note: Note, where: DeltaGenerator | None = None) -> None:
    """Draw `note` as st.success, st.info, st.warning or st.error (in `where`, e.g. a column)."""
    place: Any = where if where is not None else st
    draw: Callable[[str], object] = {"success": place.success, "info": place.info, "warning": place.warning,
                                     "error": place.error}[note.kind]
    draw(note.text)


def tell(kind: Kind, template: str, *user_parts: object) -> None:
    """Draw a message now: `say(kind, template, *user_parts)` shown (user parts escaped)."""
    show(say(kind, template, *user_parts))


def title(text: str, caption: str) -> None:
    st.subheader(text)
    st.caption(caption)
