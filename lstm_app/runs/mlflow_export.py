"""Export an experiment to an MLflow tracking URI (optional: requirements-mlflow.txt).

    python -m lstm_app export-mlflow EXPERIMENT_ID --data-dir DIR --uri URI
    python -m lstm_app run EXPERIMENT.json --out DIR --mlflow URI

One MLflow experiment per app experiment, one parent run per model and a nested run per seed ×
backtest origin (`_mlflow_plan` says what each holds). Everything is read from the store (or a
headless run's outcomes) and written with `MlflowClient.log_batch`; nothing in the app's store is
changed. Runs are keyed by the app's run id in a tag: a re-export leaves an unchanged run alone,
replaces a child run whose app run changed (re-trained, more epochs) and updates a parent in
place, so nothing is duplicated. Only this module imports MLflow (inside `_client`), so the
package loads without it; every failure (no package, unreachable or refused URI, unwritable
store) is an `ExportError` in one sentence.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ExportError
from ..outcome import RunOutcome, RunStatus
from ..report.compare import Comparison
from ..spec import ExperimentSpec, RunKey
from ..text import quote
from . import _mlflow_plan as plan
from . import schedule
from .results import load_results
from .store import Store

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run

__all__ = ["ExportSummary", "check", "export_outcomes", "export_plan", "export_stored", "stored_plan"]

# Fail fast on an unreachable server instead of MLflow's minutes of retries, and send MLflow no
# usage telemetry from here (the environment wins where it sets these).
_ENV_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
                 "MLFLOW_DISABLE_TELEMETRY": "true"}
_ENDED = frozenset({"FINISHED", "FAILED", "KILLED"})  # MLflow's terminal run statuses
_BATCH_PARAMS, _BATCH_ENTITIES = 100, 1000  # MLflow's log_batch limits (params or tags; everything)


@dataclass(frozen=True)
class ExportSummary:
    """What an export did: the MLflow experiment, and how many runs it created, replaced or left alone."""

    uri: str
    experiment_id: str
    experiment_name: str
    created: int
    replaced: int
    unchanged: int

    def sentence(self) -> str:
        runs = self.created + self.replaced + self.unchanged
        return (f"Exported {runs} runs to MLflow experiment {self.experiment_name!r} (id {self.experiment_id}) at "
                f"{self.uri}: {self.created} new, {self.replaced} updated, {self.unchanged} unchanged.")


def stored_plan(store: Store, experiment_id: int) -> plan.ExportPlan:
    """The export of experiment `experiment_id` as the store has it now."""
    res = load_results(store, experiment_id)
    by_key = {r.key: r for r in res.runs}
    sources = [plan.RunSource(key, str(r.id), r.status, r.message, res.outcomes.get(key),
                              r.engine.value if r.engine else None, r.started_at, r.finished_at,
                              Path(r.model_path) if r.model_path else None)
               for key in res.spec.backtest_runs() if (r := by_key.get(key)) is not None]
    key = f"store:{res.experiment.created_at:.6f}:{experiment_id}"
    return plan.build_plan(res.spec, res.experiment.dataset_sha, sources, res.comparison,
                           key=key, name=f"{res.spec.name} · lab #{experiment_id}")


def export_stored(store: Store, experiment_id: int, uri: str) -> ExportSummary:
    """Export a stored experiment to `uri` (the store is only read)."""
    return export_plan(stored_plan(store, experiment_id), uri)


def export_outcomes(spec: ExperimentSpec, dataset_sha: str, n_rows: int, outcomes: Mapping[RunKey, RunOutcome],
                    failures: Mapping[RunKey, str], comparison: Comparison, uri: str,
                    model_dir: Path | None = None, cost: schedule.CostModel | None = None) -> ExportSummary:
    """Export a headless run (`runs.headless.run_experiment`'s outcomes); its runs are keyed
    `m<model>-s<seed>-o<origin>` under a key made of the spec and the data, so running the same
    file on the same data again updates the same MLflow runs; `cost` is the cost model the run
    planned with, so each run is labelled with the engine that trained it."""
    from .headless import model_file

    engines = {(g.origin, member): g.engine.value for g in schedule.plan_groups(spec, n_rows, cost=cost).groups
               for member in g.members}
    sources = []
    for key in spec.backtest_runs():
        out = outcomes.get(key)
        status = out.status if out is not None else RunStatus.FAILED
        path = model_dir / model_file(spec, key) if model_dir is not None else None
        sources.append(plan.RunSource(key, f"m{key.model}-s{key.seed}-o{key.origin}", status,
                                      out.message if out is not None else failures.get(key, "not run"), out,
                                      engines.get((key.origin, (key.model, key.seed))), model_file=path))
    digest = hashlib.sha256((spec.to_json() + dataset_sha).encode()).hexdigest()[:16]
    return export_plan(plan.build_plan(spec, dataset_sha, sources, comparison, key=f"file:{digest}",
                                       name=f"{spec.name} · {digest[:8]}"), uri)


def check(uri: str) -> None:
    """Raise ExportError unless `uri` answers as an MLflow tracking store (creates a new sqlite store)."""
    with _errors(uri):
        _client(uri).search_experiments(max_results=1)


def export_plan(export: plan.ExportPlan, uri: str) -> ExportSummary:
    """Write `export` to the tracking store at `uri`; ExportError in one sentence when that fails."""
    with _errors(uri):
        client = _client(uri)
        experiment_id, name = _experiment(client, export, uri)
        existing = _existing(client, experiment_id, export.key)
        counts = {"created": 0, "replaced": 0, "unchanged": 0}
        for model in export.models:
            parent, _ = _sync(client, experiment_id, model.parent, existing, None)  # counted: app runs only
            for child in model.children:
                _, outcome = _sync(client, experiment_id, child, existing, parent)
                counts[outcome] += 1
        return ExportSummary(uri, experiment_id, name, **counts)


def _client(uri: str) -> MlflowClient:
    for name, value in _ENV_DEFAULTS.items():
        os.environ.setdefault(name, value)
    logging.getLogger("mlflow").setLevel(logging.WARNING)  # not "Creating initial MLflow database tables..."
    try:
        from mlflow import MlflowClient
    except ImportError:
        raise ExportError("MLflow is not installed: install it with pip install -r requirements-mlflow.txt, "
                          "then export again.") from None
    return MlflowClient(tracking_uri=uri)


def _experiment(client: MlflowClient, export: plan.ExportPlan, uri: str) -> tuple[str, str]:
    """The MLflow experiment of `export.key` (restored when deleted, created when missing)."""
    from mlflow.entities import ViewType

    found = client.search_experiments(view_type=ViewType.ALL,
                                      filter_string=f"tags.`{plan.EXPERIMENT_TAG}` = '{export.key}'")
    if found:
        experiment = found[0]
        if experiment.lifecycle_stage == "deleted":
            client.restore_experiment(experiment.experiment_id)
        experiment_id, name = experiment.experiment_id, experiment.name
    else:
        name = export.name
        if client.get_experiment_by_name(name) is not None:  # another experiment took the name
            name = f"{name} ({export.key[-8:]})"
        experiment_id = client.create_experiment(name, artifact_location=_artifacts(uri, export.key),
                                                 tags={plan.EXPERIMENT_TAG: export.key})
    client.set_experiment_tag(experiment_id, "mlflow.note.content", export.description)
    # MLflow 3's UI shows an experiment of this kind as model training (runs, params, metrics), not GenAI.
    client.set_experiment_tag(experiment_id, "mlflow.experimentKind", "custom_model_development")
    return experiment_id, name


def _artifacts(uri: str, key: str) -> str | None:
    """Beside a local sqlite file, `mlartifacts/<key>`; a server chooses its own (None)."""
    db = uri.removeprefix("sqlite:///").split("?", 1)[0] if uri.startswith("sqlite:///") else ""
    if not db or db == ":memory:":
        return None
    folder = Path(db).expanduser().resolve().parent / "mlartifacts" / re.sub(r"[^A-Za-z0-9_.-]", "_", key)
    return folder.as_uri()


def _existing(client: MlflowClient, experiment_id: str, key: str) -> dict[str, Run]:
    """The experiment's exported runs by their app run tag; extra copies (an interrupted export) deleted."""
    runs: dict[str, Run] = {}
    token: str | None = None
    while True:
        page = client.search_runs([experiment_id], filter_string=f"tags.`{plan.EXPERIMENT_TAG}` = '{key}'",
                                  max_results=1000, page_token=token)
        for run in page:
            tag = run.data.tags.get(plan.RUN_TAG)
            if tag is None:
                continue
            if tag in runs:
                client.delete_run(run.info.run_id)
                continue
            runs[tag] = run
        token = page.token
        if not token:
            return runs


def _sync(client: MlflowClient, experiment_id: str, record: plan.RunRecord, existing: dict[str, Run],
          parent: str | None) -> tuple[str, str]:
    """Write one run unless an unchanged copy exists: (MLflow run id, created|replaced|unchanged)."""
    found = existing.get(record.tag)
    fingerprint = record.fingerprint
    if found is not None and found.data.tags.get(plan.FINGERPRINT_TAG) == fingerprint:
        return found.info.run_id, "unchanged"
    if found is not None and parent is None:  # a parent keeps its id, so its children stay under it
        _write(client, found.info.run_id, record, fingerprint, set(found.data.params))
        return found.info.run_id, "replaced"
    if found is not None:
        client.delete_run(found.info.run_id)
    tags = {**record.tags, **({"mlflow.parentRunId": parent} if parent else {})}
    run = client.create_run(experiment_id, start_time=record.start_ms, tags=tags, run_name=record.name)
    _write(client, run.info.run_id, record, fingerprint, set())
    return run.info.run_id, "created" if found is None else "replaced"


def _write(client: MlflowClient, run_id: str, record: plan.RunRecord, fingerprint: str, logged: set[str]) -> None:
    """Artifacts first, then params, metrics and tags in as few batches as MLflow allows (one for
    a run of up to ~400 epochs), the fingerprint in the last (a run cut short has none, so the
    next export writes it again), then the status."""
    if record.texts or record.files:
        with _folder(record.texts, record.files) as folder:
            client.log_artifacts(run_id, str(folder))
    from mlflow.entities import Metric, Param, RunTag

    params = [Param(k, v) for k, v in record.params.items() if k not in logged]
    metrics = [Metric(k, v, t, s) for k, v, t, s in record.metrics]
    tags = [RunTag(k, v) for k, v in record.tags.items()]
    batches = list(_batches(params, metrics, tags))
    if len(batches[-1][2]) == _BATCH_PARAMS:
        batches.append(([], [], []))
    batches[-1][2].append(RunTag(plan.FINGERPRINT_TAG, fingerprint))
    for p, m, t in batches:
        client.log_batch(run_id, metrics=m, params=p, tags=t)
    if record.status in _ENDED:  # without an end time of its own (a headless run), now
        client.set_terminated(run_id, status=record.status, end_time=record.end_ms)
    else:
        client.update_run(run_id, status=record.status)


Batch = tuple[list[Any], list[Any], list[Any]]


def _batches(params: Sequence[Any], metrics: Sequence[Any], tags: Sequence[Any]) -> Iterator[Batch]:
    """(params, metrics, tags) within MLflow's log_batch limits: ≤ 100 params, ≤ 100 tags, ≤ 1,000
    entities; at least one batch, so the fingerprint has one to go in."""
    p, m, t = list(params), list(metrics), list(tags)
    while True:
        room = _BATCH_ENTITIES - min(len(p), _BATCH_PARAMS) - min(len(t), _BATCH_PARAMS)
        yield p[:_BATCH_PARAMS], m[:room], t[:_BATCH_PARAMS]
        p, m, t = p[_BATCH_PARAMS:], m[room:], t[_BATCH_PARAMS:]
        if not (p or m or t):
            return


@contextmanager
def _folder(texts: Mapping[str, str], files: Sequence[Path]) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="lstm-lab-mlflow-") as tmp:
        folder = Path(tmp)
        for name, text in texts.items():
            (folder / name).write_text(text, encoding="utf-8")
        for path in files:
            shutil.copyfile(path, folder / path.name)
        yield folder


