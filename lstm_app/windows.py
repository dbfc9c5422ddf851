"""Chronological split, train-only scaling and windowing in both framings (no TensorFlow).

Every sample predicts the target at one time index `t` from the `lookback` rows before it.
Targets are split by position: training targets first, then validation, then the last
`test` points. Test inputs are actual history (one-step-ahead forecasts), which may include
validation or training rows; no test value is ever used for scaling or fitting.

The scaler is fitted on rows `0 .. val_start − 1` only: exactly the rows that training
samples see as inputs or targets.

Windows come from numpy's `sliding_window_view` rather than Keras's
`timeseries_dataset_from_array`: the result is the same array, but this module must stay
importable by the Streamlit process, which never loads TensorFlow.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from .errors import DataError
from .horizons import step_targets
from .spec import BacktestSpec, ExperimentSpec, SplitSpec, TrainingSpec, WindowSpec

__all__ = [
    "LONG_SERIES",
    "MIN_TRAIN_WINDOWS",
    "Prepared",
    "Scaler",
    "Split",
    "Target",
    "at_origin",
    "check_origins",
    "future_index",
    "origin_ends",
    "plan_split",
    "prepare",
    "suggest",
    "suggest_origins",
    "to_framing",
]

MIN_TRAIN_WINDOWS = 8


@dataclass(frozen=True)
class Split:
    """Target positions: train `[lookback, val_start)`, validation `[val_start, test_start)`,
    test `[test_start, n)`."""

    n: int
    lookback: int
    val_start: int
    test_start: int

    @property
    def n_train(self) -> int:
        return self.val_start - self.lookback

    @property
    def n_val(self) -> int:
        return self.test_start - self.val_start

    @property
    def n_test(self) -> int:
        return self.n - self.test_start


def plan_split(n: int, window: WindowSpec, split: SplitSpec, validation_share: float) -> Split:
    """Place the split for a series of `n` rows, or raise a DataError that says what to change."""
    test = split.test_points(n)
    lookback = window.lookback
    fit_windows = n - test - lookback
    n_val = round(fit_windows * validation_share) if fit_windows > 0 else 0
    if validation_share > 0 and fit_windows > 0:
        n_val = max(1, n_val)
    n_train = fit_windows - n_val
    if test >= n or n_train < MIN_TRAIN_WINDOWS:
        need = lookback + test + MIN_TRAIN_WINDOWS + (1 if validation_share > 0 else 0)
        raise DataError(
            f"The series has {n} rows, but lookback {lookback} + test {test} points leaves "
            f"{max(n_train, 0)} training windows and at least {MIN_TRAIN_WINDOWS} are needed "
            f"({need} rows): shorten the lookback or the test period."
        )
    test_start = n - test
    return Split(n=n, lookback=lookback, val_start=test_start - n_val, test_start=test_start)


def origin_ends(n: int, split: SplitSpec, origins: int) -> list[int]:
    """Where each backtest origin's data end (exclusive), oldest first: the last one is `n`, and
    each earlier one a test period sooner, so the test periods are consecutive and disjoint."""
    test = split.test_points(n)
    return [n - (origins - 1 - o) * test for o in range(origins)]


def check_origins(n: int, window: WindowSpec, split: SplitSpec, validation_share: float, origins: int) -> None:
    """Raise a DataError that says how many origins fit when the earliest one is too short."""
    plan_split(n, window, split, validation_share)  # the latest origin: today's split
    if origins > 1 and not _earliest_fits(n, window, split, validation_share, origins):
        fits = next((k for k in range(origins - 1, 1, -1) if _earliest_fits(n, window, split, validation_share, k)), 1)
        raise DataError(
            f"{origins} backtest origins need {(origins - 1) * split.test_points(n)} rows before the last test "
            f"period on top of one split's, more than this series of {n} rows has: use at most {fits} "
            "origins, or a shorter test period."
        )


def _earliest_fits(n: int, window: WindowSpec, split: SplitSpec, validation_share: float, origins: int) -> bool:
    try:
        plan_split(origin_ends(n, split, origins)[0], window, SplitSpec(split.test_points(n)), validation_share)
    except DataError:
        return False
    return True


def suggest_origins(n: int, window: WindowSpec, split: SplitSpec, validation_share: float, most: int = 5) -> int:
    """The default origin count for a series of `n` rows: as many as `most` while the earliest
    origin keeps at least half of the last one's training windows (1 when nothing more fits)."""
    try:
        full = plan_split(n, window, split, validation_share).n_train
    except DataError:
        return 1
    fixed = SplitSpec(split.test_points(n))
    best = 1
    for k in range(2, most + 1):
        try:
            first = plan_split(origin_ends(n, split, k)[0], window, fixed, validation_share)
        except DataError:
            break
        if first.n_train < full / 2:
            break
        best = k
    return best


