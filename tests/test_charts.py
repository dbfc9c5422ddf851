"""Tests for lstm_app.report.charts on synthetic RunOutcome objects (no training, no browser)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from factories import make_epochs, make_future, make_layer_stats, make_outcome, make_regions
from lstm_app.outcome import Diagnostics, EpochRow, LayerKind, LayerStats, RunOutcome, RunStatus
from lstm_app.params import count_layers, total
from lstm_app.presets import PUBLISHED
from lstm_app.report import charts
from lstm_app.report.compare import summarize
from lstm_app.spec import DataSpec, ExperimentSpec, LayerSpec, ModelSpec, TrainingSpec, WindowSpec

N, VAL, TEST, FUTURE = 120, 80, 100, 6
SEEDS = (0, 1, 2)
OFFSETS = {0: 1.0, 1: -2.0, 2: 3.0}  # forecast = actual + offset: the band is actual − 2 … actual + 3
VALUES = 50 + 10 * np.sin(np.arange(N) / 5) + 0.1 * np.arange(N)
TIMES = pd.date_range("2020-01-05", periods=N, freq="W-SUN")
FUTURE_TIMES = pd.date_range(TIMES[-1], periods=FUTURE + 1, freq="W-SUN")[1:]


def experiment(n_models: int = 3) -> ExperimentSpec:
    base = (
        ModelSpec("tanh", (LayerSpec(8), LayerSpec(4))),
        ModelSpec("relu inside", (LayerSpec(8, "relu"), LayerSpec(4, "relu"))),
        ModelSpec("relu between", (LayerSpec(8), LayerSpec(4)), between="relu"),
    )
    extra = tuple(ModelSpec(f"model {k}", (LayerSpec(4 + k),)) for k in range(max(0, n_models - 3)))
    return ExperimentSpec("charts", DataSpec("sample:x.csv", "y", "date"), (base + extra)[:n_models],
                          window=WindowSpec(lookback=4, future_steps=FUTURE), training=TrainingSpec(seeds=SEEDS))


def _labels(index: pd.Index) -> list:
    return [t.isoformat() for t in index] if isinstance(index, pd.DatetimeIndex) else [int(i) for i in index]


def _layers(between: bool, seed: int) -> list[LayerStats]:
    layers = [make_layer_stats("lstm_1", spread=0.9 + seed)]
    if between:
        layers.append(make_layer_stats("between_1", LayerKind.BETWEEN, "relu", spread=0.5))
    return [*layers, make_layer_stats("lstm_2", spread=0.8)]


def done(seed: int, index: pd.Index = TIMES, between: bool = False, shift: float = 0.0) -> RunOutcome:
    labels = _labels(index)
    actual = VALUES[TEST:]
    future_labels = _labels(FUTURE_TIMES) if isinstance(index, pd.DatetimeIndex) else list(range(N, N + FUTURE))
    return make_outcome(
        epochs=make_epochs(10, seed), time=labels[TEST:], actual=actual, forecast=actual + OFFSETS[seed] + shift,
        previous=float(VALUES[TEST - 1]), future=make_future(future_labels, [60.0 + seed + k for k in range(FUTURE)]),
        regions=make_regions(labels, VAL, TEST), layers=_layers(between, seed), params=1000, seconds_per_epoch=0.1)


def diverged(index: pd.Index = TIMES) -> RunOutcome:
    rows = [EpochRow(1, 0.1, 0.1, 0.1, (1.0, 1.0)), EpochRow(2, 0.5, 0.6, 0.1, (5.0, 3.0)),
            EpochRow(3, 1e7, None, 0.1, (float("nan"), 1e9)), EpochRow(4, None, None, 0.1, ())]
    return make_outcome(RunStatus.DIVERGED, epochs=rows, diverged_epoch=4, message="training loss became NaN",
                        regions=make_regions(_labels(index), VAL, TEST), params=1000)


def cancelled() -> RunOutcome:
    return make_outcome(RunStatus.CANCELLED, epochs=make_epochs(3, 2, scale=2.0),
                        message="cancelled after 3 of 50 epochs")


def outcomes(index: pd.Index = TIMES) -> dict[tuple[int, int], RunOutcome | None]:
    return {
        (0, 0): done(0, index), (0, 1): done(1, index), (0, 2): done(2, index),
        (1, 0): done(0, index, shift=0.5), (1, 1): diverged(index), (1, 2): done(2, index, shift=0.5),
        (2, 0): done(0, index, between=True), (2, 1): done(1, index, between=True), (2, 2): cancelled(),
    }


def actual_series(index: pd.Index = TIMES) -> pd.Series:
    return pd.Series(VALUES, index=index, name="y")


def traces(fig: go.Figure, name: str) -> list:
    return [t for t in fig.data if t.name == name]


def serialises(fig: go.Figure) -> None:
    assert isinstance(fig, go.Figure)
    layout = json.loads(fig.to_json())["layout"]
    assert layout["template"]["layout"]  # plotly_white applied
    assert layout.get("legend", {}).get("orientation", "h") == "h"


# --- colours ---------------------------------------------------------------------------------


def test_model_colors_follow_model_order_and_cycle() -> None:
    names = [f"m{i}" for i in range(len(charts.PALETTE) + 3)]
    colors = charts.model_colors(names)
    assert list(colors) == names
    assert len(set(colors.values())) == len(charts.PALETTE) >= 24
    assert colors[names[len(charts.PALETTE)]] == colors["m0"]
    assert charts.model_colors(["b", "a"])["b"] == charts.model_colors(["b"])["b"] == charts.PALETTE[0]


def test_same_model_same_colour_in_every_figure() -> None:
    spec, runs = experiment(), outcomes()
    comparison = summarize(spec, {k: v for k, v in runs.items() if v is not None})
    expected = charts.model_colors([m.name for m in spec.models])
    figs = {
        "forecast": charts.forecast_overlay(spec, actual_series(), runs),
        "loss": charts.loss_curves(spec, runs),
        "grad": charts.gradient_norms(spec, runs),
        "overview": charts.metric_overview(comparison),
        "replication": charts.replication_figure(comparison, PUBLISHED),
    }
    for label, fig in figs.items():
        for name, color in expected.items():
            found = traces(fig, name)
            assert found, (label, name)
            for t in found:
                assert color in {t.line.color if t.mode and "lines" in t.mode else None, t.marker.color}, label


# --- series preview ------------------------------------------------------------------------------


@pytest.mark.parametrize("index", [TIMES, pd.RangeIndex(N)])
def test_series_preview(index: pd.Index) -> None:
    frame = pd.DataFrame({"y": VALUES, "x": VALUES * 2}, index=index)
    fig = charts.series_preview(frame, "y")
    assert len(fig.data) == 1 and list(fig.data[0].y) == pytest.approx(VALUES)
    assert fig.layout.height == 250
    serialises(fig)
    with pytest.raises(ValueError, match="`target`"):
        charts.series_preview(frame, "nope")


# --- parameter counts ----------------------------------------------------------------------------


def test_param_comparison_totals_and_zero_between() -> None:
    spec = experiment()
    counts = {m.name: count_layers(m, 1, 4, "steps") for m in spec.models}
    fig = charts.param_comparison(counts)
    for model in spec.models:
        bars = [t for t in fig.data if t.y and t.y[0] == model.name]
        assert sum(t.x[0] for t in bars) == total(model, 1, 4, "steps")
        label = next(a for a in fig.layout.annotations if a.name == f"total {model.name}")
        assert f"{total(model, 1, 4, 'steps'):,}" in label.text
        assert label.font.color == charts.model_colors([m.name for m in spec.models])[model.name]
    between = next(a for a in fig.layout.annotations if a.name == "total relu between")
    assert "+0" in between.text and "Activation (relu): no weights = 0" in between.hovertext
    # Swapping the activation changes nothing: tanh and relu inside have equal totals.
    assert total(spec.models[0], 1, 4) == total(spec.models[1], 1, 4)
    assert "same total" in fig.layout.title.subtitle.text
    assert {t.name for t in fig.data if t.showlegend is not False} == {"LSTM 1", "LSTM 2", "dense head"}
    serialises(fig)


# --- forecast overlay ----------------------------------------------------------------------------


@pytest.mark.parametrize("index", [TIMES, pd.RangeIndex(N)])
def test_forecast_overlay_bands_regions_and_future(index: pd.Index) -> None:
    spec = experiment()
    fig = charts.forecast_overlay(spec, actual_series(index), outcomes(index))
    assert traces(fig, "actual")
    actual = VALUES[TEST:]
    low, high = traces(fig, "tanh band low")[0], traces(fig, "tanh band high")[0]
    assert list(low.y) == pytest.approx(actual - 2.0) and list(high.y) == pytest.approx(actual + 3.0)
    assert list(traces(fig, "tanh")[0].y) == pytest.approx(actual + 2 / 3)
    # relu inside: the diverged seed is left out, so the band spans seeds 0 and 2 only.
    assert list(traces(fig, "relu inside band low")[0].y) == pytest.approx(actual + 1.5)
    assert list(traces(fig, "relu inside band high")[0].y) == pytest.approx(actual + 3.5)
    future = traces(fig, "tanh (future)")[0]
    assert list(future.y) == pytest.approx([61.0 + k for k in range(FUTURE)])
    labels = _labels(index)

    def x(value: object) -> object:
        return pd.Timestamp(value) if isinstance(index, pd.DatetimeIndex) else value

    shapes = {s.name: (x(s.x0), x(s.x1)) for s in fig.layout.shapes}
    assert shapes["train"] == (x(labels[0]), x(labels[VAL]))
    assert shapes["validation"] == (x(labels[VAL]), x(labels[TEST]))
    assert shapes["test"] == (x(labels[TEST]), x(labels[-1]))
    end = FUTURE_TIMES[-1] if isinstance(index, pd.DatetimeIndex) else N + FUTURE - 1
    assert shapes["future"] == (x(labels[-1]), end)
    assert {a.text for a in fig.layout.annotations} >= {"train", "validation", "test", "future"}
    assert fig.layout.updatemenus and fig.layout.xaxis.range is not None
    serialises(fig)


def test_forecast_overlay_skips_models_without_finished_runs() -> None:
    spec = experiment()
    runs = outcomes()
    runs.update({(1, 0): None, (1, 2): diverged()})
    fig = charts.forecast_overlay(spec, actual_series(), runs)
    assert not [t for t in fig.data if t.legendgroup == "relu inside"]
    assert traces(fig, "tanh") and traces(fig, "relu between")
    nothing = charts.forecast_overlay(spec, actual_series(), {(0, 0): None, (1, 1): diverged()})
    assert [t.name for t in nothing.data] == ["actual"]
    assert {s.name for s in nothing.layout.shapes} == {"train", "validation", "test"}
    serialises(nothing)
    assert not charts.forecast_overlay(spec, actual_series(), {}).layout.shapes


# --- training curves -----------------------------------------------------------------------------


def test_loss_curves_means_partial_and_diverged() -> None:
    spec, runs = experiment(), outcomes()
    fig = charts.loss_curves(spec, runs, seeds=True)
    assert fig.layout.yaxis.type == "log"
    for name in ("tanh", "relu inside", "relu between"):
        assert len(traces(fig, name)) == 1 and len(traces(fig, f"{name} (validation)")) == 1
        assert traces(fig, f"{name} (validation)")[0].line.dash == "dash"
    tanh = traces(fig, "tanh")[0]
    assert tanh.y[0] == pytest.approx(np.mean([0.1 * 0.8 * (1 + s / 10) for s in SEEDS]))
    # The cancelled seed has 3 epochs; its thin line is drawn and enters the mean for those epochs.
    assert list(traces(fig, "relu between seed 2")[0].x) == [1, 2, 3]
    assert list(traces(fig, "relu between")[0].customdata[:4]) == [3, 3, 3, 2]
    # The diverged seed: thin dotted line without None values, left out of the mean, flagged.
    line = traces(fig, "relu inside seed 1")[0]
    assert list(line.x) == [1, 2, 3] and line.line.dash == "dot"
    assert max(traces(fig, "relu inside")[0].customdata) == 2
    assert traces(fig, "relu inside diverged seeds")[0].x == (4,)
    assert traces(fig, "relu inside diverged seeds")[0].customdata[0][0] == 1
    assert 10 ** fig.layout.yaxis.range[1] < 1e7  # the huge diverged loss does not squash the axis
    serialises(fig)


def test_loss_curves_draw_each_seed_only_on_request() -> None:
    spec, runs = experiment(), outcomes()
    fig, every = charts.loss_curves(spec, runs), charts.loss_curves(spec, runs, seeds=True)
    assert not [t for t in fig.data if " seed " in (t.name or "")]
    assert len([t for t in every.data if " seed " in (t.name or "")]) > 0
    # The same means either way; the default shows a min–max band of the training loss instead.
    for name in ("tanh", "relu inside", "relu between", "tanh (validation)"):
        assert traces(fig, name)[0].y == traces(every, name)[0].y
    low, high = traces(fig, "tanh band low")[0], traces(fig, "tanh band high")[0]
    assert high.fill == "tonexty" and low.x == traces(fig, "tanh")[0].x
    assert all(a <= m <= b for a, m, b in zip(low.y, traces(fig, "tanh")[0].y, high.y, strict=True))
    assert traces(fig, "relu inside diverged seeds")[0].x == (4,)  # still marked without its line
    assert len(fig.data) < len(every.data)
    assert fig.layout.yaxis.range == every.layout.yaxis.range
    serialises(fig)


def test_gradient_norms_one_panel_per_lstm_layer() -> None:
    spec, runs = experiment(), outcomes()
    fig = charts.gradient_norms(spec, runs)
    tanh = traces(fig, "tanh")
    assert len(tanh) == 2 and {t.xaxis for t in tanh} == {"x", "x2"}
    assert [t.showlegend for t in tanh] == [True, False]
    assert tanh[0].y[0] == pytest.approx(0.5 * 0.9)
    assert fig.layout.yaxis.type == "log"
    assert [a.text for a in fig.layout.annotations] == ["LSTM 1", "LSTM 2"]
    assert all(np.isfinite(v) for t in fig.data for v in t.y)
    serialises(fig)
    empty = charts.gradient_norms(spec, {})
    assert not empty.data
    serialises(empty)


def test_layer_histograms_grid_reference_lines_and_limit() -> None:
    spec, runs = experiment(), outcomes()
    fig = charts.layer_histograms(spec, runs)
    bars = [t for t in fig.data if isinstance(t, go.Bar)]
    assert len(bars) == 2 + 2 + 3  # tanh, relu inside: 2 layers; relu between: 2 LSTM + 1 activation
    assert sum(bars[0].y) == pytest.approx(100)
    assert bars[0].x[0] == pytest.approx(-0.9 + 0.09)  # first bin centre of the first finished seed
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert len(lines) == 2 * len(bars) and {s.x0 for s in lines} == {-1.0, 1.0}
    titles = [a.text for a in fig.layout.annotations]
    assert "relu between<br>max |h| 0.5 · dead 25%" in titles
    assert fig.layout.yaxis.title.text.startswith("tanh")
    serialises(fig)
    many = experiment(8)
    big = {(i, 0): done(0) for i in range(8)}
    fig8 = charts.layer_histograms(many, big)
    assert "first 6 of 8" in fig8.layout.title.text
    assert len({t.name.split(" · ")[0] for t in fig8.data}) == 6


# --- comparison figures ----------------------------------------------------------------------------


def test_metric_overview_rows_diverged_and_naive() -> None:
    spec, runs = experiment(), outcomes()
    comparison = summarize(spec, {k: v for k, v in runs.items() if v is not None})
    fig = charts.metric_overview(comparison)
    means = {m.name: m.mean.rmse for m in comparison.models}
    order = sorted(means, key=means.__getitem__)
    assert [s.split("</span> ")[1] for s in fig.layout.yaxis.ticktext] == order
    for name in order:
        mean = traces(fig, name)[0]
        assert mean.x[0] == pytest.approx(means[name]) and mean.y[0] == order.index(name)
    assert len(traces(fig, "tanh (seeds)")[0].x) == 3
    flagged = traces(fig, "relu inside (diverged)")[0]
    assert list(flagged.customdata) == ["1"] and flagged.x[0] > max(means.values())
    naive = [s for s in fig.layout.shapes if s.name == "naive"]
    assert naive and naive[0].x0 == pytest.approx(comparison.naive["rmse"])
    assert "sorted best first" in fig.layout.title.subtitle.text
    serialises(fig)
    with pytest.raises(ValueError, match="`metric`"):
        charts.metric_overview(comparison, "nope")


def test_metric_overview_height_grows_with_models() -> None:
    heights = {}
    for n in (3, 14):
        spec = experiment(n)
        runs = {(i, s): done(s, shift=i / 10) for i in range(n) for s in SEEDS}
        fig = charts.metric_overview(summarize(spec, runs), "mda")
        assert len(fig.layout.yaxis.tickvals) == n
        heights[n] = fig.layout.height
    assert heights[14] - heights[3] == 11 * 28
    assert heights[14] >= 14 * 28 + 100


def test_replication_marks_published_values() -> None:
    spec = ExperimentSpec("hotel", DataSpec("sample:x.csv", "y", "date"),
                          (ModelSpec("tanh", (LayerSpec(4),)), ModelSpec("relu", (LayerSpec(4, "relu"),))),
                          training=TrainingSpec(seeds=SEEDS))
    runs = {(0, s): done(s) for s in SEEDS} | {(1, 0): done(0, shift=1), (1, 1): diverged(), (1, 2): done(2)}
    comparison = summarize(spec, runs)
    fig = charts.replication_figure(comparison, PUBLISHED)
    stars = traces(fig, "published")
    assert len(stars) == 3 and [t.showlegend for t in stars] == [True, False, False]
    for star, metric, axis in zip(stars, ("rmse", "mfe", "mda"), ("x", "x2", "x3"), strict=True):
        assert star.xaxis == axis and star.marker.symbol == "star"
        assert list(star.x) == [PUBLISHED["tanh"][metric], PUBLISHED["relu"][metric]]
        assert list(star.y) == [0, 1]
    assert "published single run vs this app's seeds" in fig.layout.title.text.lower()
    assert len(traces(fig, "relu (diverged)")) == 3
    assert [a.text for a in fig.layout.annotations] == ["RMSE", "MFE", "MDA"]
    serialises(fig)
    none = charts.replication_figure(comparison, {})
    assert not traces(none, "published")


# --- layout ----------------------------------------------------------------------------------------


def test_forecast_zoom_buttons_sit_on_their_own_row_above_the_plot() -> None:
    spec = experiment()
    fig = charts.forecast_overlay(spec, actual_series(), outcomes())
    menu = fig.layout.updatemenus[0]
    # Anchored to the plot area's top (not the figure's), below the legend however it wraps.
    assert (menu.x, menu.xanchor, menu.y, menu.yanchor) == (1, "right", 1, "bottom")
    legend_bottom = (1 - fig.layout.legend.y) * fig.layout.height + 22  # one legend row
    assert fig.layout.margin.t - legend_bottom >= 30  # a row for the ~30 px buttons
    # No buttons (nothing to zoom to): no empty row either.
    plain = charts.forecast_overlay(spec, actual_series(), {})
    assert not plain.layout.updatemenus and plain.layout.margin.t < fig.layout.margin.t


def test_param_comparison_subtitle_fits_a_narrow_column() -> None:
    spec = experiment()
    fig = charts.param_comparison({m.name: count_layers(m, 1, 4, "steps") for m in spec.models})
    lines = fig.layout.title.subtitle.text.split("<br>")
    assert len(lines) >= 2 and max(map(len, lines)) <= 48  # ~6 px a character at 11 px: < 300 px


# --- user text is never HTML -----------------------------------------------------------------------

EVIL = '<b>bold</b> & <a href="x">link</a>'
EVIL_TARGET = "<i>y</i>"


def _strings(value: object) -> list[str]:
    """Every string in a decoded figure JSON (to_json writes < as \\u003c, so decode first)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_user_text_is_escaped_in_every_figure() -> None:
    import dataclasses

    base = experiment()
    spec = dataclasses.replace(base, data=dataclasses.replace(base.data, target=EVIL_TARGET),
                               models=(dataclasses.replace(base.models[0], name=EVIL), *base.models[1:]))
    runs = outcomes()
    comparison = summarize(spec, {k: v for k, v in runs.items() if v is not None})
    frame = pd.DataFrame({EVIL_TARGET: VALUES}, index=TIMES)
    counts = {m.name: count_layers(m, 1, 4, "steps") for m in spec.models}
    figs = {
        "preview": charts.series_preview(frame, EVIL_TARGET),
        "params": charts.param_comparison(counts),
        "forecast": charts.forecast_overlay(spec, actual_series(), runs),
        "loss": charts.loss_curves(spec, runs),
        "grad": charts.gradient_norms(spec, runs),
        "hist": charts.layer_histograms(spec, runs),
        "overview": charts.metric_overview(comparison),
        "replication": charts.replication_figure(comparison, {EVIL: PUBLISHED["tanh"], **PUBLISHED}),
    }
    for label, fig in figs.items():
        text = "\n".join(_strings(json.loads(fig.to_json())))
        for raw in ("<b>bold</b>", "<a href", EVIL_TARGET):
            assert raw not in text, (label, raw)
        assert ("&lt;i&gt;y&lt;/i&gt;" if label == "preview" else "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;a") in text, label
        assert "<br>" in text or "<extra>" in text, label  # the charts' own markup is left alone
    escaped = charts.user_text(EVIL)
    assert escaped == '&lt;b&gt;bold&lt;/b&gt; &amp; &lt;a href="x"&gt;link&lt;/a&gt;'
    # Colours stay keyed by the raw name, and the escaped name draws in that colour.
    color = charts.model_colors([m.name for m in spec.models])[EVIL]
    assert {t.line.color for t in traces(figs["forecast"], escaped)} == {color}
    assert {t.line.color for t in traces(figs["loss"], escaped)} == {color}
    assert all(t.startswith("<span style=") for t in figs["overview"].layout.yaxis.ticktext)
    assert figs["forecast"].layout.title.text == "&lt;i&gt;y&lt;/i&gt;: actual vs test forecasts"
    tick = next(t for t in figs["params"].layout.yaxis.ticktext if escaped in t)
    assert tick == f"<span style='color:{color}'>●</span> {escaped}"


