"""Whether an experiment can train on a series, checked before anything is queued.

The page's Train button and the CLI's `run` ask `check` first, so a model whose target
transform cannot work on the series (a log of values ≤ 0, a seasonal difference without a
season, a difference that leaves too few rows for the split and the backtest origins) is
refused in one sentence that names the model, instead of failing every run at its start.
Imports no TensorFlow: the Streamlit process calls it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import DataError
from .report.metrics import season_for
from .spec import ExperimentSpec, SplitSpec
from .windows import Target, check_origins

__all__ = ["check", "check_targets"]


def check(exp: ExperimentSpec, frame: pd.DataFrame) -> None:
    """DataError, in one sentence, when the split, the backtest origins or a model's target
    transform do not fit `frame` (target first, then features, indexed by time)."""
    t = exp.training
    check_origins(len(frame), exp.window, exp.split, t.validation_share, exp.backtest.origins)
    check_targets(exp, frame)


def check_targets(exp: ExperimentSpec, frame: pd.DataFrame) -> None:
    """DataError naming the first model whose target transform cannot work on `frame`."""
    values = frame.iloc[:, 0].to_numpy(dtype=float)
    season = season_for(frame.index)
    n, t = len(frame), exp.training
    for model in exp.models:
        try:
            target = Target.of(model.target, model.season or season)
            if target.log and np.any(values <= 0):
                raise DataError(f"its {target.kind} target needs every value of {frame.columns[0]} to be positive, "
                                f"but the lowest is {np.nanmin(values):g}: use difference or level instead.")
            if target.lag:
                _check_lag(n, target, exp, t.validation_share)
        except DataError as exc:
            raise DataError(f"Model {model.name!r}: {_lower(str(exc))}") from None


def _check_lag(n: int, target: Target, exp: ExperimentSpec, validation_share: float) -> None:
    """A difference of lag L leaves n − L rows; the same test points must still fit."""
    test = exp.split.test_points(n)
    try:
        check_origins(n - target.lag, exp.window, SplitSpec(test), validation_share, exp.backtest.origins)
    except DataError as exc:
        raise DataError(f"a {target.kind} of lag {target.lag} leaves {n - target.lag} rows, too few for this split: "
                        f"{_lower(str(exc))}") from None


def _lower(sentence: str) -> str:
    """A sentence continued after a colon: its first letter lower-cased unless it starts a name."""
    if len(sentence) > 1 and sentence[0].isupper() and not sentence[1].isupper():
        return sentence[0].lower() + sentence[1:]
    return sentence
