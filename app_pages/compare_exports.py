"""The Compare page's exports: metrics CSV, per-seed CSV, experiment JSON, Keras code and a
trained model's .keras file (built on request for runs that kept only their weights)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app_pages import common
from lstm_app import report, runs
from lstm_app.errors import LabError
from lstm_app.outcome import RunStatus
from lstm_app.text import safe_frame
from lstm_app.ui.labels import file_stem

__all__ = ["exports"]


def exports(res: runs.Results) -> None:
    """Download buttons: metrics CSV, experiment JSON, Keras code, a trained .keras model."""
    st.subheader("Exports")
    slug = file_stem(res.spec.name)
    c1, c2, c3, c4 = st.columns(4)
    c1.download_button("Metrics CSV", safe_frame(res.comparison.numeric_table()).to_csv(), f"{slug}-metrics.csv",
                       "text/csv", key="dl_metrics", width="stretch")
    c2.download_button("Per-seed CSV", safe_frame(res.comparison.per_seed_table()).to_csv(index=False),
                       f"{slug}-per-seed.csv", "text/csv", key="dl_seeds", width="stretch")
    c3.download_button("Experiment JSON", res.spec.to_json(), f"{slug}.json", "application/json",
                       key="dl_json", width="stretch")
    c4.download_button("Keras code", report.keras_script(res.spec), f"{slug}_models.py", "text/x-python",
                       key="dl_code", width="stretch")
    if trained := [r for r in res.runs if r.status == RunStatus.DONE]:
        keras_file(res, slug, trained)


def keras_file(res: runs.Results, slug: str, trained: list[runs.RunRow]) -> None:
    """A trained model's .keras file: downloaded, or built first (batched runs keep only weights)."""
    pick = st.selectbox("Trained model (.keras)", trained, key="dl_run",
                        format_func=lambda r: f"{r.model_name} · seed {r.seed}"
                        + (f" · origin {r.origin + 1}" if res.spec.backtest.origins > 1 else "") + f" (run {r.id})")
    if pick.model_path and Path(pick.model_path).is_file():
        st.download_button("Download the .keras file", Path(pick.model_path).read_bytes(),
                           f"{slug}-run-{pick.id}.keras", "application/octet-stream", key="dl_keras")
    elif st.button("Build the .keras file", key="dl_build",
                   help="Runs trained in a batched group keep only their weights; the file is built on request "
                        "(a few seconds: it loads TensorFlow in a separate process)."):
        try:
            with st.spinner("Building the .keras file…"):
                runs.export.keras_file(common.store(), pick.id)
            st.rerun()
        except LabError as exc:
            common.tell("error", "{}", exc)
