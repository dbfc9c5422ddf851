"""4 · Compare: verdicts, forecasts, parameter counts, metrics, loss curves, inside the network,
exports — for the experiment open in the sidebar (and in the URL, `?experiment=<id>`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from app_pages import common
from lstm_app.errors import LabError
from lstm_app.outcome import ACTIVE, RunStatus
from lstm_app.params import count_layers
from lstm_app.presets import HOTEL_H2, PUBLISHED
from lstm_app.report import charts, results
from lstm_app.runs import export
from lstm_app.text import safe_frame
from lstm_app.ui import fill
from lstm_app.ui.labels import data_label, engine_lines, file_stem, plural, time_label

state, store = common.state(), common.store()


def exports(res: results.Results) -> None:
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
    c4.download_button("Keras code", results.keras_script(res.spec), f"{slug}_models.py", "text/x-python",
                       key="dl_code", width="stretch")
    trained = [r for r in res.runs if r.status == RunStatus.DONE]
    if trained:
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
                    export.keras_file(store, pick.id)
                st.rerun()
            except LabError as exc:
                common.tell("error", "{}", exc)


# Short explanations shown with the metrics table (column tooltips and a caption under it).
METRIC_HELP = {
    "MFE": "mean forecast error ŷ − y; positive means over-forecasting",
    "MDA": "share of steps where the forecast moves the same way as the series",
    "Skill": "1 − RMSE / naive RMSE; above 0 beats the last-value forecast",
    "Vol. ratio": "spread of the forecast / spread of the series; 1 = as volatile, below 1 = flatter",
    "DM p": "Diebold–Mariano test on the seed-averaged forecasts vs the reference: supporting detail, "
            "it ignores seed-to-seed variation",
}


class View:
    """One experiment's Compare view: its results, and each figure and table built once (on first
    use) and shared by every rerun and session until a run finishes, the experiment is renamed or
    a model file is built (see `_view`)."""

    def __init__(self, res: results.Results) -> None:
        self.res = res
        self._made: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, name: str, build: Callable[[], Any]) -> Any:
        with self._lock:
            if name not in self._made:
                self._made[name] = build()
            return self._made[name]


@st.cache_resource(max_entries=8, show_spinner=False)
def _view(path: str, eid: int, reference: int, stamp: tuple[Any, ...]) -> View:
    """The cached view of experiment `eid` of the store at `path` for this `stamp` of its runs
    (`Store.results_stamp`)."""
    return View(results.load(common.store(), eid, reference=reference))


def refresh_when_done(eid: int, shown: int) -> None:
    """While runs train, poll the store and redraw the page whenever another run ends (`shown`
    runs had ended when it was drawn), so partial results grow live."""

    @st.fragment(run_every=2.0)
    def poll() -> None:
        runs = store.runs(eid)
        left = sum(1 for r in runs if r.status in ACTIVE)
        if len(runs) - left != shown:
            st.rerun(scope="app")
        st.caption(f"{plural(left, 'run')} still training; this page updates as each one finishes.")

    poll()


def page() -> None:
    common.title("4 · Compare", "Forecasts over seeds, metrics against a naive forecast, loss curves and what "
                                "happens inside the network — for the experiment open in the sidebar.")
    eid = state.experiment_id
    if eid is None:
        st.info("No experiment yet: train one on the Train page, or import one in the sidebar.")
        return
    reference = f"reference_{eid}"
    try:
        view = _view(str(store.path), eid, int(state.value(reference) or 0), store.results_stamp(eid))
    except LabError as exc:
        common.tell("error", "{}", exc)
        return
    res = view.res
    spec = res.spec
    names = [m.name for m in spec.models]
    counts = ", ".join(f"{n} {s}" for s, n in sorted(res.experiment.counts.items()))
    origins = spec.backtest.origins
    across = f" × {plural(origins, 'backtest origin')}" if origins > 1 else ""
    st.markdown(fill(f"**{{}}** — experiment {eid}, {plural(len(names), 'model')} × "
                     f"{plural(len(spec.training.seeds), 'seed')}{across} on {{}} ({counts})",
                     spec.name, data_label(spec.data.source)))
    if res.comparison.backtest.origins and origins > 1:
        bt = res.comparison.backtest
        st.caption(fill("{}",
            f"Backtest: {origins} test periods of {bt.origins[-1].n_test} points, one after another, from "
            f"{time_label(bt.origins[0].test_start)} to {time_label(bt.origins[-1].test_end)}; every model "
            "and seed is trained again at each origin on the rows before it, so a verdict rests on "
            f"{len(spec.training.seeds)} seeds × {origins} periods."))
    if res.frame_error:
        st.error(fill("{}", res.frame_error))
    if not res.has_forecasts:
        st.info("No run of this experiment has finished with a forecast yet; the charts appear when one does.")
    if res.active:
        refresh_when_done(eid, sum(1 for r in res.runs if r.status not in ACTIVE))
    st.selectbox("Reference model", range(len(names)), key=reference, format_func=names.__getitem__,
                 width=360, help="Every other model is compared with this one, paired by seed"
                 + (" and backtest origin." if origins > 1 else "."))
    comparison = res.comparison
    if res.active:
        finished = sum(1 for r in res.runs if r.status not in ACTIVE)
        st.info(f"{finished} of {plural(len(res.runs), 'run')} done: the comparison below uses the finished "
                "runs and updates as more finish.")
    if comparison.headline:
        beats = [m.beats_naive for m in comparison.models if m.seeds_done]
        say = st.success if True in beats else st.warning if beats and all(b is False for b in beats) else st.info
        say(fill("{}", comparison.headline))
    st.markdown("**Verdicts**")
    ref_spec = spec.models[comparison.reference_index]
    for m in comparison.models:
        st.markdown("- " + fill("{}", m.verdict))
        differs = charts.settings_diff(spec.models[m.index], ref_spec) if not m.is_reference else ""
        if differs:
            st.caption(fill("{}", f"{m.name} differs from {ref_spec.name} in: {differs}."))
        for warning in m.warnings:
            st.caption(fill("{}", f"{m.name}: {warning}."))
    n_features = 1 + len(spec.data.features)
    left, right = st.columns([3, 2], gap="medium")
    if res.actual is not None:
        with left:
            st.plotly_chart(view.get("forecast", lambda: charts.forecast_overlay(spec, res.actual, res.outcomes)),
                            key="forecast_chart")
    with right:
        pc = {m.name: count_layers(m, n_features, spec.window.lookback, spec.window.framing) for m in spec.models}
        st.plotly_chart(view.get("params", lambda: charts.param_comparison(pc)), key="compare_param_chart")
    over = "seeds" if origins == 1 else "seeds and backtest origins"
    st.markdown(f"**Metrics over {over}** (mean ± std; best per column highlighted)")
    if st.toggle("Show per-seed values" if origins == 1 else "Show per-run values", key="per_seed"):
        st.dataframe(view.get("per_seed", comparison.per_seed_table), hide_index=True, key="per_seed_table")
    else:
        table = view.get("table", lambda: results.styled_table(comparison))
        # s/epoch and Params have their own charts and tables below: left out here so the table fits 1280 px.
        # Metrics in one table, the paired comparison with the reference in a second one, so both
        # fit a 1280 px window; s/epoch and Params have their own table and chart further down.
        versus = [c for c in table.data.columns if c.startswith("ΔRMSE") or c in ("Lower RMSE on", "DM p")]
        shown = [c for c in table.data.columns if c not in ("s/epoch", "Params", *versus)]
        helps = {c: st.column_config.Column(help=h) for c, h in METRIC_HELP.items()}
        st.dataframe(table, key="metrics_table", column_order=shown, column_config=helps)
        paired = "paired by seed" if origins == 1 else "paired by seed and origin"
        st.markdown(fill(f"**Against the reference, {{}}** ({paired})", comparison.reference))
        st.dataframe(table.data.loc[[m.name for m in comparison.models], versus], key="versus_table",
                     column_config=helps)
        st.caption(" · ".join(f"**{c}**: {h}" for c, h in METRIC_HELP.items()))
    if comparison.backtest.horizons > 1:
        st.plotly_chart(view.get("horizon", lambda: charts.rmse_by_horizon(spec, comparison)), key="horizon_chart")
    replication = spec.data.source == HOTEL_H2 and set(PUBLISHED) <= set(names)
    if len(names) >= 3 and not replication:  # the replication chart's RMSE panel shows the same, and more
        st.plotly_chart(view.get("overview", lambda: charts.metric_overview(comparison)), key="overview_chart")
    if len(names) >= 3:
        st.plotly_chart(view.get("sweep", lambda: charts.sweep_parallel(spec, comparison)), key="sweep_chart")
    # One thin line per seed is 2 traces per run (132 for 60 runs): drawn only when asked for.
    every = st.toggle("Show every seed's loss curve", key="loss_seeds",
                      help="Draw each seed's training and validation loss as a thin line instead of the "
                           "min–max band.")
    st.plotly_chart(view.get("loss_seeds" if every else "loss",
                             lambda: charts.loss_curves(spec, res.latest, seeds=every)), key="loss_chart")
    if replication:
        st.plotly_chart(view.get("replication", lambda: charts.replication_figure(comparison, PUBLISHED)),
                        key="replication_chart")
    st.subheader("Inside the network")
    h, g = st.columns(2, gap="medium")
    with h:
        st.plotly_chart(view.get("hist", lambda: charts.layer_histograms(spec, res.latest)), key="hist_chart")
    with g:
        st.plotly_chart(view.get("grad", lambda: charts.gradient_norms(spec, res.latest)), key="grad_chart")
    # Dead units as a percentage, as in the histogram titles ("dead 25%").
    inside = view.get("inside", lambda: results.inside_table(spec, res.latest).assign(
        **{"Dead units": lambda t: t["Dead units"] * 100}))
    dead = st.column_config.NumberColumn(format="%.0f%%", help="share of the layer's units whose |output| never "
                                         "exceeded 1e-6 on the test windows (mean over the finished seeds)")
    st.dataframe(inside, hide_index=True, key="inside_table", column_config={"Dead units": dead})
    st.caption("Timings here are CPU seconds per epoch; the fast cuDNN kernel applies only on a GPU and only "
               "to tanh/sigmoid LSTMs without recurrent dropout.")
    for line in engine_lines(res.runs):
        st.caption(fill("{}", line))
    with st.expander("How the comparison is computed"):
        for note in comparison.notes:
            st.caption(fill("{}", note))
    exports(res)


page()
