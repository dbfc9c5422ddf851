"""4 · Compare: verdicts, forecasts, parameter counts, metrics, loss curves, inside the network,
exports — for the experiment open in the sidebar (`?experiment=<id>`). Widgets → `compare_view`
(the loaded results; their `view`, a `report.CompareView`, builds the figures and tables) → charts."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app_pages import common, tracking
from app_pages.compare_exports import exports
from lstm_app import report, runs
from lstm_app.errors import LabError
from lstm_app.outcome import ACTIVE
from lstm_app.ui import fill
from lstm_app.ui.labels import data_label, engine_lines, plural, time_label

state, store = common.state(), common.store()


@st.cache_resource(max_entries=8, show_spinner=False)
def compare_view(path: str, eid: int, reference: int, stamp: tuple[object, ...]) -> runs.Results:
    """Shared by every rerun and session until `Store.results_stamp` changes (a run finishes, the
    experiment is renamed or a model file is built); its `view` builds each figure once."""
    return runs.load_results(common.store(), eid, reference=reference)


def refresh_when_done(eid: int, shown: int) -> None:
    """While runs train, redraw the page whenever another run ends (`shown` had ended when it was drawn)."""

    @st.fragment(run_every=2.0)
    def poll() -> None:
        rows = store.runs(eid)
        left = sum(1 for r in rows if r.status in ACTIVE)
        if len(rows) - left != shown:
            st.rerun(scope="app")
        st.caption(f"{plural(left, 'run')} still training; this page updates as each one finishes.")

    poll()


def header(res: runs.Results, eid: int) -> None:
    """What is compared, the backtest's periods, and the state of the runs."""
    spec, origins = res.spec, res.spec.backtest.origins
    counts = ", ".join(f"{n} {s}" for s, n in sorted(res.experiment.counts.items()))
    across = f" × {plural(origins, 'backtest origin')}" if origins > 1 else ""
    st.markdown(fill(f"**{{}}** — experiment {eid}, {plural(len(spec.models), 'model')} × "
                     f"{plural(len(spec.training.seeds), 'seed')}{across} on {{}} ({counts})",
                     spec.name, data_label(spec.data.source)))
    bt = res.comparison.backtest
    if (ran := len(bt.origins)) and origins > 1:  # the origins with a finished run (fewer after a cancel)
        st.caption(fill("{}", f"Backtest: {ran}{'' if ran == origins else f' of {origins}'} test periods of "
            f"{bt.origins[-1].n_test} points, one after another, from {time_label(bt.origins[0].test_start)} to "
            f"{time_label(bt.origins[-1].test_end)}; every model and seed is trained again at each origin on the "
            f"rows before it, so a verdict rests on {len(spec.training.seeds)} seeds × {ran} periods."))
    if res.frame_error:
        st.error(fill("{}", res.frame_error))
    if not res.has_forecasts:
        st.info("No run of this experiment has finished with a forecast yet; the charts appear when one does.")
    if res.active:
        refresh_when_done(eid, sum(1 for r in res.runs if r.status not in ACTIVE))


def verdicts(res: runs.Results) -> None:
    """The headline, then one verdict per model with how it differs from the reference."""
    comparison, spec = res.comparison, res.spec
    if res.active:
        finished = sum(1 for r in res.runs if r.status not in ACTIVE)
        st.info(f"{finished} of {plural(len(res.runs), 'run')} done: the comparison below uses the finished "
                "runs and updates as more finish.")
    if comparison.headline:
        beats = [m.beats_naive for m in comparison.models if m.seeds_done]
        say = st.success if True in beats else st.warning if False in beats else st.info  # a loser is a warning
        say(fill("{}", comparison.headline))
    st.markdown("**Verdicts**")
    ref_spec = spec.models[comparison.reference_index]
    for m in comparison.models:
        st.markdown("- " + fill("{}", m.verdict))
        differs = report.charts.settings_diff(spec.models[m.index], ref_spec) if not m.is_reference else ""
        if differs:
            st.caption(fill("{}", f"{m.name} differs from {ref_spec.name} in: {differs}."))
        for warning in m.warnings:
            st.caption(fill("{}", f"{m.name}: {warning}."))