def at_origin(frame: pd.DataFrame, exp: ExperimentSpec, origin: int) -> tuple[pd.DataFrame, ExperimentSpec]:
    """What backtest origin `origin` of `exp` trains on: the rows up to that origin's end, and
    `exp` with its test size fixed in points (so a fraction does not shrink with the rows) and a
    single origin. Scaling is then fitted on that origin's training part only, by `prepare`."""
    origins = exp.backtest.origins
    if not 0 <= origin < origins:
        raise ValueError(f"Received an invalid value for argument `origin`, expected 0 to {origins - 1}, got {origin}.")
    if origins == 1:
        return frame, exp
    end = origin_ends(len(frame), exp.split, origins)[origin]
    fixed = dataclasses.replace(exp, split=SplitSpec(exp.split.test_points(len(frame))), backtest=BacktestSpec())
    return frame.iloc[:end], fixed


@dataclass(frozen=True)
class Scaler:
    """Per-column affine scaling fitted on the training rows only."""

    kind: str
    offset: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, rows: np.ndarray, kind: str) -> Scaler:
        if kind == "minmax":
            offset, scale = rows.min(axis=0), rows.max(axis=0) - rows.min(axis=0)
        else:
            offset, scale = rows.mean(axis=0), rows.std(axis=0)
        # A column constant over the training rows still has to map somewhere finite.
        scale = np.where(scale > 0, scale, 1.0)
        return cls(kind, offset.astype(float), scale.astype(float))

    def transform(self, values: np.ndarray) -> np.ndarray:
        scaled: np.ndarray = (values - self.offset) / self.scale
        return scaled

    def inverse_target(self, scaled: np.ndarray) -> np.ndarray:
        """Back to original units for the target (column 0)."""
        values: np.ndarray = np.asarray(scaled, dtype=float) * self.scale[0] + self.offset[0]
        return values

    def scale_target(self, values: np.ndarray) -> np.ndarray:
        scaled: np.ndarray = (np.asarray(values, dtype=float) - self.offset[0]) / self.scale[0]
        return scaled


def to_framing(windows: np.ndarray, framing: str) -> np.ndarray:
    """(N, lookback, p) → itself for `steps`, or (N, 1, lookback·p) for `features`."""
    if framing == "steps":
        return windows
    return windows.reshape(windows.shape[0], 1, -1)


@dataclass(frozen=True)
class Target:
    """What the network learns to forecast (`spec.TARGETS`) and the way back to the series'
    units. `lag` is 0 (level, log), 1 (difference) or the season (seasonal difference); `log`
    takes the logarithm of the target column first. A difference applies to every column, so the
    inputs are differenced too; the transformed series is `lag` rows shorter, at the front."""

    kind: str = "level"
    lag: int = 0
    log: bool = False

    @classmethod
    def of(cls, kind: str, season: int | None = None) -> Target:
        """The transform called `kind`; a seasonal difference needs `season` (DataError without)."""
        if kind == "seasonal difference":
            if season is None or season < 2:
                raise DataError("A seasonal difference needs a season, and this series' time column has no daily, "
                                "weekly, monthly or quarterly spacing: give the model's season, or difference it.")
            return cls(kind, season)
        return cls(kind, 1 if kind in ("difference", "log difference") else 0, kind.startswith("log"))

    def apply(self, values: np.ndarray) -> np.ndarray:
        """(n, p) values → (n − lag, p) transformed values (DataError for a log of values ≤ 0)."""
        w = self.logged(values)
        return w[self.lag:] - w[: len(w) - self.lag] if self.lag else w

    def logged(self, values: np.ndarray) -> np.ndarray:
        """The values with the target column on the log scale when `log` (else unchanged)."""
        if not self.log:
            return values
        if np.any(values[:, 0] <= 0):
            raise DataError(f"The {self.kind} target needs every value of the target to be positive, but some are "
                            "0 or below: use difference or level instead.")
        out = values.astype(float).copy()
        out[:, 0] = np.log(out[:, 0])
        return out

    def invert(self, forecast: np.ndarray, before: np.ndarray, known: np.ndarray | None = None) -> np.ndarray:
        """Forecasts of the transformed target back in the series' units. `before` holds the
        target (on the log scale when `log`) at the `lag` steps before the first forecast. With
        `known` (the actual values at the forecast times, same scale), each step undoes the
        difference from actual history (one step ahead); without, from the forecasts themselves
        (a path, each step built on the ones before it)."""
        z = np.asarray(forecast, dtype=float)
        if self.lag:
            history = list(np.asarray(before, dtype=float)[-self.lag:])
            out = []
            for k, step in enumerate(z):
                value = history[k] + step  # `lag` steps back: actual, or forecast on a path
                out.append(value)
                history.append(float(known[k]) if known is not None else value)
            z = np.array(out, dtype=float)
        with np.errstate(over="ignore"):
            return np.exp(z) if self.log else z


