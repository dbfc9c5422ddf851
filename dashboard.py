"""LSTM Activation Lab — the Streamlit page: widgets → specs, submit/cancel, draw package figures.

Only this file imports Streamlit, and it never imports TensorFlow: training happens in the
background runner's worker processes, and every run state shown is read from the run store.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from lstm_app import page_state as ps
from lstm_app.data import Table, series
from lstm_app.data.samples import PREFIX, SAMPLES, sample_path
from lstm_app.errors import DataError, LabError, SpecError
from lstm_app.params import count_layers
from lstm_app.presets import HOTEL_H2, PLACEMENTS, PRESETS, PUBLISHED
from lstm_app.report import charts, results
from lstm_app.runs.runner import Runner, get_runner
from lstm_app.runs.store import Store, default_path
from lstm_app.spec import ACTIVATIONS, FRAMINGS, LOSSES, OPTIMIZERS, SCALINGS, DataSpec, ExperimentSpec, cudnn_eligible

SEED_PRESET = "tanh vs ReLU inside vs ReLU between"
HOTEL_PRESET = "hotel H2 replication"
SAMPLE, UPLOAD = "Bundled sample", "Upload a CSV"
ss = st.session_state


# -- state and callbacks (callbacks run before the widgets of the next rerun exist) -------------


def _store() -> Store:
    return Store(default_path())


def _runner() -> Runner:
    return get_runner(default_path())


def _flash(kind: str, text: str) -> None:
    ss.setdefault("flash", []).append((kind, text))


def _apply_settings(values: dict[str, Any]) -> None:
    for key, value in values.items():
        if value is not None:
            ss[key] = value


def _init() -> None:
    if "models" not in ss:
        ss.models = ps.preset_models(SEED_PRESET)
        _apply_settings(ps.suggested(115))
        ss.exp_name = SEED_PRESET
    ss.setdefault("experiment_id", None)


def _current(d: dict[str, Any]) -> dict[str, Any]:
    """A model dict with the values its widgets hold now."""
    uid = d["uid"]
    return {**d, "name": ss.get(f"name_{uid}", d["name"]), "between": ss.get(f"between_{uid}", d["between"]),
            "layers": ss.get("current_layers", {}).get(uid, d["layers"])}


def _preset(name: str) -> None:
    ss.models = ps.preset_models(name)
    ss.exp_name = name
    if name == HOTEL_PRESET:
        settings, source, target = ps.hotel_settings()
        _apply_settings(settings)
        ss.source_kind, ss.sample = SAMPLE, source.removeprefix(PREFIX)
        ss.pending_target, ss.pending_features, ss.keep_settings = target, [], True


def _add_model() -> None:
    names = [_current(d)["name"] for d in ss.models]
    ss.models = [*ss.models, ps.model_dict(ps.to_model({"name": ps.unique_name("model", names),
                                                        "layers": [{"units": 32}]}))]


def _duplicate(uid: int) -> None:
    current = [_current(d) for d in ss.models]
    source = next(d for d in current if d["uid"] == uid)
    copy = {**source, "uid": ps.new_uid(),
            "name": ps.unique_name(f"{source['name']} copy"[:80], [d["name"] for d in current]),
            "layers": [dict(r) for r in source["layers"]]}
    ss.models = [*ss.models, copy]


def _remove(uid: int) -> None:
    ss.models = [d for d in ss.models if d["uid"] != uid]


def _sweep() -> None:
    try:
        units = ps.parse_units(ss.sweep_units)
        models = ps.preset_models("sweep", activations=ss.sweep_acts, placements=ss.sweep_places, units=units)
    except (SpecError, ValueError) as exc:
        _flash("error", str(exc))
        return
    if not models:
        _flash("error", "The sweep is empty: choose at least one activation and one placement.")
        return
    ss.models = models
    ss.exp_name = f"sweep of {len(models)} models"


def _on_upload() -> None:
    f = ss.get("uploader")
    ss.upload = (f.name, f.getvalue()) if f is not None else None


def _import_json() -> None:
    f = ss.get("import_json")
    if f is None:
        return
    try:
        spec = ExperimentSpec.from_json(f.getvalue())
    except SpecError as exc:
        _flash("error", str(exc))
        return
    ss.models = [ps.model_dict(m) for m in spec.models]
    _apply_settings(ps.settings_from(spec.window, spec.split, spec.training))
    ss.exp_name = spec.name
    ss.pending_target, ss.pending_features = spec.data.target, list(spec.data.features)
    sample = spec.data.source.removeprefix(PREFIX)
    if spec.data.source.startswith(PREFIX) and sample in SAMPLES:
        ss.source_kind, ss.sample, ss.keep_settings = SAMPLE, sample, True
        _flash("success", f"Imported {spec.name!r} with {len(spec.models)} models and its sample data.")
    else:
        _flash("info", f"Imported {spec.name!r} with {len(spec.models)} models; its data file "
                       f"{spec.data.source!r} is not bundled, so its models and settings apply to the data "
                       "chosen in the sidebar.")


def _pick() -> None:
    ss.experiment_id = ss.history_pick


def _history_action(action: str, experiment_id: int) -> None:
    store = _store()
    try:
        if action == "rename":
            store.rename_experiment(experiment_id, ss.get("rename_to", "").strip())
            _flash("success", "Experiment renamed.")
        elif action == "delete":
            store.delete_experiment(experiment_id)
            ss.experiment_id = None
            _flash("success", f"Experiment {experiment_id} deleted.")
        elif action == "requeue":
            n = _runner().requeue_interrupted(experiment_id)
            _flash("success", f"{n} interrupted run(s) queued again.")
        else:
            row = store.experiment(experiment_id)
            name, content = store.dataset(row.dataset_sha)
            spec = dataclasses.replace(row.spec, name=f"{row.spec.name} (re-run)"[:120])
            ss.experiment_id = _runner().submit(spec, name, content)
            _flash("success", f"Re-running as experiment {ss.experiment_id}.")
    except LabError as exc:
        _flash("error", str(exc))


# -- sections ------------------------------------------------------------------------------------


@st.cache_data(max_entries=8, show_spinner=False)
def _read(name: str, content: bytes) -> Table:
    return ps.read_upload(name, content)


def data_source() -> tuple[str, str, bytes] | None:
    """Sidebar: a bundled sample or an uploaded CSV → (spec source, file name, bytes)."""
    st.header("Data")
    kind = st.radio("Source", [SAMPLE, UPLOAD], key="source_kind", horizontal=True, label_visibility="collapsed")
    if kind == SAMPLE:
        name = st.selectbox("Sample", list(SAMPLES), key="sample")
        st.caption(ps.esc(SAMPLES[name]))
        return PREFIX + name, name, sample_path(name).read_bytes()
    st.file_uploader("CSV file", type=["csv", "txt"], key="uploader", on_change=_on_upload)
    st.caption(f"Limit: {st.get_option('server.maxUploadSize')} MB per file (set in .streamlit/config.toml).")
    upload = ss.get("upload")
    if not upload:
        st.info("Upload a CSV: one header row, a time column and one or more numeric columns.")
        return None
    return upload[0], upload[0], upload[1]


def data_tab(src: tuple[str, str, bytes] | None) -> tuple[Table, pd.DataFrame, DataSpec, bytes] | None:
    """Preview, detected time axis, target and feature pickers → the series and its DataSpec."""
    if src is None:
        st.info("Choose a bundled sample or upload a CSV in the sidebar.")
        return None
    source, name, content = src
    try:
        table = _read(name, content)
    except DataError as exc:
        st.error(str(exc))
        return None
    key = f"{source}:{hashlib.sha256(content).hexdigest()}"
    pending_t, pending_f = ss.pop("pending_target", None), ss.pop("pending_features", None)
    keep = ss.pop("keep_settings", False)
    if ss.get("data_key") != key:
        ss.data_key = key
        ss.target, ss.features = table.target_candidate, []
        if not keep:
            _apply_settings(ps.suggested(table.rows))
    if pending_t in table.numeric_columns:
        ss.target = pending_t
    if ss.get("target") not in table.numeric_columns:
        ss.target = table.target_candidate
    if pending_f is not None:
        ss.features = pending_f
    ss.features = [f for f in ss.get("features", []) if f in table.numeric_columns and f != ss.target]
    left, right = st.columns([2, 3], gap="large")
    with left:
        st.markdown(f"**{ps.esc(name)}** — {table.rows:,} rows")
        time_text = ps.esc(table.time_column) if table.time_column else "none (row order)"
        st.markdown(f"Time column: **{time_text}**  \nFrequency: **{ps.esc(table.frequency_label)}**"
                    + (f"  \nFrom {table.start} to {table.end}" if table.start else ""))
        st.selectbox("Target (the column to forecast)", table.numeric_columns, key="target")
        others = [c for c in table.numeric_columns if c != ss.target]
        st.multiselect("Extra input columns (optional)", others, key="features",
                       help="Fed to the network beside the target's own lags; the future forecast needs none.")
        if table.notes:
            with st.expander(f"Notes on reading the file ({len(table.notes)})"):
                for note in table.notes:
                    st.caption(ps.esc(note))
    try:
        frame = series(table, ss.target, ss.features)
    except DataError as exc:
        st.error(str(exc))
        return None
    with right:
        st.plotly_chart(charts.series_preview(frame, ss.target), key="series_chart")
    config = {}
    if table.time_column and (table.frame[table.time_column].dt.normalize() == table.frame[table.time_column]).all():
        config[table.time_column] = st.column_config.DatetimeColumn(format="YYYY-MM-DD")
    st.dataframe(table.frame, height=220, hide_index=True, key="preview", column_config=config)
    data_spec = DataSpec(source, ss.target, table.time_column, tuple(ss.features))
    return table, frame, data_spec, content


def settings_panel() -> tuple[Any, Any, Any] | None:
    """Window, split and training settings (defaults from the series length)."""
    cols = st.columns(4, gap="medium")
    with cols[0]:
        st.markdown("**Window**")
        st.number_input("Lookback (lags)", 1, 1000, step=1, key="lookback")
        st.selectbox("Framing", list(FRAMINGS), key="framing",
                     help="; ".join(f"{k}: {v}" for k, v in FRAMINGS.items()))
        st.selectbox("Scaling", list(SCALINGS), key="scaling")
    with cols[1]:
        st.markdown("**Split**")
        st.number_input("Test points (last)", 1, 100_000, step=1, key="test_size")
        st.number_input("Validation share", 0.0, 0.9, step=0.05, key="validation_share")
        st.number_input("Future steps", 0, 1000, step=1, key="future_steps")
    with cols[2]:
        st.markdown("**Training**")
        st.number_input("Epochs", 1, 10_000, step=1, key="epochs")
        st.number_input("Seeds per model", 1, 20, step=1, key="n_seeds")
        st.number_input("Batch size", 1, 65_536, step=1, key="batch_size")
    with cols[3]:
        st.markdown("**Optimizer**")
        st.selectbox("Optimizer", OPTIMIZERS, key="optimizer")
        st.number_input("Learning rate", 1e-6, 10.0, step=1e-4, format="%.4f", key="learning_rate")
        st.selectbox("Loss", LOSSES, key="loss")
        st.number_input("Patience (0 = off)", 0, 10_000, step=1, key="patience")
    try:
        return ps.build_specs(ss)
    except SpecError as exc:
        st.error(str(exc))
        return None


LAYER_CONFIG = {
    "units": st.column_config.NumberColumn("units", min_value=1, max_value=4096, step=1, required=True, default=32,
                                           width="small"),
    "activation": st.column_config.SelectboxColumn("activation", options=list(ACTIVATIONS), required=True,
                                                   default="tanh", help="the cell/output activation"),
    "recurrent_activation": st.column_config.SelectboxColumn("gates", options=list(ACTIVATIONS), required=True,
                                                             default="sigmoid", help="the gates' activation"),
    "dropout": st.column_config.NumberColumn("dropout", min_value=0.0, max_value=0.9, step=0.05, default=0.0,
                                             width="small"),
}


def model_card(d: dict[str, Any], n_features: int, window: Any) -> Any:
    """One model: name, layers editor, between activation, buttons and its parameter table."""
    uid = d["uid"]
    ss.setdefault(f"name_{uid}", d["name"])
    ss.setdefault(f"between_{uid}", d["between"])
    st.text_input("Name", key=f"name_{uid}", max_chars=80)
    base = pd.DataFrame(d["layers"], columns=list(ps.LAYER_COLUMNS)).fillna({"dropout": 0.0})
    edited = st.data_editor(base, key=f"layers_{uid}", num_rows="dynamic", column_config=LAYER_CONFIG,
                            hide_index=True)
    rows = edited.to_dict("records")
    ss.setdefault("current_layers", {})[uid] = rows
    st.selectbox("Activation layer between LSTM layers", [ps.NONE, *ACTIVATIONS], key=f"between_{uid}")
    b1, b2 = st.columns(2)
    b1.button("Duplicate", key=f"dup_{uid}", on_click=_duplicate, args=(uid,), width="stretch")
    b2.button("Remove", key=f"rm_{uid}", on_click=_remove, args=(uid,), width="stretch",
              disabled=len(ss.models) <= 1)
    try:
        model = ps.to_model(_current(d), rows)
    except SpecError as exc:
        st.error(str(exc))
        return None
    if window is not None:
        table = ps.param_table(model, n_features, window.lookback, window.framing)
        table["Params"] = table["Params"].map("{:,}".format)
        st.dataframe(table, hide_index=True, key=f"params_{uid}")
    eligible, why = cudnn_eligible(model)
    st.caption(("cuDNN on a GPU: yes" if eligible else f"cuDNN on a GPU: no — {why}") + ".")
    return model


def models_tab(n_features: int) -> tuple[list[Any], Any] | None:
    """Presets, sweep builder, settings and the model cards with their parameter counts."""
    cols = st.columns([3, 2, 1.5])
    for col, (name, text) in zip(cols, PRESETS.items(), strict=False):
        col.button(f"Preset: {name}", key=f"preset_{name}", on_click=_preset, args=(name,), help=text,
                   width="stretch")
    cols[-1].button("Add a model", key="add_model", on_click=_add_model, width="stretch")
    with st.expander("Sweep builder: activation × placement × units"):
        c1, c2, c3 = st.columns([3, 2, 2])
        c1.multiselect("Activations", list(ACTIVATIONS), default=["tanh", "relu"], key="sweep_acts")
        c2.multiselect("Placements", list(PLACEMENTS), default=list(PLACEMENTS), key="sweep_places",
                       format_func=lambda p: PLACEMENTS[p])
        c3.text_input("Units options", value="64,32", key="sweep_units",
                      help="Stacked units per option, options separated by ';', e.g. 64,32; 32")
        st.button("Replace the models with this sweep", key="sweep", on_click=_sweep)
    with st.container(border=True):
        specs = settings_panel()
    window = specs[0] if specs else None
    models: list[Any] = []
    per_row = 2  # three cards per row at 1280 px leave the layers editor and formulas cut off
    for start in range(0, len(ss.models), per_row):
        cols = st.columns(per_row, gap="medium")
        for col, d in zip(cols, ss.models[start:start + per_row], strict=False):
            with col, st.container(border=True):
                models.append(model_card(d, n_features, window))
    good = [m for m in models if m is not None]
    if good and window is not None:
        counts = {m.name: count_layers(m, n_features, window.lookback, window.framing) for m in good}
        st.plotly_chart(charts.param_comparison(counts), key="param_chart")
        st.caption("Swapping an activation leaves the count unchanged; an activation layer between LSTM "
                   "layers adds no weights.")
    if specs is None or len(good) < len(models):
        return None
    return good, specs


def train_tab(data: tuple[Table, pd.DataFrame, DataSpec, bytes] | None, built: tuple[list[Any], Any] | None,
              store: Store) -> None:
    """Experiment name, the Train button and the live progress panel."""
    st.text_input("Experiment name", key="exp_name", max_chars=120)
    spec: ExperimentSpec | None = None
    if data is None:
        st.info("Choose data first (sidebar and tab 1).")
    elif built is None:
        st.warning("Fix the models or settings on tab 2 first.")
    else:
        models, (window, split, training) = built
        try:
            spec = ps.experiment(ss.exp_name, data[2], models, window, split, training)
            st.caption(f"{len(models)} models × {len(training.seeds)} seeds = {len(spec.runs())} runs of "
                       f"{training.epochs} epochs. " + ps.split_line(len(data[1]), window, split, training))
        except LabError as exc:
            st.error(str(exc))
            spec = None
    if st.button("Train", type="primary", key="train", disabled=spec is None) and spec is not None and data:
        try:
            ss.experiment_id = _runner().submit(spec, data[0].name, data[3])
            st.success(f"Experiment {ss.experiment_id} submitted: {len(spec.runs())} runs queued.")
        except LabError as exc:
            st.error(str(exc))
    progress_panel(store)


def progress_panel(store: Store) -> None:
    """Every run of the chosen experiment, polled from the store while any is unfinished."""
    eid = ss.experiment_id
    if eid is None:
        return
    active = any(r.status in ("queued", "running") for r in store.runs(eid))

    @st.fragment(run_every=1.0 if active else None)
    def panel() -> None:
        runs = store.runs(eid)
        still = any(r.status in ("queued", "running") for r in runs)
        st.subheader(f"Progress of experiment {eid}")
        if still:
            st.button("Cancel all unfinished runs", key="cancel_all", on_click=lambda: _runner().cancel_experiment(eid))
        for run in runs:
            c1, c2, c3 = st.columns([2, 6, 1], vertical_alignment="center")
            c1.text(f"{run.model_name} · seed {run.seed}")
            fraction, line = ps.run_line(run)
            c2.progress(fraction, text=line)
            if run.status in ("queued", "running") and not run.cancel_requested:
                c3.button("Cancel", key=f"cancel_{run.id}", on_click=lambda i=run.id: _runner().cancel(i))
        if active and not still:
            st.rerun()

    panel()


def compare_tab(store: Store) -> None:
    """Verdicts, forecasts, parameter counts, metrics, loss curves, inside the network, exports."""
    eid = ss.experiment_id
    if eid is None:
        st.info("No experiment yet: train one on tab 3, or import one in the sidebar.")
        return
    try:
        res = results.load(store, eid, reference=int(ss.get(f"reference_{eid}", 0)))
    except LabError as exc:
        st.error(str(exc))
        return
    spec = res.spec
    names = [m.name for m in spec.models]
    counts = ", ".join(f"{n} {s}" for s, n in sorted(res.experiment.counts.items()))
    st.markdown(f"**{ps.esc(spec.name)}** — experiment {eid}, {len(names)} models × "
                f"{len(spec.training.seeds)} seeds on {ps.esc(spec.data.source.removeprefix(PREFIX))} ({counts})")
    if res.frame_error:
        st.error(res.frame_error)
    if not res.has_forecasts:
        st.info("No run of this experiment has finished with a forecast yet; the charts appear when one does.")
    st.selectbox("Reference model", range(len(names)), key=f"reference_{eid}", format_func=lambda i: names[i],
                 width=360, help="Every other model is compared with this one, paired by seed.")
    comparison = res.comparison
    st.markdown("**Verdicts**")
    for m in comparison.models:
        st.markdown("- " + ps.esc(m.verdict))
        for warning in m.warnings:
            st.caption(ps.esc(f"{m.name}: {warning}."))
    n_features = 1 + len(spec.data.features)
    left, right = st.columns([3, 2], gap="medium")
    if res.actual is not None:
        with left:
            st.plotly_chart(charts.forecast_overlay(spec, res.actual, res.outcomes), key="forecast_chart")
    with right:
        pc = {m.name: count_layers(m, n_features, spec.window.lookback, spec.window.framing) for m in spec.models}
        st.plotly_chart(charts.param_comparison(pc), key="compare_param_chart")
    st.markdown("**Metrics over seeds** (mean ± std; best per column highlighted)")
    if st.toggle("Show per-seed values", key="per_seed"):
        st.dataframe(comparison.per_seed_table(), hide_index=True, key="per_seed_table")
    else:
        st.dataframe(results.styled_table(comparison), key="metrics_table")
    if len(names) >= 3:
        st.plotly_chart(charts.metric_overview(comparison), key="overview_chart")
    st.plotly_chart(charts.loss_curves(spec, res.outcomes), key="loss_chart")
    if spec.data.source == HOTEL_H2 and set(PUBLISHED) <= set(names):
        st.plotly_chart(charts.replication_figure(comparison, PUBLISHED), key="replication_chart")
    st.subheader("Inside the network")
    h, g = st.columns(2, gap="medium")
    with h:
        st.plotly_chart(charts.layer_histograms(spec, res.outcomes), key="hist_chart")
    with g:
        st.plotly_chart(charts.gradient_norms(spec, res.outcomes), key="grad_chart")
    st.dataframe(results.inside_table(spec, res.outcomes), hide_index=True, key="inside_table")
    st.caption("Timings here are CPU seconds per epoch; the fast cuDNN kernel applies only on a GPU and only "
               "to tanh/sigmoid LSTMs without recurrent dropout.")
    with st.expander("How the comparison is computed"):
        for note in comparison.notes:
            st.caption(ps.esc(note))
    exports(store, res)


def exports(store: Store, res: results.Results) -> None:
    """Download buttons: metrics CSV, experiment JSON, Keras code, a trained .keras model."""
    st.subheader("Exports")
    slug = "".join(c if c.isalnum() else "-" for c in res.spec.name)[:40].strip("-") or "experiment"
    c1, c2, c3, c4 = st.columns(4)
    c1.download_button("Metrics CSV", res.comparison.numeric_table().to_csv(), f"{slug}-metrics.csv",
                       "text/csv", key="dl_metrics", width="stretch")
    c2.download_button("Per-seed CSV", res.comparison.per_seed_table().to_csv(index=False),
                       f"{slug}-per-seed.csv", "text/csv", key="dl_seeds", width="stretch")
    c3.download_button("Experiment JSON", res.spec.to_json(), f"{slug}.json", "application/json",
                       key="dl_json", width="stretch")
    c4.download_button("Keras code", results.keras_script(res.spec), f"{slug}_models.py", "text/x-python",
                       key="dl_code", width="stretch")
    saved = [r for r in res.runs if r.model_path and Path(r.model_path).is_file()]
    if saved:
        pick = st.selectbox("Trained model (.keras)", saved, key="dl_run",
                            format_func=lambda r: f"{r.model_name} · seed {r.seed} (run {r.id})")
        st.download_button("Download the .keras file", Path(pick.model_path).read_bytes(),
                           f"{slug}-run-{pick.id}.keras", "application/octet-stream", key="dl_keras")


def history(store: Store) -> None:
    """Sidebar: the experiments in the store — open, rename, delete, re-run — and JSON import."""
    st.header("Experiments")
    rows = store.experiments()
    if rows:
        ids = [r.id for r in rows]
        labels = {r.id: f"#{r.id} {r.name} — {r.counts.get('done', 0)}/{r.total} done" for r in rows}
        ss.history_pick = ss.experiment_id if ss.experiment_id in ids else ids[0]
        st.selectbox("Open", ids, key="history_pick", format_func=labels.__getitem__, on_change=_pick)
        eid = ss.history_pick
        with st.expander("Rename, re-run, delete"):
            st.text_input("New name", key="rename_to")
            c1, c2 = st.columns(2)
            c1.button("Rename", key="rename", on_click=_history_action, args=("rename", eid), width="stretch")
            c2.button("Re-run", key="rerun", on_click=_history_action, args=("rerun", eid), width="stretch")
            c1.button("Requeue interrupted", key="requeue", on_click=_history_action, args=("requeue", eid),
                      width="stretch")
            c2.button("Delete", key="delete", on_click=_history_action, args=("delete", eid), width="stretch")
    else:
        st.caption("No experiments yet.")
    st.file_uploader("Import an experiment JSON", type=["json"], key="import_json", on_change=_import_json)


def main() -> None:
    st.set_page_config(page_title="LSTM Activation Lab", layout="wide")
    _init()
    store = _store()
    _runner()  # starts the background runner (and marks runs a dead server left behind interrupted)
    ids = [row.id for row in store.experiments()]
    if ss.experiment_id not in ids:  # none yet, or deleted in another tab
        ss.experiment_id = ids[0] if ids else None
    st.title("LSTM Activation Lab")
    st.caption("Does ReLU (or another activation) inside or between stacked LSTM layers beat the default tanh "
               "— on your data, over several seeds?")
    with st.container():  # always there, so the tabs below keep their place (and selection)
        for kind, text in ss.pop("flash", []):
            getattr(st, kind)(text)
    with st.sidebar:
        src = data_source()
    t1, t2, t3, t4 = st.tabs(["1 Data", "2 Models", "3 Train", "4 Compare"])
    with t1:
        data = data_tab(src)
    n_features = 1 + len(data[2].features) if data else 1
    with t2:
        built = models_tab(n_features)
    with t3:
        train_tab(data, built, store)
    with t4:
        compare_tab(store)
    with st.sidebar:
        history(store)


main()
