"""3 · Train: the experiment's name, what it will train, the Train button and live progress."""

from __future__ import annotations

import time
from datetime import datetime

import streamlit as st

from app_pages import common
from lstm_app import feasible
from lstm_app.errors import LabError
from lstm_app.outcome import ACTIVE
from lstm_app.params import check_budget
from lstm_app.runs import RunRow, schedule
from lstm_app.runs.runner import Runner
from lstm_app.spec import ExperimentSpec
from lstm_app.ui import Chosen, fill, say
from lstm_app.ui.forms import backtest_of, build_specs
from lstm_app.ui.forms import experiment as experiment_spec
from lstm_app.ui.labels import data_label, plural, run_line, split_line
from lstm_app.ui.progress import legend_html, models, overall_line

state, store = common.state(), common.store()
# Seconds between looks at the store while runs train: quick just after a submit, then slower,
# leaving the CPU to training (`bench/bench_live.py` measures what a live page costs).
_POLL_FIRST, _POLL, _QUICK_FOR = 1.0, 3.0, 20.0


def experiment(chosen: Chosen | None) -> ExperimentSpec | None:
    """The experiment the page would train; None while the data or the models are not usable
    (LabError when the whole does not fit, e.g. a series too short for the split)."""
    d = state.draft
    if chosen is None or chosen.spec is None or chosen.frame is None:
        return None
    try:
        models = [m.spec() for m in d.models]
        window, split, training = build_specs(d.settings)
        backtest = backtest_of(d.settings)
    except LabError:
        return None
    spec = experiment_spec(d.experiment_name(datetime.now()), chosen.spec, models, window, split, training, backtest)
    check_budget(spec, chosen.frame.shape[1])  # a LabError naming the model, its count and the limit
    split_line(len(chosen.frame), window, split, training, backtest.origins)
    feasible.check_targets(spec, chosen.frame)  # split_line above checked the split and origins
    return spec


def summary(chosen: Chosen | None) -> ExperimentSpec | None:
    """What Train would start, in one line, or what to fix first."""
    if chosen is None or chosen.frame is None:
        st.info("Choose usable data on the Data page first.")
        return None
    try:
        spec = experiment(chosen)
    except LabError as exc:
        common.tell("error", "{}", exc)
        return None
    if spec is None:
        st.warning("Fix the models or settings on the Models page first.")
        return None
    training, origins = spec.training, spec.backtest.origins
    across = f" × {plural(origins, 'backtest origin')}" if origins > 1 else ""
    st.caption(f"{plural(len(spec.models), 'model')} × {plural(len(training.seeds), 'seed')}{across} = "
               f"{plural(len(spec.backtest_runs()), 'run')} of {plural(training.epochs, 'epoch')} on "
               + fill("**{}**. ", chosen.name)
               + split_line(len(chosen.frame), spec.window, spec.split, training, origins))
    cost = schedule.cost_model(common.store().path.parent)
    runner = None if common.runner_problem() else common.runner()
    cold = runner is not None and runner.executor.kind == "local" and not runner.warm
    seconds, plan = schedule.estimate(spec, len(chosen.frame), cost=cost, cold=cold)
    rates = (", with this machine's measured rates" if cost != schedule.CostModel()
             else ", with reference rates (`python -m lstm_app calibrate` measures this machine's)")
    say = st.warning if seconds > 600 else st.caption
    say(f"Estimated time: {plan}{rates}." + (" Fewer epochs, seeds or models, or a shorter series, would make "
                                              "it quicker." if seconds > 600 else ""))
    if common.runner_problem() is None:
        st.caption(fill("Executor: {} (set with LSTM_LAB_EXECUTOR).", common.runner().where()))
    return spec


def _train() -> None:
    """The Train button: submit what the page shows (its callback runs before the next redraw)."""
    chosen = common.data(state, store)
    try:
        spec = experiment(chosen)
        if spec is None or chosen is None:
            return
        eid = common.runner().submit(spec, chosen.name, common.content(state, store))
    except LabError as exc:
        state.note(say("error", "{}", exc))
        return
    state.experiment_id = eid
    state.draft.name = ""  # the next experiment gets a fresh default name
    state.flash("success", f"Experiment {eid} submitted: {plural(len(spec.backtest_runs()), 'run')} queued.")