@dataclass(frozen=True)
class Prepared:
    """Scaled samples for one experiment, plus what is needed to map forecasts back. With a
    target transform (`target`), `scaled`, `index` and `split` describe the transformed series
    (`target.lag` rows shorter at the front); `levels` is the target column in the series'
    units (log scale when `target.log`) for every row of the original series."""

    split: Split
    scaler: Scaler
    framing: str
    scaled: np.ndarray  # (n, p) whole series, scaled with training statistics
    index: pd.Index
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray  # original units
    target: Target = Target()
    levels: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))

    @property
    def input_shape(self) -> tuple[int, int]:
        rows, columns = self.x_train.shape[1:]
        return int(rows), int(columns)

    @property
    def n_features(self) -> int:
        return int(self.scaled.shape[1])

    def origin_window(self) -> np.ndarray:
        """The `lookback` scaled rows before the test period, shape (lookback, p): the seed of the
        recursive forecast of the test period (h = 1 .. n_test steps ahead)."""
        s = self.split
        return self.scaled[s.test_start - s.lookback: s.test_start]

    def last_window(self) -> np.ndarray:
        """The final `lookback` scaled rows, shape (lookback, p): the seed of a recursive forecast."""
        return self.scaled[-self.split.lookback:]

    def one_step(self, scaled: np.ndarray) -> np.ndarray:
        """One-step test forecasts (scaled, transformed) in the series' units, each undone from
        the actual values before it."""
        z = self.scaler.inverse_target(scaled)
        first = len(self.levels) - self.split.n_test
        return self.target.invert(z, self.levels[:first], self.levels[first:first + len(z)])

    def paths(self, scaled: np.ndarray) -> np.ndarray:
        """(N, H) forecasts (scaled, transformed) from test windows 0..N−1 in the series' units,
        window k's path undone from the actual values before test point k."""
        first = len(self.levels) - self.split.n_test
        undo, levels = self.scaler.inverse_target, self.levels
        rows = [self.target.invert(undo(z), levels[: first + k]) for k, z in enumerate(scaled)]
        return np.array(rows, dtype=float).reshape(np.shape(scaled))

    def path(self, scaled: np.ndarray, at_end: bool = False) -> np.ndarray:
        """A recursive forecast (scaled, transformed) in the series' units: from the test
        period's start, or from the end of the series (`at_end`)."""
        z = self.scaler.inverse_target(scaled)
        first = len(self.levels) if at_end else len(self.levels) - self.split.n_test
        return self.target.invert(z, self.levels[:first])


