"""Multi-step forecasts: the horizon H of an experiment, H-step training targets, and the RMSE at
each horizon 1..H from every test window (no TensorFlow).

Every run forecasts H steps ahead from each of its test windows at once — a recursive model by
H batched calls, each forecast fed back as the next input; a direct model (`ModelSpec.strategy`)
by one call of its Dense(H) head. Each path is turned back into the series' units from the actual
values before its window (`windows.Prepared.paths`), and scored against the actual values it reaches: the window
at test point k reaches h = 1 .. n_test − k, so horizon h pools `n_test − h + 1` forecasts
(`by_horizon`). The simple baselines are scored the same way from every window; the statistical
references, fitted once per split, from the test period's start only (`baseline_horizons`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .errors import DataError
from .outcome import Horizon
from .spec import ModelSpec

__all__ = ["DEFAULT_HORIZON", "by_horizon", "experiment_horizon", "step_targets"]

DEFAULT_HORIZON = 12  # without a direct model or a season of 2..24 steps
_MAX_SEASON_HORIZON = 24
_MIN_SEASON_HORIZON = 8  # a short season is scored over whole seasons up to at least this


def experiment_horizon(models: Sequence[ModelSpec], season: int | None, n_test: int) -> int:
    """How many steps ahead the runs of an experiment are scored (and the horizon chart shows):
    the largest horizon a model gives (a direct model's head), else about one season when
    2 ≤ season ≤ 24 (whole seasons, at least 8 steps: quarterly 8, daily 14, monthly 12, hourly
    24), else 12; never more than the test period."""
    given = [m.horizon for m in models if m.horizon]
    if given:
        horizon = max(given)
    elif season is not None and 2 <= season <= _MAX_SEASON_HORIZON:
        horizon = season * math.ceil(_MIN_SEASON_HORIZON / season)
    else:
        horizon = DEFAULT_HORIZON
    return max(1, min(horizon, n_test))


def step_targets(targets: np.ndarray, lo: int, hi: int, outputs: int, what: str) -> np.ndarray:
    """The next `outputs` values of `targets` for each sample whose first target row is in
    [lo, hi − outputs + 1): every value stays inside [lo, hi), so no sample's targets reach into
    the next part (validation, test). Shape (samples, outputs)."""
    count = hi - lo - outputs + 1
    if count < 1 and what == "training":
        raise DataError(f"A direct horizon of {outputs} steps is longer than the {hi - lo} training rows: "
                        "use a shorter horizon, or a shorter test period.")
    if count < 1:
        return np.empty((0, outputs))
    return np.ascontiguousarray(sliding_window_view(targets[lo:hi], outputs)[:count])


def by_horizon(forecasts: np.ndarray, actual: np.ndarray) -> Horizon:
    """RMSE at each horizon of (N, H) paths, path k starting at test point k, against the
    `actual` test values; a horizon with a non-finite forecast has no RMSE (None)."""
    f, a = np.asarray(forecasts, dtype=float), np.asarray(actual, dtype=float)
    steps = f.shape[1] if f.ndim == 2 else 0
    rmse: list[float | None] = []
    counts: list[int] = []
    for h in range(steps):
        reach = min(len(a) - h, len(f))
        errors = f[:reach, h] - a[h: h + reach]
        counts.append(max(reach, 0))
        with np.errstate(over="ignore", invalid="ignore"):
            value = float(np.sqrt(np.mean(errors ** 2))) if reach > 0 else None
        rmse.append(value if value is not None and np.isfinite(value) else None)
    return Horizon(tuple(rmse), tuple(counts))
