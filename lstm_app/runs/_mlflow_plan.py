"""What an MLflow export writes, as plain data built from the store or a headless run (no MLflow here).

`ExportPlan` is one MLflow experiment: one parent `RunRecord` per model with a child per seed ×
backtest origin. Each record holds its params, metrics (per-epoch loss and val_loss with
`step` = epoch, then the final metrics), tags, artifacts and a fingerprint of all of it, so a
re-export can tell an unchanged run from one that trained further. `mlflow_export` writes it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..outcome import ACTIVE, RunOutcome, RunStatus
from ..report.compare import Comparison, ModelSummary
from ..spec import ExperimentSpec, ModelSpec, RunKey

__all__ = ["EXPERIMENT_TAG", "FINGERPRINT_TAG", "RUN_TAG", "ExportPlan", "ModelRecord", "RunRecord", "RunSource",
           "build_plan"]

# The tags that key an export: the app's experiment, the app's run (or "model-<index>" for a
# parent), and what was written (an unchanged fingerprint means nothing to update).
EXPERIMENT_TAG, RUN_TAG, FINGERPRINT_TAG = "lstm_lab.experiment", "lstm_lab.run_id", "lstm_lab.fingerprint"
# MLflow's run statuses for the app's.
_MLFLOW_STATUS = {RunStatus.DONE: "FINISHED", RunStatus.DIVERGED: "FINISHED", RunStatus.CANCELLED: "KILLED",
                  RunStatus.FAILED: "FAILED", RunStatus.INTERRUPTED: "FAILED", RunStatus.QUEUED: "SCHEDULED",
                  RunStatus.RUNNING: "RUNNING"}
_MAX_TEXT = 5000  # MLflow keeps at most 6,000 characters per param and 8,000 per tag


@dataclass(frozen=True)
class RunSource:
    """One app run as an export reads it: its key, its id in the app (the store's run id, or
    `m<model>-s<seed>-o<origin>` for a headless run), status, outcome and stored model file."""

    key: RunKey
    run_id: str
    status: RunStatus
    message: str = ""
    outcome: RunOutcome | None = None
    engine: str | None = None
    started: float | None = None  # Unix seconds
    finished: float | None = None
    model_file: Path | None = None


@dataclass(frozen=True)
class RunRecord:
    """One MLflow run to write: `metrics` are (key, value, timestamp ms, step)."""

    tag: str
    name: str
    status: str
    params: Mapping[str, str]
    metrics: tuple[tuple[str, float, int, int], ...]
    tags: Mapping[str, str]
    texts: Mapping[str, str] = field(default_factory=dict)  # artifact file name -> content
    files: tuple[Path, ...] = ()
    start_ms: int | None = None
    end_ms: int | None = None

    @property
    def fingerprint(self) -> str:
        """A hash of everything written but the timestamps (a headless run has none of its own)."""
        body = json.dumps([self.name, self.status, sorted(self.params.items()),
                           [(k, v, s) for k, v, _, s in self.metrics], sorted(self.tags.items()),
                           sorted(self.texts.items()), [(p.name, p.stat().st_size) for p in self.files]],
                          default=str)
        return hashlib.sha256(body.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ModelRecord:
    parent: RunRecord
    children: tuple[RunRecord, ...]


@dataclass(frozen=True)
class ExportPlan:
    """One app experiment as one MLflow experiment, keyed by `key` in the EXPERIMENT_TAG tag."""

    key: str
    name: str
    description: str
    models: tuple[ModelRecord, ...]

    @property
    def runs(self) -> int:
        """How many app runs (child runs) the plan holds."""
        return sum(len(m.children) for m in self.models)


def build_plan(spec: ExperimentSpec, dataset_sha: str, sources: Sequence[RunSource], comparison: Comparison,
               *, key: str, name: str) -> ExportPlan:
    """The export of one experiment: `sources` are its runs, `comparison` what the Compare page says."""
    common = _experiment_params(spec, dataset_sha)
    by_model: dict[int, list[RunSource]] = {}
    for source in sources:
        by_model.setdefault(source.key.model, []).append(source)
    models = []
    for summary in comparison.models:
        model = spec.models[summary.index]
        own = {**common, **_model_params(model)}
        runs = by_model.get(summary.index, [])
        children = tuple(_child(spec, source, own, key) for source in runs)
        parent = _parent(spec, summary, comparison, runs, own, key)
        models.append(ModelRecord(parent, children))
    return ExportPlan(key, name, _description(spec, comparison), tuple(models))


def _experiment_params(spec: ExperimentSpec, dataset_sha: str) -> dict[str, str]:
    raw = spec.to_dict()
    out = {"data.sha256": dataset_sha}
    for part in ("data", "window", "split", "training", "backtest"):
        for name, value in raw[part].items():
            if not (part == "data" and name == "sha256"):
                out[f"{part}.{name}"] = _text(value)
    return out


def _model_params(model: ModelSpec) -> dict[str, str]:
    def per_layer(attr: str) -> str:
        return ",".join(str(getattr(layer, attr)) for layer in model.layers)

    return {
        "model.name": model.name, "model.plan": model.describe(), "model.units": per_layer("units"),
        "model.activation": per_layer("activation"), "model.recurrent_activation": per_layer("recurrent_activation"),
        "model.dropout": per_layer("dropout"), "model.recurrent_dropout": per_layer("recurrent_dropout"),
        "model.placement": f"between ({model.between})" if model.between else "inside",
        "model.between": model.between or "none", "model.dense": _text(model.dense),
        "model.dense_activation": model.dense_activation, "model.target": model.target,
        "model.season": _text(model.season),
    }


def _text(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value) or "none"
    return "none" if value is None else str(value)[:_MAX_TEXT]


def _child(spec: ExperimentSpec, source: RunSource, params: Mapping[str, str], key: str) -> RunRecord:
    out = source.outcome
    origins = spec.backtest.origins
    name = f"{spec.models[source.key.model].name} · seed {source.key.seed}" + (
        f" · origin {source.key.origin + 1}/{origins}" if origins > 1 else "")
    tags = {EXPERIMENT_TAG: key, RUN_TAG: source.run_id, "status": source.status.value,
            "engine": source.engine or "unknown"}
    if out is not None and out.diverged_epoch is not None:
        tags["diverged_epoch"] = str(out.diverged_epoch)
    if source.message:
        tags["message"] = source.message[:_MAX_TEXT]
    texts = {"forecasts.csv": _forecasts_csv([source])} if out is not None and out.test is not None else {}
    files = (source.model_file,) if source.model_file is not None and source.model_file.is_file() else ()
    return RunRecord(
        source.run_id, name, _MLFLOW_STATUS[source.status],
        {**params, "run.seed": str(source.key.seed), "run.origin": str(source.key.origin)},
        _run_metrics(out, source.started), tags, texts, files,
        _ms(source.started), _ms(source.finished) if source.status not in ACTIVE else None)


def _run_metrics(out: RunOutcome | None, started: float | None) -> tuple[tuple[str, float, int, int], ...]:
    if out is None:
        return ()
    now = time.time()
    clock = started if started is not None else now
    rows: list[tuple[str, float, int, int]] = []
    for epoch in out.epochs:
        clock += epoch.seconds
        stamp = int(clock * 1000)
        rows += [(k, v, stamp, epoch.epoch) for k, v in (("loss", epoch.loss), ("val_loss", epoch.val_loss))
                 if v is not None]
    last = out.epochs[-1].epoch if out.epochs else 0
    final = dict(out.metrics.as_dict()) if out.metrics is not None else {}
    final.update(seconds_per_epoch=out.seconds_per_epoch, params=float(out.params) if out.params else None,
                 epochs=float(len(out.epochs)))
    end = int(clock * 1000)
    rows += [(k, float(v), end, last) for k, v in final.items() if v is not None]
    return tuple(rows)


def _parent(spec: ExperimentSpec, summary: ModelSummary, comparison: Comparison, runs: Sequence[RunSource],
            params: Mapping[str, str], key: str) -> RunRecord:
    statuses = [r.status for r in runs]
    active = any(s in ACTIVE for s in statuses)
    tags = {EXPERIMENT_TAG: key, RUN_TAG: f"model-{summary.index}", "model_index": str(summary.index),
            "reference": str(summary.is_reference).lower(),
            "beats_baseline": {True: "yes", False: "no", None: "undecided"}[summary.beats_naive],
            "status": "training" if active else "ended",
            "mlflow.note.content": summary.message()[:_MAX_TEXT]}
    now, done = int(time.time() * 1000), summary.seeds_done
    # The means over the model's finished runs under the children's names, so one column sorts both.
    values = {k: summary.mean.get(k) for k in ("rmse", "mae", "mfe", "mda", "skill")}
    values.update({f"{k}_std": summary.std.get(k) for k in ("rmse", "mae")})
    values.update(runs_done=float(done), runs_diverged=float(summary.seeds_diverged))
    rows = tuple((k, float(v), now, done) for k, v in values.items() if v is not None)
    verdict = "\n\n".join(filter(None, [comparison.headline, summary.message()]))
    texts = {"experiment.json": spec.to_json(), "verdict.txt": verdict + "\n", "forecasts.csv": _forecasts_csv(runs)}
    starts = [r.started for r in runs if r.started is not None]
    ends = [r.finished for r in runs if r.finished is not None]
    return RunRecord(f"model-{summary.index}", summary.name, "RUNNING" if active else "FINISHED", params,
                     rows, tags, texts, (), _ms(min(starts, default=None)),
                     None if active else _ms(max(ends, default=None)))


def _forecasts_csv(runs: Iterable[RunSource]) -> str:
    """One row per run and test time: seed, origin, time, actual, forecast, naive."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["seed", "origin", "time", "actual", "forecast", "naive"])
    for source in runs:
        test = source.outcome.test if source.outcome is not None else None
        if test is None:
            continue
        for row in zip(test.time, test.actual, test.forecast, test.naive, strict=False):
            writer.writerow([source.key.seed, source.key.origin, *row])
    return buffer.getvalue()


def _description(spec: ExperimentSpec, comparison: Comparison) -> str:
    lines = [f"**{spec.name}**, exported from LSTM Activation Lab: one parent run per model, one child run "
             "per seed × backtest origin."]
    if comparison.headline:
        lines.append(comparison.headline)
    lines += [f"- {m.verdict}" for m in comparison.models]
    return "\n\n".join(lines)[:_MAX_TEXT]


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1000)