def metrics(view: report.CompareView, origins: int) -> None:
    """The metrics table (or the per-seed values) and the paired comparison with the reference."""
    over = "seeds" if origins == 1 else "seeds and backtest origins"
    st.markdown(f"**Metrics over {over}** (mean ± std; best per column highlighted)")
    if st.toggle("Show per-seed values" if origins == 1 else "Show per-run values", key="per_seed"):
        st.dataframe(view.per_seed, hide_index=True, key="per_seed_table")
        return
    helps = {label: st.column_config.Column(help=text) for label, text in view.column_help.items()}
    st.dataframe(view.table, key="metrics_table", column_order=view.metric_columns, column_config=helps)
    paired = "paired by seed" if origins == 1 else "paired by seed and origin"
    st.markdown(fill(f"**Against the reference, {{}}** ({paired})", view.comparison.reference))
    st.dataframe(view.versus_table, key="versus_table", column_config=helps)
    st.caption(" · ".join(f"**{label}**: {text}" for label, text in view.column_help.items()))


def charts(view: report.CompareView, origins: int) -> DeltaGenerator:
    """Forecasts and parameter counts side by side, the metrics, then the charts over models; the
    forecast chart's slot, which `forecast` fills once the references are fitted."""
    left, right = st.columns([3, 2], gap="medium")
    slot = left.empty()
    if view.references_ready or view.forecast_plain is None:
        forecast(view, slot)
    else:
        with slot.container():
            st.plotly_chart(view.forecast_plain, key="forecast_chart_plain")
            st.caption("Fitting the references (ETS, ARIMA, Theta) to draw their forecasts…")
    right.plotly_chart(view.params, key="compare_param_chart")
    if view.no_multistep:
        left.caption(fill("{}", view.no_multistep))
    metrics(view, origins)
    if view.origins is not None:
        st.markdown("**Per backtest origin** (each model's mean RMSE over its seeds there, and the best "
                    "baseline's and statistical reference's)")
        rmse = st.column_config.NumberColumn(format=f"%.{view.comparison.decimals}f")
        st.dataframe(view.origins, hide_index=True, key="origins_table",
                     column_config={c: rmse for c in view.origins.select_dtypes("number").columns if c != "Origin"})
    for key, fig in (("horizon_chart", view.horizon), ("overview_chart", view.overview), ("sweep_chart", view.sweep)):
        if fig is not None:
            st.plotly_chart(fig, key=key)
    every = st.toggle("Show every seed's loss curve", key="loss_seeds",
                      help="Draw each seed's training and validation loss as a thin line instead of the "
                           "min–max band.")
    st.plotly_chart(view.loss(seeds=every), key="loss_chart")
    if view.replication_figure is not None:
        st.plotly_chart(view.replication_figure, key="replication_chart")
    return slot


def forecast(view: report.CompareView, slot: DeltaGenerator) -> None:
    """The forecast chart with the references' forecasts (fitted on first use, then cached)."""
    if view.forecast is not None:
        slot.plotly_chart(view.forecast, key="forecast_chart")


def inside(res: runs.Results) -> None:
    """Layer histograms, gradient norms and the per-layer table, then how the comparison works."""
    view = res.view
    st.subheader("Inside the network")
    h, g = st.columns(2, gap="medium")
    h.plotly_chart(view.histograms, key="hist_chart")
    g.plotly_chart(view.gradients, key="grad_chart")
    dead = st.column_config.NumberColumn(format="%.0f%%", help="share of the layer's units whose |output| never "
                                         "exceeded 1e-6 on the test windows (mean over the finished seeds)")
    st.dataframe(view.inside, hide_index=True, key="inside_table", column_config={"Dead units": dead})
    st.caption("Timings here are CPU seconds per epoch; the fast cuDNN kernel applies only on a GPU and only "
               "to tanh/sigmoid LSTMs without recurrent dropout.")
    for line in engine_lines(res.runs):
        st.caption(fill("{}", line))
    with st.expander("How the comparison is computed"):
        for note in res.comparison.notes:
            st.caption(fill("{}", note))


def page() -> None:
    common.title("4 · Compare", "Forecasts over seeds, metrics against a naive forecast, loss curves and what "
                                "happens inside the network — for the experiment open in the sidebar.")
    eid = state.experiment_id
    if eid is None:
        st.info("No experiment yet: train one on the Train page, or import one in the sidebar.")
        return
    reference = f"reference_{eid}"
    try:
        res = compare_view(str(store.path), eid, int(state.value(reference) or 0), store.results_stamp(eid))
    except LabError as exc:
        common.tell("error", "{}", exc)
        return
    names, origins = [m.name for m in res.spec.models], res.spec.backtest.origins
    header(res, eid)
    st.selectbox("Reference model", range(len(names)), key=reference, format_func=names.__getitem__,
                 width=360, help="Every other model is compared with this one, paired by seed"
                 + (" and backtest origin." if origins > 1 else "."))
    verdicts(res)
    slot = charts(res.view, origins)
    inside(res)
    exports(res)
    tracking.send_to_mlflow(eid)
    if not res.view.references_ready:  # last: fitting the references takes seconds the first time
        forecast(res.view, slot)


page()
