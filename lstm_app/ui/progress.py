"""The Train page's progress of an experiment at a glance: one line per model (done / running /
queued, ETA) and a grid of one cell per seed × backtest origin, coloured by the run's state, the
run's own line on hover. 45 runs, or a sweep's hundreds, fit a few lines; the per-run rows
(`labels.run_line`) stay on demand.

Plain functions over `RunRow`s, so the page only places what they return.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..outcome import ACTIVE, RunStatus
from ..runs import RunRow
from .labels import duration, plural, run_line

__all__ = ["COLOURS", "ModelProgress", "legend_html", "models", "overall_line"]

# Muted, colour-blind-safe enough next to each other; running cells fill from the bottom by epoch.
COLOURS: dict[RunStatus, str] = {
    RunStatus.QUEUED: "#e3e6eb",
    RunStatus.RUNNING: "#3b82c4",
    RunStatus.DONE: "#2f9e61",
    RunStatus.DIVERGED: "#c4453b",
    RunStatus.FAILED: "#c4453b",
    RunStatus.CANCELLED: "#8a8f98",
    RunStatus.INTERRUPTED: "#e69b2f",
}
_RUNNING_EMPTY = "#c9def2"
_ORDER = (RunStatus.DONE, RunStatus.RUNNING, RunStatus.QUEUED, RunStatus.INTERRUPTED, RunStatus.DIVERGED,
          RunStatus.FAILED, RunStatus.CANCELLED)


@dataclass(frozen=True)
class ModelProgress:
    """One model's runs: its name, a summary line, its runs still cancellable, and its grid."""

    index: int
    name: str
    line: str
    active: int
    cells: str  # HTML

    @property
    def block(self) -> str:
        """Its name and line above its cells, as one block."""
        return (f'<div style="margin:2px 0 4px 0"><div style="font-size:14px;margin-bottom:4px">'
                f'<b>{html.escape(self.name)}</b> <span style="color:#5f6470">— {html.escape(self.line)}</span>'
                f"</div>{self.cells}</div>")


def _counts(runs: Sequence[RunRow]) -> str:
    counts = {s: sum(1 for r in runs if r.status == s) for s in _ORDER}
    return " · ".join(f"{n} {s}" for s, n in counts.items() if n)


def _eta(runs: Sequence[RunRow], whose: str = "") -> str:
    """The running runs' ETA (the slowest of them), `whose` after it; queued runs come after, so
    they are named."""
    running = [r.eta_seconds for r in runs if r.status == RunStatus.RUNNING and r.eta_seconds is not None
               and math.isfinite(r.eta_seconds)]
    queued = sum(1 for r in runs if r.status == RunStatus.QUEUED)
    if not running:
        return ""
    after = ", then the queued runs" if queued else ""
    return f" · ETA {duration(max(running))}{whose}{after}"


def overall_line(runs: Sequence[RunRow]) -> str:
    """'45 runs: 12 done · 15 running · 18 queued · ETA 3 min 56 s for the running runs, then …'."""
    return f"{plural(len(runs), 'run')}: {_counts(runs)}{_eta(runs, ' for the running runs')}"


def _cell(run: RunRow, title: str) -> str:
    colour = COLOURS.get(run.status, COLOURS[RunStatus.QUEUED])
    if run.status == RunStatus.RUNNING:
        done = 100 * min(1.0, run.epoch / run.epochs_total) if run.epochs_total else 0.0
        background = f"linear-gradient(to top, {colour} {done:.0f}%, {_RUNNING_EMPTY} {done:.0f}%)"
    else:
        background = colour
    outline = "outline:2px solid #c4453b;outline-offset:-2px;" if run.cancel_requested and run.status in ACTIVE else ""
    return (f'<span title="{html.escape(title)}" style="display:inline-block;width:14px;height:14px;'
            f'border-radius:3px;background:{background};{outline}"></span>')


def models(runs: Sequence[RunRow], stall: Callable[[RunRow], str] = lambda _: "") -> list[ModelProgress]:
    """One `ModelProgress` per model, in the experiment's order; `stall(run)` says 'no progress
    for 75 s' for a run gone silent (the runner's `stall_note`)."""
    backtest = any(r.origin for r in runs)
    out = []
    for index in sorted({r.model_index for r in runs}):
        mine = [r for r in runs if r.model_index == index]
        groups = []
        for origin in sorted({r.origin for r in mine}):
            cells = []
            for run in sorted((r for r in mine if r.origin == origin), key=lambda r: r.seed):
                where = f"seed {run.seed}" + (f" · origin {origin + 1}" if backtest else "")
                cells.append(_cell(run, f"{run.model_name} · {where}: {run_line(run, stall(run))[1]}"))
            label = (f'<span style="font-size:11px;color:#8a8f98;margin-right:3px">o{origin + 1}</span>'
                     if backtest else "")
            groups.append(f'<span style="display:inline-flex;align-items:center;gap:2px">{label}{"".join(cells)}'
                          "</span>")
        stalled = sum(1 for r in mine if stall(r))
        line = _counts(mine) + _eta(mine) + (
            f" · {stalled} without progress" if stalled else "")
        out.append(ModelProgress(index, mine[0].model_name, line, sum(1 for r in mine if r.status in ACTIVE),
                                 '<div style="display:flex;flex-wrap:wrap;gap:4px 12px;align-items:center">'
                                 + "".join(groups) + "</div>"))
    return out


def legend_html(runs: Sequence[RunRow]) -> str:
    """The colours of the states the runs are in, one small key."""
    present = [s for s in _ORDER if any(r.status == s for r in runs)]
    keys = [f'<span style="display:inline-flex;align-items:center;gap:4px;margin-right:12px">'
            f'<span style="display:inline-block;width:10px;height:10px;border-radius:2px;background:{COLOURS[s]}">'
            f"</span>{s}</span>" for s in present]
    return ('<div style="font-size:12px;color:#5f6470">' + "".join(keys)
            + "· hover a cell for its run's epoch, loss and ETA</div>")