def _cancel_all(eid: int) -> None:
    common.runner().cancel_experiment(eid)


def _cancel_model(eid: int, model_index: int) -> None:
    common.runner().cancel_experiment(eid, model_index)


def _cancel(run_id: int) -> None:
    common.runner().cancel(run_id)


def _rows(runs: list[RunRow], runner: Runner | None) -> None:
    """One row per run: its name, a progress bar with its line, and its Cancel button."""
    backtest = any(r.origin for r in runs)
    for run in runs:
        c1, c2, c3 = st.columns([2, 6, 1], vertical_alignment="center")
        c1.text(f"{run.model_name} · seed {run.seed}" + (f" · origin {run.origin + 1}" if backtest else ""))
        fraction, line = run_line(run, runner.stall_note(run) if runner is not None else "")
        c2.progress(fraction, text=fill("{}", line))
        if runner is not None and run.status in ACTIVE and not run.cancel_requested:
            c3.button("Cancel", key=f"cancel_{run.id}", on_click=_cancel, args=(run.id,))


def progress() -> None:
    """The open experiment's runs at a glance (a line and a grid per model), polled from the
    store while any is unfinished (every `_POLL_FIRST` s for `_QUICK_FOR` s after the submit,
    then every `_POLL` s); the per-run rows on demand."""
    eid = state.experiment_id
    if eid is None:
        return
    try:
        row = store.experiment(eid)
    except LabError:
        return
    runner = None if common.runner_problem() else common.runner()
    active = any(r.status in ACTIVE for r in store.runs(eid))
    quick = time.time() - row.created_at < _QUICK_FOR

    @st.fragment(run_every=(_POLL_FIRST if quick else _POLL) if active else None)
    def panel() -> None:
        runs = store.runs(eid)
        still = any(r.status in ACTIVE for r in runs)
        if still and quick and time.time() - row.created_at >= _QUICK_FOR:
            st.rerun()  # the whole page once, to poll at the slower pace from now on
        st.subheader(f"Progress of experiment {eid}")
        st.markdown(fill("**{}** on {} — ", row.name, data_label(row.spec.data.source)) + overall_line(runs) + ".")
        if still:
            st.caption("The setup above is the next experiment: Train queues it behind these runs, which go on.")
        if still and runner is not None:
            st.button("Cancel all unfinished runs", key="cancel_all", on_click=_cancel_all, args=(eid,))
        st.html(legend_html(runs))
        for model in models(runs, runner.stall_note if runner is not None else lambda _: ""):
            if still and runner is not None:
                c1, c2 = st.columns([8, 1.4], vertical_alignment="center")
                c1.html(model.block)
                if model.active:
                    c2.button("Cancel", key=f"cancel_model_{model.index}", on_click=_cancel_model,
                              args=(eid, model.index), help=f"Cancel the unfinished runs of {model.name}.")
            else:
                st.html(model.block)
        if st.toggle("Show every run", key="progress_rows",
                     help="A row per run with its progress bar, loss, ETA and its own Cancel button."):
            _rows(runs, runner)
        if active and not still:
            st.rerun()
        elif not still:
            st.page_link("app_pages/compare.py", label="Compare the results", icon=":material/query_stats:")

    panel()


def page() -> None:
    common.title("3 · Train", "Every model × seed trains in the background; the page stays usable, and any run "
                              "can be cancelled.")
    chosen = common.data(state, store)
    d = state.draft
    st.text_input("Experiment name", key=state.bind_name(), on_change=state.commit_name, max_chars=120,
                  placeholder=d.auto_name(datetime.now()), help="Left empty, the name is preset · data · date.")
    if d.pending is not None:
        common.tell("warning", "The imported experiment **{}** still waits for its data file **{}**: training now "
                    "uses the models and settings shown on the Models page, not the imported ones.",
                    d.pending.name, d.pending_file or "")
    spec = summary(chosen)
    st.button("Train", type="primary", key="train", disabled=spec is None or common.runner_problem() is not None,
              on_click=_train)
    progress()


page()
