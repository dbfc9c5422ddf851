"""What `Table.summary` and `target_summary` describe (re-exported by `data.reader`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

__all__ = ["TableSummary", "TargetSummary"]


@dataclass(frozen=True)
class TargetSummary:
    """The target column after the missing-value policy: rows kept, trimmed at the ends and
    interpolated inside, and its range and mean."""

    column: str
    rows: int
    trimmed: int
    filled: int
    min: float
    max: float
    mean: float


@dataclass(frozen=True)
class TableSummary:
    """A table described for people and scripts (`Table.summary`); `target` only when one was
    chosen (`target_summary`)."""

    name: str
    rows: int
    time_column: str | None
    numeric_columns: tuple[str, ...]
    text_columns: tuple[str, ...]
    frequency: str | None
    frequency_label: str
    start: str | None
    end: str | None
    missing: dict[str, int]
    duplicates: int
    gaps: int
    dropped: int
    target_candidate: str
    notes: tuple[str, ...]
    target: TargetSummary | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (what ``inspect --json`` prints and results.json holds as "data")."""
        out = dataclasses.asdict(self)
        out.update(numeric_columns=list(self.numeric_columns), text_columns=list(self.text_columns),
                   notes=list(self.notes))
        if self.target is None:
            del out["target"]
        return out