def prepare(frame: pd.DataFrame, window: WindowSpec, split: SplitSpec,
            training: TrainingSpec, target: Target | None = None, outputs: int = 1) -> Prepared:
    """Split `frame` (target first, then features) chronologically, transform the target (and,
    for a difference, the inputs), scale and window it. The test period is the same points for
    every transform: the last ones of the series. With `outputs` H > 1 (a direct model) a
    training or validation target is the next H values, all inside its part (`horizons.step_targets`)."""
    values = frame.to_numpy(dtype=float)
    if values.ndim != 2 or values.shape[1] < 1:
        raise DataError("The series needs a target column: choose one of the numeric columns.")
    target = target or Target()
    if target.lag:
        split = SplitSpec(split.test_points(len(values)))  # the same test points as the untransformed series
        if target.lag >= len(values) - split.test_points(len(values)):
            raise DataError(f"A {target.kind} of lag {target.lag} leaves no training rows in this series of "
                            f"{len(values)} rows: use a shorter season, or level.")
    changed = target.apply(values)
    plan = plan_split(len(changed), window, split, training.validation_share)
    scaler = Scaler.fit(changed[: plan.val_start], window.scaling)
    scaled = scaler.transform(changed)
    lb = plan.lookback
    # windows[i] holds rows i .. i+lb-1 and predicts the target at row i+lb.
    windows = sliding_window_view(scaled, (lb, scaled.shape[1]))[:, 0]
    windows = to_framing(np.ascontiguousarray(windows[: plan.n - lb]), window.framing)
    targets = scaled[:, 0]

    def part(lo: int, hi: int, what: str = "test") -> tuple[np.ndarray, np.ndarray]:
        if outputs == 1 or what == "test":
            return windows[lo - lb: hi - lb], targets[lo:hi]
        y = step_targets(targets, lo, hi, outputs, what)
        return windows[lo - lb: lo - lb + len(y)], y

    x_train, y_train = part(lb, plan.val_start, "training")
    x_val, y_val = part(plan.val_start, plan.test_start, "validation")
    x_test, _ = part(plan.test_start, plan.n)
    return Prepared(
        split=plan, scaler=scaler, framing=window.framing, scaled=scaled, index=frame.index[target.lag:],
        x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val, x_test=x_test,
        y_test=values[len(values) - plan.n_test:, 0].copy(), target=target,
        levels=target.logged(values)[:, 0].copy(),
    )


def future_index(index: pd.Index, steps: int) -> list[str] | list[int]:
    """Labels for `steps` points after the end of `index` (ISO strings, or positions)."""
    if steps <= 0:
        return []
    if isinstance(index, pd.DatetimeIndex) and len(index) >= 2:
        freq: object = index.freq
        if freq is None and len(index) >= 3:
            with warnings.catch_warnings():  # pandas 3 warns that infer_freq will return an offset
                warnings.simplefilter("ignore", DeprecationWarning)
                found = pd.infer_freq(index[-min(len(index), 60):])
            freq = None if found is None else str(getattr(found, "freqstr", found))
        if freq is not None:
            future = pd.date_range(index[-1], periods=steps + 1, freq=freq)[1:]  # type: ignore[call-overload]
        else:
            step = (index[1:] - index[:-1]).median()  # type: ignore[attr-defined]  # pandas-stubs lacks it
            future = pd.DatetimeIndex([index[-1] + step * (i + 1) for i in range(steps)])
        return [t.isoformat() for t in future]
    last = int(index[-1]) if len(index) and np.issubdtype(np.asarray(index).dtype, np.integer) else len(index) - 1
    return [last + i + 1 for i in range(steps)]


LONG_SERIES = 1000  # points from which the defaults train fewer, longer epochs and fewer seeds


def suggest(n: int) -> tuple[WindowSpec, SplitSpec, TrainingSpec]:
    """Sensible defaults for a series of `n` rows: short series get short windows, small
    batches and more epochs; long ones the reverse. Short series also learn slowly (learning
    rate 1e-4, batch 16): at Keras's 1e-3 with batch 8 most runs on the bundled weekly and
    monthly samples kept their best epoch within the first 10 of 100 (`bench/bench_answers.py`
    prints that share), so early stopping ended them before they learned."""
    test = max(5, min(round(n * 0.15), 500))
    lookback = int(np.clip(round(n / 10), 3, 60))
    lookback = min(lookback, max(1, n - test - MIN_TRAIN_WINDOWS - 2))
    future = int(np.clip(test, 5, 50))
    rate = 0.001
    if n < 300:
        batch, epochs, rate = (16 if n >= 100 else 8), 100, 0.0001
    elif n < LONG_SERIES:
        batch, epochs = 32, 60
    else:
        # Each epoch is long (1,700 windows of 60 steps on a 2,300-point weekly series): 20 epochs
        # with a patience of 5 keep the page's default experiment near a minute (bench/bench_long.py).
        batch, epochs = 64, 20
    return (
        WindowSpec(lookback=lookback, future_steps=future),
        SplitSpec(test_size=test),
        TrainingSpec(epochs=epochs, batch_size=batch, learning_rate=rate, patience=10 if n < LONG_SERIES else 5),
    )
