"""The sidebar every page shares: the experiment history (open, rename, re-run, delete with a
confirmation), importing an experiment JSON, and the working setup's own controls."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import datetime
from pathlib import Path

import streamlit as st

from app_pages import common
from lstm_app.errors import LabError, SpecError, StoreError
from lstm_app.outcome import RunStatus
from lstm_app.runs.store import ExperimentInfo
from lstm_app.spec import ExperimentSpec
from lstm_app.ui import PageState, fill, say
from lstm_app.ui.labels import data_label, history_label, plural

__all__ = ["show"]


def _act(action: str, experiment_id: int) -> None:
    s, db = common.state(), common.store()
    try:
        row = db.experiment(experiment_id)
        if action == "rename":
            db.rename_experiment(experiment_id, s.rename_to(experiment_id))
            s.forget_rename(experiment_id)
            s.flash("success", f"Experiment {experiment_id} renamed.")
        elif action == "delete":
            s.confirm_delete = experiment_id
        elif action == "delete_yes":
            db.delete_experiment(experiment_id)
            s.confirm_delete, s.experiment_id = None, None
            s.note(say("success", f"Experiment {experiment_id} **{{}}** deleted.", row.name))
        elif action == "delete_no":
            s.confirm_delete = None
        elif action == "requeue":
            n = common.runner().requeue_interrupted(experiment_id)
            s.flash("success", f"{plural(n, 'interrupted run')} queued again.")
        else:
            name, content = db.dataset(row.dataset_sha)
            spec = dataclasses.replace(row.spec, name=f"{row.spec.name} (re-run)"[:120])
            s.experiment_id = common.runner().submit(spec, name, content)
            s.flash("success", f"Re-running as experiment {s.experiment_id}.")
    except LabError as exc:
        s.note(say("error", "{}", exc))


def _import() -> None:
    s, db = common.state(), common.store()
    f = s.value(PageState.IMPORT)
    if f is None:
        return
    try:
        spec = ExperimentSpec.from_json(f.getvalue())
    except SpecError as exc:
        s.note(say("error", "{}", exc))
        return
    stored = None
    if spec.data.sha256:
        with contextlib.suppress(StoreError):
            stored = db.dataset(spec.data.sha256)[0]
    s.note(s.draft.import_spec(spec, stored))


RECENT = 20  # experiments listed without a search


def _details(row: ExperimentInfo) -> str:
    """The open experiment in full: name, then what the name does not already say."""
    data = data_label(row.source)
    when = datetime.fromtimestamp(row.created_at).strftime("%Y-%m-%d %H:%M")
    parts = [] if Path(data).stem in row.name else [fill("{}", data)]
    parts.append(f"{plural(row.models, 'model')} × {plural(row.seeds, 'seed')}")
    if when not in row.name:
        parts.append(when)
    parts.append(", ".join(f"{n} {status}" for status, n in sorted(row.counts.items())) or "no runs")
    return fill("**{}**  \n", row.name) + " · ".join(parts)


def history(s: PageState, experiments: list[ExperimentInfo], total: int) -> None:
    st.header("Experiments")
    if not total:
        st.caption("No experiments yet: train one on the Train page, or import one below.")
        return
    if total > RECENT:
        search = st.text_input("Search by name", key=PageState.SEARCH, placeholder=f"{total:,} experiments")
        shown = sum(1 for row in experiments if not search or search.lower() in row.name.lower())
        st.caption(fill(f"{shown} matching “{{}}”", search) if search
                   else f"The {RECENT} most recent of {total:,}.")
    if not experiments:
        return
    by_id = {row.id: row for row in experiments}
    st.selectbox("Open", list(by_id), key=s.bind_pick(list(by_id)), on_change=s.commit_pick,
                 format_func=lambda i: history_label(by_id[i]))
    eid = s.experiment_id if s.experiment_id in by_id else experiments[0].id
    row = by_id[eid]
    st.caption(_details(row))
    st.page_link("app_pages/compare.py", label="See its results", icon=":material/query_stats:")
    confirming = s.confirm_delete == eid
    with st.expander("Rename, re-run, delete", expanded=confirming):
        st.text_input("New name", key=s.bind_rename(eid, row.name), max_chars=120)
        c1, c2 = st.columns(2)
        c1.button("Rename", key="rename", on_click=_act, args=("rename", eid), width="stretch")
        c2.button("Re-run", key="rerun", on_click=_act, args=("rerun", eid), width="stretch")
        c1.button("Requeue", key="requeue", on_click=_act, args=("requeue", eid), width="stretch",
                  disabled=not row.counts.get(RunStatus.INTERRUPTED), help="Queue its interrupted runs again.")
        c2.button("Delete", key="delete", on_click=_act, args=("delete", eid), width="stretch",
                  disabled=confirming)
        if confirming:
            common.tell("warning", f"Delete experiment {eid} **{{}}** with its {plural(row.total, 'run')} and "
                        "trained models? This cannot be undone.", row.name)
            c1, c2 = st.columns(2)
            c1.button("Delete it", key="delete_yes", type="primary", on_click=_act, args=("delete_yes", eid),
                      width="stretch")
            c2.button("Keep it", key="delete_no", on_click=_act, args=("delete_no", eid), width="stretch")


def setup(s: PageState) -> None:
    st.file_uploader("Import an experiment JSON", type=["json"], key=PageState.IMPORT, on_change=_import)
    d = s.draft
    if d.pending is not None:
        st.caption(fill("**{}** waits for its data file **{}**: upload it on the Data page.", d.pending.name,
                        d.pending_file or ""))
    st.divider()
    st.caption("Your data, models and settings are saved as you go: a refresh, a second tab or a bookmark "
               "of this page brings them back.")
    st.button("Start a new setup", key="new_setup", on_click=s.new_draft,
              help="Starts again from the sample data and the default models. Bookmark this page first to "
                   "keep a link to the current setup.")


def show(s: PageState, experiments: list[ExperimentInfo], total: int) -> None:
    """The whole sidebar."""
    st.title("LSTM Activation Lab")
    st.caption("Does ReLU (or another activation) inside or between stacked LSTM layers beat the default tanh "
               "— on your data, over several seeds?")
    history(s, experiments, total)
    setup(s)
