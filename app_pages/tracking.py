"""Compare's "Send to MLflow": a tracking URI kept for the session and one button. The export runs
in a separate process (`runs.mlflow_send`), so this process never imports MLflow (or TensorFlow)."""

from __future__ import annotations

import streamlit as st

from app_pages import common
from lstm_app.errors import LabError
from lstm_app.runs import mlflow_send

__all__ = ["send_to_mlflow"]


def send_to_mlflow(eid: int) -> None:
    """The URI field and the button; the outcome in one sentence under them."""
    state = common.state()
    st.markdown("**Send to MLflow** — one MLflow experiment, a run per model with a nested run per seed "
                "(params, per-epoch losses, metrics, forecasts, models, verdicts); sending again updates it.")
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    left.text_input("MLflow tracking URI", key=state.bind_mlflow_uri(), on_change=state.commit_mlflow_uri,
                    help="http(s)://HOST:PORT of an MLflow server, or sqlite:///PATH of a local MLflow store; "
                         "MLFLOW_TRACKING_URI sets the first value.")
    if not right.button("Send to MLflow", key=state.MLFLOW_SEND, width="stretch"):
        return
    state.commit_mlflow_uri()
    try:
        with st.spinner("Sending to MLflow…"):
            said = mlflow_send.send(common.store(), eid, state.mlflow_uri)
    except LabError as exc:
        common.tell("error", "{}", exc)
        return
    common.tell("success", "{}", said)