# --- import hygiene --------------------------------------------------------------------------------


def test_every_builder_copes_with_nothing_finished() -> None:
    spec = experiment()
    empty: dict[tuple[int, int], RunOutcome | None] = {(0, 0): None, (1, 1): diverged(), (2, 2): cancelled()}
    odd = done(0)
    odd.diagnostics = Diagnostics((make_layer_stats(activation="relu", finite=False),))
    for runs in ({}, empty, {(0, 0): odd}):
        for fig in (charts.forecast_overlay(spec, actual_series(), runs), charts.loss_curves(spec, runs),
                    charts.gradient_norms(spec, runs), charts.layer_histograms(spec, runs)):
            serialises(fig)
    assert "non-finite outputs" in charts.layer_histograms(spec, {(0, 0): odd}).layout.annotations[0].text
    comparison = summarize(spec, {k: v for k, v in empty.items() if v is not None})
    for fig in (charts.metric_overview(comparison), charts.metric_overview(comparison, "mda"),
                charts.replication_figure(comparison, PUBLISHED), charts.param_comparison({})):
        serialises(fig)


def test_a_runaway_future_forecast_is_clipped_and_said_in_words() -> None:
    import pandas as pd

    from factories import make_future, make_outcome, make_regions
    from lstm_app.report import charts
    from lstm_app.spec import DataSpec, ExperimentSpec, LayerSpec, ModelSpec

    times = [f"2020-01-{d:02d}" for d in range(1, 21)]
    actual = pd.Series([370.0 + (i % 3) for i in range(20)], index=pd.to_datetime(times))
    spec = ExperimentSpec("co2", DataSpec("sample:x.csv", "ppm"), (ModelSpec("relu", (LayerSpec(4, "relu"),)),))
    outcome = make_outcome(time=times[15:], actual=actual.to_numpy()[15:], forecast=actual.to_numpy()[15:] + 1,
                           previous=371.0, regions=make_regions(times, 10, 15),
                           future=make_future(["2020-01-21", "2020-01-22"], [900.0, 26_000.0]))
    fig = charts.forecast_overlay(spec, actual, {(0, 0): outcome})
    low, high = fig.layout.yaxis.range
    assert 360 < low < 370 and 372 < high < 400  # fits the actual series and the test forecasts
    notes = [a.text for a in fig.layout.annotations if "clipped" in (a.text or "")]
    assert notes == ["clipped: the future forecast runs away (relu reaches 26,000)"]
    calm = make_outcome(time=times[15:], actual=actual.to_numpy()[15:], forecast=actual.to_numpy()[15:] + 1,
                        previous=371.0, regions=make_regions(times, 10, 15),
                        future=make_future(["2020-01-21", "2020-01-22"], [371.0, 372.0]))
    assert charts.forecast_overlay(spec, actual, {(0, 0): calm}).layout.yaxis.range is None
