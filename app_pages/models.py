"""2 · Models: presets, a sweep builder, the settings, and one card per model with its parameter
count layer by layer."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app_pages import common
from lstm_app.errors import SpecError
from lstm_app.params import count_layers
from lstm_app.presets import PLACEMENTS, PRESETS
from lstm_app.report import charts
from lstm_app.spec import (
    ACTIVATIONS,
    FRAMINGS,
    LOSSES,
    MAX_HORIZON,
    MAX_ORIGINS,
    MAX_UNITS,
    OPTIMIZERS,
    SCALINGS,
    STRATEGIES,
    TARGETS,
    ModelSpec,
    WindowSpec,
    cudnn_eligible,
)
from lstm_app.ui.draft import HOTEL_PRESET
from lstm_app.ui.forms import LAYER_COLUMNS, NONE, TEST_MODES, build_specs, forecast_help, param_table, target_help

state = common.state()

LAYER_CONFIG = {
    "units": st.column_config.NumberColumn("units", min_value=1, max_value=MAX_UNITS, step=1, required=True, default=32,
                                           width="small"),
    "activation": st.column_config.SelectboxColumn("activation", options=list(ACTIVATIONS), required=True,
                                                   default="tanh", help="the cell/output activation"),
    "recurrent_activation": st.column_config.SelectboxColumn("gates", options=list(ACTIVATIONS), required=True,
                                                             default="sigmoid", help="the gates' activation"),
    "dropout": st.column_config.NumberColumn("dropout", min_value=0.0, max_value=0.9, step=0.05, default=0.0,
                                             width="small"),
}


def _sweep() -> None:
    state.note(state.apply_sweep())


def sweep_builder() -> None:
    """Activations × placements × units; the choices stay for the session, and the expander
    stays open after an error."""
    acts, places, units = state.bind_sweep()
    with st.expander("Sweep builder: activation × placement × units", expanded=state.sweep.keep_open):
        c1, c2 = st.columns([3, 2])
        c1.multiselect("Activations", list(ACTIVATIONS), key=acts, on_change=state.commit_sweep)
        c2.text_input("Units options", key=units, on_change=state.commit_sweep,
                      help="Stacked units per option, options separated by ';', e.g. 64,32; 32")
        # a row of its own: both placements' chips fit side by side
        st.multiselect("Placements", list(PLACEMENTS), key=places, on_change=state.commit_sweep,
                       format_func=PLACEMENTS.__getitem__)
        st.button("Replace the models with this sweep", key="sweep", on_click=_sweep)


def presets() -> None:
    cols = st.columns([3, 2, 1.5])
    for col, (name, text) in zip(cols, PRESETS.items(), strict=False):
        col.button(f"Preset: {name}", key=f"preset_{name}", on_click=state.choose_preset, args=(name,), help=text,
                   width="stretch")
    cols[-1].button("Add a model", key="add_model", on_click=lambda: state.draft.add_model(), width="stretch")
    if state.confirm_preset == HOTEL_PRESET:
        with st.container(border=True):
            common.tell("warning", "The hotel H2 replication is defined on the bundled hotel H2 sample, and your "
                        "data is **{}**. Switch to the sample, or keep your data and take only the recipe's models "
                        "and settings?", state.draft.file_name or "not chosen yet")
            c1, c2, c3 = st.columns(3)
            c1.button("Switch to the hotel H2 sample", key="preset_switch", on_click=state.answer_preset, args=(False,),
                      width="stretch")
            c2.button("Keep my data", key="preset_keep", on_click=state.answer_preset, args=(True,), type="primary",
                      width="stretch")
            c3.button("Cancel", key="preset_cancel", on_click=state.answer_preset, args=(None,), width="stretch")
    sweep_builder()


def _number(label: str, key: str, low: float, high: float, **kw: Any) -> None:
    st.number_input(label, low, high, key=state.bind(key), on_change=state.commit, args=(key,), **kw)


def _select(label: str, key: str, options: Any, **kw: Any) -> None:
    st.selectbox(label, list(options), key=state.bind(key), on_change=state.commit, args=(key,), **kw)


def settings() -> tuple[Any, Any, Any] | None:
    """Window, split and training settings → their specs (or the error, shown)."""
    cols = st.columns(4, gap="medium")
    with cols[0]:
        st.markdown("**Window**")
        _number("Lookback (lags)", "lookback", 1, 1000, step=1)
        _select("Framing", "framing", FRAMINGS, help="; ".join(f"{k}: {v}" for k, v in FRAMINGS.items()))
        _select("Scaling", "scaling", SCALINGS)
    with cols[1]:
        st.markdown("**Split**")
        _select("Test period", "test_mode", TEST_MODES, format_func=TEST_MODES.__getitem__)
        if state.draft.settings.test_mode == "points":
            _number("Test points (last)", "test_size", 1, 100_000, step=1)
        else:
            _number("Test share", "test_share", 0.001, 0.999, step=0.05, format="%.3f")
        _number("Validation share", "validation_share", 0.0, 0.9, step=0.05)
        _number("Backtest origins", "origins", 1, MAX_ORIGINS, step=1,
                help="Rolling-origin backtest: train and test every model × seed at this many forecast origins, "
                     "each one test period earlier, on the rows before it (1 = a single split). More origins "
                     "make the verdict rest on more than one test period.")
        _number("Future steps", "future_steps", 0, 1000, step=1)
    with cols[2]:
        st.markdown("**Training**")
        _number("Epochs", "epochs", 1, 10_000, step=1)
        _number("Seeds per model", "n_seeds", 1, 100, step=1)
        _number("Batch size", "batch_size", 1, 65_536, step=1)
    with cols[3]:
        st.markdown("**Optimizer**")
        _select("Optimizer", "optimizer", OPTIMIZERS)
        _number("Learning rate", "learning_rate", 1e-6, 10.0, step=1e-4, format="%.4f")
        _select("Loss", "loss", LOSSES)
        _number("Patience (0 = off)", "patience", 0, 10_000, step=1)
    try:
        return build_specs(state.draft.settings)
    except SpecError as exc:
        common.tell("error", "{}", exc)
        return None


def card(uid: int, n_features: int, window: WindowSpec | None) -> ModelSpec | None:
    """One model: name, layers editor, between activation, buttons and its parameter table."""
    name_key, between_key, layers_key = state.bind_model(uid)
    st.text_input("Name", key=name_key, max_chars=80, on_change=state.commit_model, args=(uid, "name"))
    base = pd.DataFrame(state.editor_base(uid), columns=list(LAYER_COLUMNS)).fillna({"dropout": 0.0})
    edited = st.data_editor(base, key=layers_key, num_rows="dynamic", column_config=LAYER_CONFIG, hide_index=True)
    state.set_layers(uid, edited.to_dict("records"))
    c1, c2 = st.columns(2)
    c1.selectbox("Activation layer between LSTM layers", [NONE, *ACTIVATIONS], key=between_key,
                 on_change=state.commit_model, args=(uid, "between"))
    c2.selectbox("Target (what the network learns)", list(TARGETS), key=state.bind_target(uid),
                 on_change=state.commit_model, args=(uid, "target"), help=target_help())
    strategy, horizon = state.bind_forecast(uid)
    f1, f2 = st.columns(2)
    f1.selectbox("Forecast", list(STRATEGIES), key=strategy, on_change=state.commit_model, args=(uid, "strategy"),
                 help=forecast_help())
    f2.number_input("Horizon (steps, 0 = auto)", 0, MAX_HORIZON, key=horizon, step=1, on_change=state.commit_horizon,
                    args=(uid,), help="How many steps ahead. A direct model predicts them at once and needs a number "
                                      "here. A recursive model is scored that far; 0 (auto) scores it as far as the "
                                      "longest direct model, else about one season of at least 8 steps (monthly "
                                      "12, daily 14), else 12 steps, never past the test period.")
    b1, b2 = st.columns(2)
    b1.button("Duplicate", key=f"dup_{uid}", on_click=lambda: state.draft.duplicate(uid), width="stretch")
    b2.button("Remove", key=f"rm_{uid}", on_click=lambda: state.draft.remove(uid), width="stretch",
              disabled=len(state.draft.models) <= 1)
    try:
        model = state.draft.model(uid).spec()
    except SpecError as exc:
        common.tell("error", "{}", exc)
        return None
    if window is not None:
        table = param_table(model, n_features, window.lookback, window.framing)
        table["Params"] = table["Params"].map("{:,}".format)
        st.dataframe(table, hide_index=True, key=f"params_{uid}")
    eligible, why = cudnn_eligible(model)
    st.caption(("cuDNN on a GPU: yes" if eligible else f"cuDNN on a GPU: no — {why}") + ".")
    return model


def page() -> None:
    common.title("2 · Models", "Describe two or more stacked LSTMs side by side; each shows its parameter count "
                               "layer by layer before anything trains.")
    presets()
    if state.draft.advice_line:
        st.caption(state.draft.advice_line)
    with st.container(border=True):
        specs = settings()
    window = specs[0] if specs else None
    n_features = 1 + len(state.draft.features)
    models: list[ModelSpec | None] = []
    per_row = 2  # three cards per row at 1280 px leave the layers editor and formulas cut off
    uids = [m.uid for m in state.draft.models]
    for start in range(0, len(uids), per_row):
        cols = st.columns(per_row, gap="medium")
        for col, uid in zip(cols, uids[start:start + per_row], strict=False):
            with col, st.container(border=True):
                models.append(card(uid, n_features, window))
    good = [m for m in models if m is not None]
    if good and window is not None:
        counts = {m.name: count_layers(m, n_features, window.lookback, window.framing) for m in good}
        st.plotly_chart(charts.param_comparison(counts), key="param_chart")
        st.caption("Swapping an activation leaves the count unchanged; an activation layer between LSTM "
                   "layers adds no weights.")


page()
