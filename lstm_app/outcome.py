"""What one training run produces, as plain JSON-able data (no TensorFlow).

`train.run_one` returns a `RunOutcome`; the worker writes it to the store; charts and the CLI
read it back with `RunOutcome.from_dict`. Times are ISO strings (or integer positions when the
series has no time column) so they survive JSON.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

__all__ = ["STATUSES", "EpochRow", "RunOutcome"]

# Every status a run can have, in the store and on the page.
STATUSES = ("queued", "running", "done", "diverged", "cancelled", "failed", "interrupted")


@dataclass(frozen=True)
class EpochRow:
    """One finished epoch: losses in scaled units (None when not finite), wall seconds, and
    the gradient norm per LSTM layer on a fixed probe batch."""

    epoch: int
    loss: float | None
    val_loss: float | None
    seconds: float
    grad_norms: tuple[float, ...] = ()


@dataclass
class RunOutcome:
    """The result of one model × seed run.

    status: done, diverged or cancelled (failures are exceptions, recorded by the worker).
    metrics: rmse, mae, mfe, mda, naive_rmse, skill, volatility_ratio (original units); empty
    when the run diverged before it could forecast.
    test: {"time", "actual", "forecast", "naive"} over the test period, one-step-ahead from
    actual history. future: {"time", "forecast"}, a recursive forecast past the series end.
    regions: {"train_start", "val_start", "test_start", "end", "n_train", "n_val", "n_test"}: the
    times (or positions) that bound the chronological split, and the window counts.
    diagnostics: per-LSTM-layer output statistics on the test windows.
    """

    status: str
    epochs: list[EpochRow] = field(default_factory=list)
    message: str = ""
    diverged_epoch: int | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)
    test: dict[str, list[Any]] = field(default_factory=dict)
    future: dict[str, list[Any]] = field(default_factory=dict)
    regions: dict[str, Any] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)
    params: int = 0
    seconds_per_epoch: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunOutcome:
        raw = dict(raw)
        raw["epochs"] = [
            EpochRow(**{**e, "grad_norms": tuple(e.get("grad_norms", ()))}) for e in raw.get("epochs", [])
        ]
        return cls(**raw)
