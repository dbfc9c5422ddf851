"""The page's words: plurals, time and data labels, run and engine lines, and `say`, which
escapes the user's parts of a message.

Every text the page shows is Markdown; a user's file name, column or experiment name must
render literally (no link, no HTML), so it goes through `say` or `fill`, never an f-string.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

from ..data.samples import PREFIX
from ..outcome import RunStatus
from ..runs import Engine, ExperimentInfo, RunRow
from ..spec import SplitSpec, TrainingSpec, WindowSpec, slug
from ..text import md_escape
from ..windows import check_origins, origin_ends, plan_split

__all__ = [
    "Kind",
    "Note",
    "data_label",
    "duration",
    "engine_lines",
    "file_stem",
    "fill",
    "history_label",
    "plural",
    "run_line",
    "say",
    "split_line",
    "time_label",
]

Kind = Literal["success", "info", "warning", "error"]


@dataclass(frozen=True)
class Note:
    """What the page should say: `text` is Markdown with every user-supplied part escaped (make
    one with `say`)."""

    kind: Kind
    text: str


def fill(template: str, *user_parts: object) -> str:
    """`template` (Markdown, `{}` placeholders) filled with the user's parts, each escaped."""
    return template.format(*(md_escape(part) for part in user_parts))


def say(kind: Kind, template: str, *user_parts: object) -> Note:
    """A message of `kind`: `template` filled with the escaped `user_parts` (see `fill`)."""
    return Note(kind, fill(template, *user_parts))


def plural(n: int, noun: str, many: str | None = None) -> str:
    """`1 model`, `2 models`, `0 runs` (with `many` for irregular plurals)."""
    return f"{n:,} {noun if n == 1 else many or noun + 's'}"


def time_label(label: object) -> str:
    """A stored time label as the page shows it: an ISO date without a midnight time, or a position."""
    text = str(label)
    return text.removesuffix("T00:00:00") if "T" in text else text


def data_label(source: str) -> str:
    """A DataSpec source as the page names it: the file name (`sample:` dropped)."""
    return PurePath(source.removeprefix(PREFIX)).name


def file_stem(name: str) -> str:
    """The stem of an experiment's export files: its whole name (at most 120 characters, as
    names are), file-safe, so the dataset and the date of a default name stay in it."""
    return re.sub(r"-{2,}", "-", slug(name, limit=120, fallback="experiment"))


def history_label(row: ExperimentInfo) -> str:
    """`#12 name · data · 4/6 done`: one line of the experiment history (the data file is left
    out when the name already holds it, as the page's default names do)."""
    data_name = data_label(row.source)
    stem = PurePath(data_name).stem
    name = row.name if stem in row.name else f"{row.name} · {data_name}"
    return f"#{row.id} {name} · {row.counts.get(RunStatus.DONE, 0)}/{row.total} done"


def split_line(n: int, window: WindowSpec, split: SplitSpec, training: TrainingSpec, origins: int = 1) -> str:
    """`115 points → 80 training windows, 20 validation, 10 test`, plus the backtest origins
    when there are several, or DataError."""
    plan = plan_split(n, window, split, training.validation_share)
    line = (f"{n} points → {plan.n_train} training windows, {plan.n_val} validation, {plan.n_test} test "
            f"(the first {window.lookback} points only feed the first window).")
    if origins <= 1:
        return line
    check_origins(n, window, split, training.validation_share, origins)
    first = plan_split(origin_ends(n, split, origins)[0], window, SplitSpec(plan.n_test), training.validation_share)
    return (f"{line} Backtest: {origins} origins, each trained on the rows before its own test period of "
            f"{plan.n_test} points, the last {origins * plan.n_test} points tested in all (the oldest origin has "
            f"{first.n_train} training windows).")


def duration(value: float | None) -> str:
    """Seconds in words: '42 s', '3 min 05 s', '—' when unknown."""
    if value is None or not math.isfinite(value):
        return "—"
    value = max(0.0, value)
    if value < 90:
        return f"{value:.0f} s"
    return f"{value // 60:.0f} min {value % 60:02.0f} s"


def engine_lines(runs: list[RunRow] | tuple[RunRow, ...]) -> list[str]:
    """Which engine trained the runs and why, one line per distinct choice (groups whose reasons
    differ only in their estimates, e.g. one per backtest origin, share a line)."""
    counts: dict[tuple[Engine, str], int] = {}
    first: dict[tuple[Engine, str], str] = {}
    reasons: dict[tuple[Engine, str], set[str]] = {}
    for run in runs:
        if run.engine:
            key = (run.engine, run.engine_reason.split(":")[0])
            counts[key] = counts.get(key, 0) + 1
            first.setdefault(key, run.engine_reason)
            reasons.setdefault(key, set()).add(run.engine_reason)
    lines = []
    for key, n in counts.items():
        how = ("in batched groups: their s/epoch is the whole group's epoch, shared by its runs"
               if key[0] == Engine.BATCHED else "one at a time through Keras")
        more = f"; {len(reasons[key]) - 1} more like it" if len(reasons[key]) > 1 else ""
        lines.append(f"{plural(n, 'run')} trained {how} ({first[key]}{more}).")
    return lines


def run_line(run: RunRow, stalled: str = "") -> tuple[float, str]:
    """Progress (0..1) and one line for a run: epoch k/n, loss, ETA, or its end in words;
    `stalled` ("no progress for 75 s") is said first for a running run that went silent."""
    fraction = min(1.0, run.epoch / run.epochs_total) if run.epochs_total else 0.0
    loss = f"loss {run.loss:.4g}" if run.loss is not None else "loss —"
    if run.val_loss is not None:
        loss += f", val {run.val_loss:.4g}"
    epoch = f"epoch {run.epoch}/{run.epochs_total}"
    retried = f" · retried {plural(run.retries, 'time')}" if run.retries else ""
    if run.status == RunStatus.QUEUED:
        return 0.0, "queued, waiting for a worker"
    if run.status == RunStatus.RUNNING:
        cancelling = " · cancelling…" if run.cancel_requested else ""
        engine = " · in a batched group" if run.engine == Engine.BATCHED else ""
        if stalled:
            return fraction, f"{stalled} · {epoch} · {loss}{engine}{retried}{cancelling}"
        return fraction, f"{epoch} · {loss} · ETA {duration(run.eta_seconds)}{engine}{retried}{cancelling}"
    if run.status == RunStatus.DONE:
        engine = f" · {run.engine} engine" if run.engine else ""
        return 1.0, f"done: {run.message or epoch} · {loss}{engine}{retried}"
    if run.status == RunStatus.DIVERGED:
        return fraction, f"diverged: {run.message or 'the loss blew up'}"
    return fraction, f"{run.status}: {run.message or epoch}"
