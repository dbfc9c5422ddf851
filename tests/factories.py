"""The one place tests build results: typed outcomes, metrics, forecasts, regions, layer statistics.

Tests never write result dicts by hand: they call these with what matters to them and take
defaults for the rest, so a change to the result types is one change here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lstm_app.outcome import (
    Diagnostics,
    EpochRow,
    FutureForecast,
    Histogram,
    Label,
    LayerKind,
    LayerStats,
    Metrics,
    Regions,
    RunOutcome,
    RunStatus,
    TestForecast,
)
from lstm_app.report import metrics as _metrics

__all__ = [
    "make_epochs",
    "make_future",
    "make_layer_stats",
    "make_metrics",
    "make_outcome",
    "make_regions",
    "make_test",
]


def make_metrics(rmse: float | None = 1.0, **values: float | None) -> Metrics:
    """Metrics with `rmse` and any others by name (the rest None)."""
    return Metrics(rmse=rmse, **values)


def make_test(time: Sequence[Label], actual: Sequence[float | None], forecast: Sequence[float | None],
              naive: Sequence[float | None] = ()) -> TestForecast:
    """A test forecast exactly as given (None values and ragged lengths allowed, for edge cases)."""
    return TestForecast(tuple(time), tuple(actual), tuple(forecast), tuple(naive))  # type: ignore[arg-type]


def make_future(time: Sequence[Label], forecast: Sequence[float]) -> FutureForecast:
    return FutureForecast(tuple(time), tuple(float(f) for f in forecast))


def make_regions(labels: Sequence[Label], val_start: int | None, test_start: int) -> Regions:
    """Regions of a series with time `labels`, validation from position `val_start` (None: no
    validation part) and test from `test_start`."""
    n_val = 0 if val_start is None else test_start - val_start
    return Regions(labels[0], None if val_start is None else labels[val_start], labels[test_start], labels[-1],
                   n_train=(test_start if val_start is None else val_start), n_val=n_val,
                   n_test=len(labels) - test_start)


def make_epochs(n: int, seed: int = 0, scale: float = 1.0, layers: int = 2) -> list[EpochRow]:
    """`n` epochs of smoothly falling losses and gradient norms (`layers` per epoch)."""
    return [EpochRow(e, 0.1 * scale * 0.8**e * (1 + seed / 10), 0.12 * scale * 0.85**e, 0.1,
                     tuple((0.5, 0.2, 0.1, 0.05)[k % 4] * 0.9**e for k in range(layers))) for e in range(1, n + 1)]


def make_layer_stats(name: str = "lstm_1", kind: LayerKind | str = LayerKind.LSTM, activation: str = "tanh",
                     units: int = 4, *, spread: float = 0.9, dead_units: int = 1, finite: bool = True,
                     bins: int = 10) -> LayerStats:
    """Statistics of a layer whose outputs span ±`spread`; `finite=False` is a layer whose
    outputs were all NaN or infinite (no statistics)."""
    if not finite:
        return LayerStats(name, LayerKind(kind), activation, units, finite=False)
    edges = np.linspace(-spread, spread, bins + 1)
    return LayerStats(
        name, LayerKind(kind), activation, units, finite=True, min=-spread, max=spread, max_abs=spread, mean=0.0,
        share_outside_unit=0.0 if spread <= 1 else 0.5, dead_units=dead_units, dead_share=dead_units / units,
        histogram=Histogram(tuple(range(bins)), tuple(float(e) for e in edges)),
    )


def make_outcome(
    status: RunStatus | str = RunStatus.DONE,
    *,
    time: Sequence[Label] | None = None,
    actual: Sequence[float] | np.ndarray | None = None,
    forecast: Sequence[float] | np.ndarray | None = None,
    previous: float | None = None,
    test: TestForecast | None = None,
    metrics: Metrics | None = None,
    future: FutureForecast | None = None,
    regions: Regions | None = None,
    layers: Sequence[LayerStats] = (),
    epochs: Sequence[EpochRow] = (),
    message: str = "",
    diverged_epoch: int | None = None,
    params: int = 0,
    seconds_per_epoch: float | None = None,
) -> RunOutcome:
    """A run's outcome. With `actual` and `forecast` (and `previous`, the value before the test
    period) it gets a test forecast, a naive forecast and the metrics `report.metrics.evaluate`
    computes from them, unless `test`/`metrics` are given; `time` defaults to positions."""
    if test is None and actual is not None and forecast is not None:
        a, f = np.asarray(actual, dtype=float), np.asarray(forecast, dtype=float)
        naive = _metrics.naive_forecast(previous, a) if previous is not None else np.array([])
        labels = list(range(len(a))) if time is None else list(time)
        test = TestForecast(tuple(labels), tuple(a.tolist()), tuple(f.tolist()), tuple(naive.tolist()))
        if metrics is None and previous is not None:
            metrics = _metrics.evaluate(f, a, previous)
    return RunOutcome(
        status=RunStatus(status), epochs=list(epochs), message=message, diverged_epoch=diverged_epoch,
        metrics=metrics, test=test, future=future, regions=regions, diagnostics=Diagnostics(tuple(layers)),
        params=params, seconds_per_epoch=seconds_per_epoch,
    )
