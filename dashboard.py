"""LSTM Activation Lab — the Streamlit entry: page config, the shared sidebar, the four pages.

`streamlit run dashboard.py`. The pages live in app_pages/ (a folder named `pages/` would switch
Streamlit to its older automatic multipage mode). Every session key is owned by
`lstm_app.ui.PageState`; the working setup is saved in the run store as it changes and comes
back from `?draft=<id>`, the open experiment from `?experiment=<id>`. Only this file and
app_pages/ import Streamlit, and none of them imports TensorFlow: training happens in the
background runner's worker processes.
"""

from __future__ import annotations

import streamlit as st

from app_pages import common, sidebar
from lstm_app.errors import LabError

st.set_page_config(page_title="LSTM Activation Lab", layout="wide")
try:
    state, store = common.state(), common.store()
except LabError as exc:  # the data folder is unusable: say why, in one sentence, and stop here
    st.title("LSTM Activation Lab")
    common.tell("error", "{}", exc)
    st.stop()
# Starts the background runner (and marks runs a dead server left behind interrupted); a second
# server on the same data folder is refused and shows what is stored, read-only.
busy = common.runner_problem()
if not state.started:
    state.open(store, st.query_params.to_dict())
common.data(state, store)  # fits the draft to its data before any page draws it
# The history lists the recent experiments (or those matching the sidebar's search) and the open
# one, read without parsing their specs; the open one is the newest when none is, or it was
# deleted in another tab.
experiments = store.experiment_list(limit=sidebar.RECENT, search=state.search, include=state.experiment_id)
if state.experiment_id not in {row.id for row in experiments}:
    newest = store.experiment_list(limit=1)
    state.experiment_id = newest[0].id if newest else None
    experiments = store.experiment_list(limit=sidebar.RECENT, search=state.search, include=state.experiment_id)

nav = st.navigation([
    st.Page("app_pages/data.py", title="Data", icon=":material/table_chart:", url_path="data", default=True),
    st.Page("app_pages/models.py", title="Models", icon=":material/stacks:", url_path="models"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:", url_path="train"),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/query_stats:", url_path="compare"),
], position="top")
with st.sidebar:
    sidebar.show(state, experiments, store.experiment_count())
if busy:
    common.tell("error", "{} Until then this page shows what is stored but cannot train.", busy)
for note in state.flashes():
    common.show(note)
try:
    nav.run()
finally:
    try:
        state.save(store)
    except LabError as exc:  # e.g. a full disk: the page goes on, the setup is not saved
        common.tell("warning", "{} Your working setup was not saved.", exc)
    if st.query_params.to_dict() != state.url():  # page switches clear the query string
        st.query_params.from_dict(state.url())
