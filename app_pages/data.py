"""1 · Data: a bundled sample or an uploaded CSV, its time axis, the target and extra columns."""

from __future__ import annotations

import streamlit as st

from app_pages import common
from lstm_app.data.samples import SAMPLES
from lstm_app.report import charts
from lstm_app.ui import Chosen, PageState, fill, say
from lstm_app.ui.labels import plural

KINDS = {"sample": "Bundled sample", "upload": "Upload a CSV"}
state, store = common.state(), common.store()


def _on_upload() -> None:
    f = state.value(PageState.UPLOADER)
    if f is not None:
        state.note(common.upload(state, store, f.name, f.getvalue()))


def _apply_pending_here() -> None:
    chosen = common.data(state, store)
    if chosen is not None and chosen.table is not None:
        state.note(state.draft.apply_pending_here(chosen.table))


def _discard_pending() -> None:
    name = state.draft.pending.name if state.draft.pending else ""
    state.draft.pending = None
    state.note(say("info", "Discarded the imported experiment **{}**.", name))


def source(chosen: Chosen | None) -> None:
    """The source picker: a sample, or the uploader with the file kept in the store."""
    d = state.draft
    left, right = st.columns([2, 3], gap="large")
    left.radio("Source", list(KINDS), key=PageState.KIND, format_func=KINDS.__getitem__, horizontal=True,
               on_change=state.commit_kind, label_visibility="collapsed")
    with right:
        if d.kind == "sample":
            st.selectbox("Sample", list(SAMPLES), key=PageState.SAMPLE, on_change=state.commit_sample)
            st.caption(fill("{}", SAMPLES[d.sample]))
            return
        st.file_uploader("CSV file", type=["csv", "txt"], key=PageState.UPLOADER, on_change=_on_upload)
        if d.upload is not None:
            st.caption(fill("In use: **{}**, kept in the lab's store, so a refresh or a bookmark brings it "
                            "back. Upload another file to replace it.", d.upload.name))


def pending(chosen: Chosen | None) -> None:
    """An imported experiment that waits for its data file: what it needs, and what to do."""
    d = state.draft
    if d.pending is None:
        return
    sha = f" (SHA-256 {d.pending.data.sha256[:12]}…)" if d.pending.data.sha256 else ""
    with st.container(border=True):
        common.tell("info", "The imported experiment **{}** waits for its data file **{}**" + sha + ". Upload that "
                    "file and its target, extra columns, models and settings apply together; until then the page "
                    "keeps what it had.", d.pending.name, d.pending_file or "")
        c1, c2 = st.columns(2)
        c1.button("Apply it to the data shown here instead", key="pending_here", on_click=_apply_pending_here,
                  disabled=chosen is None or chosen.table is None, width="stretch")
        c2.button("Discard the import", key="pending_discard", on_click=_discard_pending, width="stretch")


def page() -> None:
    common.title("1 · Data", "Pick a bundled sample or upload a CSV: one header row, a time column and one or "
                             "more numeric columns. Then choose the column to forecast.")
    chosen = common.data(state, store)
    state.bind_data(chosen.table if chosen else None)
    source(chosen)
    pending(chosen)
    if chosen is None:
        st.info("Upload a CSV to start, or pick a bundled sample.")
        return
    table = chosen.table
    if table is None:
        common.tell("error", "{}", chosen.error)
        return
    d = state.draft
    left, right = st.columns([2, 3], gap="large")
    with left:
        st.markdown(fill("**{}** — " + plural(table.rows, "row"), chosen.name))
        time_text = fill("**{}**", table.time_column) if table.time_column else "none (row order)"
        st.markdown(f"Time column: {time_text}  \nFrequency: " + fill("**{}**", table.frequency_label)
                    + (f"  \nFrom {table.start} to {table.end}" if table.start else ""))
        st.selectbox("Target (the column to forecast)", table.numeric_columns, key=PageState.TARGET,
                     on_change=state.commit_target)
        others = [c for c in table.numeric_columns if c != d.target]
        st.multiselect("Extra input columns (optional)", others, key=PageState.FEATURES,
                       on_change=state.commit_features,
                       help="Fed to the network beside the target's own lags; the future forecast needs none.")
        if table.notes:
            with st.expander(f"Notes on reading the file ({len(table.notes)})"):
                for note in table.notes:
                    st.caption(fill("{}", note))
    if chosen.frame is None:
        common.show(say("error", "{}", chosen.error), left)
        return
    with right:
        st.plotly_chart(charts.series_preview(chosen.frame, d.target or table.target_candidate), key="series_chart")
    config = {}
    column = table.time_column
    if column and (table.frame[column].dt.normalize() == table.frame[column]).all():
        config[column] = st.column_config.DatetimeColumn(format="YYYY-MM-DD")
    st.dataframe(table.frame, height=220, hide_index=True, key="preview", column_config=config)


page()