@contextmanager
def _errors(uri: str) -> Iterator[None]:
    """Any failure of MLflow or the network as one ExportError sentence that names the URI."""
    try:
        yield
    except ExportError:
        raise
    except Exception as exc:
        sentence = _sentence(uri, exc)
        if sentence is None:
            raise
        raise ExportError(sentence) from None


_UNREACHABLE = ("Max retries exceeded", "Failed to establish a new connection", "Connection refused",
                "Name or service not known", "timed out")
_REFUSED_CODES = {"PERMISSION_DENIED", "UNAUTHENTICATED"}


def _sentence(uri: str, exc: Exception) -> str | None:
    """The one sentence for a failure of MLflow or the network, None for anything else (a bug)."""
    shown, text, kind = quote(uri, 80), str(exc), type(exc).__name__
    if (isinstance(exc, PermissionError) or getattr(exc, "error_code", None) in _REFUSED_CODES
            or re.search(r"error code (401|403)\b", text) or "readonly database" in text):
        return (f"MLflow at {shown} refused the export (permission denied): check its credentials "
                "(MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD) or that the store is writable.")
    if any(s in text for s in ("unsupported URI", "registered tracking store", "filesystem tracking backend")):
        return (f"{shown} is not an MLflow tracking URI this export can use: give http(s)://HOST:PORT of an MLflow "
                "server or sqlite:///PATH of a local store.")
    # before OSError: requests' connection errors are OSErrors too
    if any(s in text for s in _UNREACHABLE) or kind in {"ConnectionError", "Timeout", "ReadTimeout"}:
        return (f"The MLflow server at {shown} cannot be reached: start it (mlflow server) or check the URI, "
                "then export again.")
    if isinstance(exc, OSError) or kind == "OperationalError":
        reason = getattr(exc, "strerror", None) or "it cannot be opened"
        if getattr(exc, "errno", None) in (errno.EEXIST, errno.ENOTDIR):
            reason = "a file stands where its folder should be"
        return f"The MLflow store {shown} cannot be written ({reason}): choose a folder you may write to."
    if kind in {"MlflowException", "RestException"}:
        first = (text.strip().splitlines() or [kind])[0][:200].rstrip(".")
        return f"MLflow at {shown} refused the export ({first})."
    return None
