"""Headless command line: ``python -m lstm_app inspect|params|run|export-mlflow|calibrate ...``.

Each subcommand is one function that adds its parser and sets ``func`` to its handler; list the
function in `SUBCOMMANDS`. Handlers return the exit code. A `LabError` from any handler becomes
``error: <sentence>`` on stderr and exit code 2. This module does not import TensorFlow: a command
that trains must import `lstm_app.engine.train` inside its handler.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import data, feasible, params, windows
from .data import samples
from .errors import LabError, SpecError
from .runs import Store, default_path, parse_executor, schedule
from .runs.store import data_dir
from .spec import (
    ACTIVATIONS,
    FRAMINGS,
    MAX_JSON_BYTES,
    MAX_ORIGINS,
    BacktestSpec,
    ExperimentSpec,
    LayerSpec,
    ModelSpec,
    RunKey,
)
from .text import quote

if TYPE_CHECKING:
    from .outcome import RunOutcome
    from .report.compare import Comparison

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

EXIT_USER_ERROR = 2


def _add_inspect(sub: Any) -> None:
    p = sub.add_parser(
        "inspect",
        help="describe a CSV: rows, time column, frequency, numeric columns, missing values, gaps",
        description="Read a CSV the way the dashboard does and describe what was found.",
    )
    p.add_argument("file", help="a CSV path, or sample:NAME for a bundled sample (" + ", ".join(samples.SAMPLES) + ")")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--target", metavar="COL", help="also check COL as the target under the missing-value policy")
    p.set_defaults(func=_inspect)




def _int_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 100,50, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one integer")
    return values


def _add_params(sub: Any) -> None:
    p = sub.add_parser(
        "params",
        help="count a stacked LSTM's parameters per layer, formula filled in",
        description="Closed-form parameter count, 4·m·(m+p+1) per LSTM layer, 0 for an activation between "
                    "layers, plus the dense head; no TensorFlow needed.",
    )
    p.add_argument("--units", type=_int_list, required=True, metavar="M1,M2,...", help="units per LSTM layer")
    p.add_argument("--features", type=int, default=1, help="input columns per time step (default 1)")
    p.add_argument("--between", choices=sorted(ACTIVATIONS), help="activation layer between the LSTM layers")
    p.add_argument("--activation", choices=sorted(ACTIVATIONS), default="tanh", help="cell activation")
    p.add_argument("--dense", type=_int_list, default=(), metavar="D1,...", help="hidden Dense layers before Dense(1)")
    p.add_argument("--lookback", type=int, default=12, help="window length (matters only for --framing features)")
    p.add_argument("--framing", choices=sorted(FRAMINGS), default="steps",
                   help="steps: input (lookback, features); features: input (1, lookback × features)")
    p.set_defaults(func=_params)


def _params(args: argparse.Namespace) -> int:
    if args.features < 1 or args.lookback < 1:
        raise SpecError("Received an invalid value for argument `features`/`lookback`, expected a positive "
                        f"integer, got {min(args.features, args.lookback)}.")
    model = ModelSpec("cli", tuple(LayerSpec(u, args.activation) for u in args.units),
                      between=args.between, dense=args.dense)
    rows = params.count_layers(model, args.features, args.lookback, args.framing)
    shape = params.input_shape(args.features, args.lookback, args.framing)
    print(f"{model.describe()}")
    print(f"input shape {shape} ({FRAMINGS[args.framing]})")
    width = max(len(r.label) for r in rows)
    for r in rows:
        print(f"  {r.label:<{width}}  {r.params:>12,}   {r.formula}")
    if args.framing == "steps":
        print("The count does not depend on the lookback with lags as time steps.")
    else:
        other = params.total(model, args.features, args.lookback, "steps")
        print(f"With lags as features the first layer sees {shape[1]} inputs per step; "
              f"as time steps the total would be {other:,}.")
    print(f"total: {sum(r.params for r in rows)}")
    return 0


def _add_run(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="train every model × seed (× backtest origin) of an experiment file and write results.json + metrics.csv",
        description="Train an experiment headless (the same code the dashboard's workers run), print the "
                    "metrics table (mean ± std over seeds, naive baseline row) and the verdicts.",
    )
    p.add_argument("experiment", type=Path, help="an experiment JSON file (exported from the page or written by hand)")
    p.add_argument("--data", type=Path, help="CSV to use instead of the experiment's data source")
    p.add_argument("--out", type=Path, required=True, help="folder for results.json, metrics.csv, summary.csv")
    p.add_argument("--seeds", type=_int_list, help="override the seeds, e.g. 0,1,2,3,4")
    p.add_argument("--epochs", type=int, help="override the number of epochs")
    p.add_argument("--origins", type=_origins, metavar="K|auto",
                   help="rolling-origin backtest: K forecast origins on an expanding window (1 = one split), "
                        "or auto to choose from the series length")
    p.add_argument("--save-models", action="store_true", help="also save each trained model as .keras in --out")
    p.add_argument("--executor", default="local", metavar="local|ray[=ADDRESS]",
                   help="local (default): train here, in this process; ray: one Ray task per run group, on a Ray "
                        "started here, or on the cluster at ADDRESS (ray://HOST:10001, or auto)")
    p.add_argument("--mlflow", metavar="URI", help="also export the results to this MLflow tracking URI "
                   "(http://HOST:PORT or sqlite:///PATH; needs requirements-mlflow.txt)")
    p.set_defaults(func=_run)


def _origins(text: str) -> int | str:
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number of origins (1 to {MAX_ORIGINS}) or auto, got {text!r}") from None
    if not 1 <= value <= MAX_ORIGINS:
        raise argparse.ArgumentTypeError(f"expected a number of origins from 1 to {MAX_ORIGINS}, got {value}")
    return value


def _read_experiment(path: Path) -> ExperimentSpec:
    """The experiment file, its size checked before it is read."""
    if not path.is_file():
        raise SpecError(f"The experiment file {quote(path, 80)} does not exist.")
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise SpecError(f"The experiment file {quote(path, 80)} has {size:,} bytes, more than the "
                            f"{MAX_JSON_BYTES:,} bytes an experiment may have: check that it is an experiment file.")
        content = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"The experiment file {quote(path, 80)} could not be read ({exc.strerror}).") from None
    return ExperimentSpec.from_json(content)


def _check_out(out: Path) -> None:
    """Create the results folder, or refuse it in one sentence, before anything trains."""
    if out.exists() and not out.is_dir():
        raise LabError(f"--out {quote(out, 80)} is a file, not a folder: give a folder for the results.")
    above = next((p for p in out.parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise LabError(f"--out {quote(out, 80)} lies under {quote(above, 80)}, which is a file, not a folder: "
                       "give a folder for the results.")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass  # creating a file is the one reliable test (permissions, read-only disks, root)
    except OSError as exc:
        raise LabError(f"The results folder {quote(out, 80)} cannot be written ({exc.strerror or exc}): "
                       "choose a folder you may write to.") from None


def _run(args: argparse.Namespace) -> int:
    from .runs import headless

    path: Path = args.experiment
    spec = _read_experiment(path)
    changes: dict[str, Any] = {}
    if args.seeds is not None:
        changes["seeds"] = args.seeds
    if args.epochs is not None:  # 0 and negatives are refused by TrainingSpec, not ignored
        changes["epochs"] = args.epochs
    if changes:
        spec = dataclasses.replace(spec, training=dataclasses.replace(spec.training, **changes))
    params.check_budget(spec)
    executor = parse_executor(args.executor)
    _check_out(args.out)
    if args.mlflow:  # before training: an unreachable URI is said now, not after the runs
        from .runs import mlflow_export

        mlflow_export.check(args.mlflow)
    table, frame, notes = headless.load_data(spec, args.data, base=path.parent)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if args.origins is not None:
        t = spec.training
        origins = (windows.suggest_origins(len(frame), spec.window, spec.split, t.validation_share)
                   if args.origins == "auto" else int(args.origins))
        spec = dataclasses.replace(spec, backtest=BacktestSpec(origins))
    feasible.check(spec, frame)
    runs, k = len(spec.backtest_runs()), spec.backtest.origins
    across = f" × {k} backtest origins" if k > 1 else ""
    print(f"{spec.name}: {len(spec.models)} models × {len(spec.training.seeds)} seeds{across} = {runs} runs on "
          f"{table.name} ({len(frame)} rows, target {spec.data.target})", flush=True)
    if executor.kind == "local":
        print("executor: local (this process)", flush=True)
        outcomes, failures = headless.run_experiment(
            spec, frame, progress=lambda line: print(line, flush=True),
            model_dir=args.out if args.save_models else None, cost=schedule.cost_model(data_dir()))
    else:
        from .runs import run_on_executor

        source = args.data if args.data is not None else samples.resolve(spec.data.source, base=path.parent)
        outcomes, failures = run_on_executor(spec, table.name, data.load_bytes(source), executor,
                                             progress=lambda line: print(line, flush=True),
                                             model_dir=args.out if args.save_models else None)
    try:
        comparison = headless.write_results(args.out, spec, table, outcomes, failures)
    except OSError as exc:
        raise LabError(f"The results could not be written to {quote(args.out, 80)} ({exc.strerror or exc}): "
                       "check the free space and permissions there, then run again.") from None
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print()
        print(comparison.table().to_string())
    print()
    if comparison.headline:
        print(comparison.headline)
    for m in comparison.models:
        print(f"- {m.verdict}")
        if m.rmse_h is not None:
            from .report import stats

            said = {True: "beats", False: "does not beat", None: "is undecided against"}[m.beats_naive_h]
            print(f"    (over 1–{m.horizon} steps: RMSE {stats.format_number(m.rmse_h, comparison.decimals)}; "
                  f"{said} the best baseline)")
        for warning in m.warnings:
            print(f"    ({warning})")
    print(f"\nwrote {args.out / 'results.json'}, {args.out / 'metrics.csv'}, {args.out / 'summary.csv'}")
    if args.mlflow:
        _to_mlflow(args, spec, path, len(frame), outcomes, failures, comparison)
    return 1 if failures and not outcomes else 0


def _to_mlflow(args: argparse.Namespace, spec: ExperimentSpec, path: Path, n_rows: int,
               outcomes: Mapping[RunKey, RunOutcome], failures: Mapping[RunKey, str], comparison: Comparison) -> None:
    from .runs import mlflow_export

    source = args.data if args.data is not None else samples.resolve(spec.data.source, base=path.parent)
    sha = hashlib.sha256(data.load_bytes(source)).hexdigest()
    summary = mlflow_export.export_outcomes(spec, sha, n_rows, outcomes, failures, comparison, args.mlflow,
                                            args.out if args.save_models else None,
                                            cost=schedule.cost_model(data_dir()))
    print(summary.sentence())


def _add_export_mlflow(sub: Any) -> None:
    p = sub.add_parser(
        "export-mlflow",
        help="export an experiment of the page's run store to an MLflow tracking URI",
        description="One MLflow experiment per experiment, a parent run per model, a nested run per seed × origin "
                    "(params, per-epoch losses, metrics, forecasts, models, verdicts). Re-exporting updates it.",
    )
    p.add_argument("experiment_id", type=int, metavar="EXPERIMENT_ID", help="the experiment's id (?experiment=ID)")
    p.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                   help="the page's data folder, which holds runs.sqlite (default: $LSTM_LAB_DATA or ./lab-data)")
    p.add_argument("--uri", required=True, help="the MLflow tracking URI: http(s)://HOST:PORT or sqlite:///PATH")
    p.set_defaults(func=_export_mlflow)


def _export_mlflow(args: argparse.Namespace) -> int:
    from .runs import mlflow_export

    db = (args.data_dir / "runs.sqlite") if args.data_dir is not None else default_path()
    if not db.is_file():
        raise LabError(f"There is no run store {quote(db, 80)}: give --data-dir the page's data folder "
                       "(the one that holds runs.sqlite).")
    print(mlflow_export.export_stored(Store(db), args.experiment_id, args.uri).sentence())
    return 0


def _add_calibrate(sub: Any) -> None:
    p = sub.add_parser(
        "calibrate",
        help="measure this machine's training speed on both engines and keep it for the scheduler",
        description="Trains a tiny and a compute-bound LSTM for a few epochs on each engine (under a minute), then "
                    f"keeps each engine's per-step overhead and FLOP rate in DIR/{schedule.RATES_FILE}. The workers "
                    "started on that folder, the page's time estimate and `run` choose engines with them.",
    )
    p.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                   help="the data folder (default: $LSTM_LAB_DATA or ./lab-data)")
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="TensorFlow threads (default: a page worker's, the cores divided among the workers)")
    p.add_argument("--quick", action="store_true", help="a rougher, shorter measurement")
    p.set_defaults(func=_calibrate)


def _calibrate(args: argparse.Namespace) -> int:
    import os

    from .runs.runner import default_concurrency

    folder = args.data_dir.expanduser().resolve() if args.data_dir is not None else data_dir()
    threads = max(1, args.threads or (os.cpu_count() or 1) // default_concurrency())
    for name in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS"):
        os.environ[name] = str(threads)  # before TensorFlow loads, as a worker does
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    from .runs import calibrate

    try:
        folder.mkdir(parents=True, exist_ok=True)
        writable = os.access(folder, os.W_OK)
    except OSError:
        writable = False
    if not writable:  # said before a minute of measuring, not after
        raise LabError(f"The rates cannot be written to {quote(folder, 80)}: give --data-dir a folder you can "
                       "write to.")
    took = "a few seconds" if args.quick else "under a minute"
    print(f"measuring both engines with {threads} thread(s) on {schedule.machine()} ({took})...", flush=True)
    measured = calibrate.measure(windows=160, timed=1) if args.quick else calibrate.measure()
    before, fields = schedule.cost_model(folder), measured["fields"]
    for key in schedule.RATE_FIELDS:
        unit, scale = ("GFLOP/s", 1e-9) if key.endswith("rate") else ("ms per step", 1e3)
        print(f"  {key:17s} {fields[key] * scale:9.3f} {unit} (was {getattr(before, key) * scale:.3f})")
    try:
        path = schedule.save_rates(folder, fields, measured["seconds_per_step"])
    except OSError as exc:
        raise LabError(f"The rates could not be written to {quote(folder, 80)} ({exc.strerror or exc}): check "
                       "the permissions and free space there, or give another --data-dir.") from None
    print(f"wrote {path}")
    return 0


SUBCOMMANDS: list[Callable[[Any], None]] = [_add_inspect, _add_params, _add_run, _add_export_mlflow, _add_calibrate]


def _inspect(args: argparse.Namespace) -> int:
    table = data.read_csv(samples.resolve(args.file, base=Path.cwd()))
    summary = table.summary()
    if args.target is not None:
        summary = dataclasses.replace(summary, target=data.target_summary(table, args.target))
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(_format(summary))
    return 0


def _format(s: data.TableSummary) -> str:
    freq = s.frequency_label + (f" ({s.frequency})" if s.frequency else "")
    missing = ", ".join(f"{c} {n}" for c, n in s.missing.items() if n) or "none"
    rows = [
        ("File", s.name),
        ("Rows", str(s.rows) + (f" ({s.dropped} dropped: time not readable)" if s.dropped else "")),
        ("Time column", s.time_column or "none (rows used in file order)"),
        ("Frequency", freq),
        ("Date range", f"{s.start} to {s.end}" if s.start else "n/a"),
        ("Numeric columns", ", ".join(s.numeric_columns)),
        ("Target candidate", s.target_candidate),
        ("Ignored columns", ", ".join(s.text_columns) or "none"),
        ("Missing values", missing),
        ("Duplicates", f"{s.duplicates} duplicate timestamp(s), last row kept"),
        ("Gaps", f"{s.gaps} missing step(s) in the time axis, not filled"),
    ]
    if (t := s.target) is not None:
        rows.append(("Target", f"{t.column}: {t.rows} rows after the missing-value policy "
                               f"({t.trimmed} trimmed, {t.filled} interpolated); "
                               f"min {t.min:g}, max {t.max:g}, mean {t.mean:g}"))
    width = max(len(k) for k, _ in rows) + 2
    lines = [f"{k + ':':<{width}}{v}" for k, v in rows]
    if s.notes:
        lines.append("Notes:")
        lines.extend(f"  - {n}" for n in s.notes)
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand in `SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="python -m lstm_app",
        description="LSTM Activation Lab, headless: inspect CSVs and compare activations in stacked LSTMs.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand and return its exit code (2 for an error the user can fix)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USER_ERROR
    try:
        return int(args.func(args))
    except LabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
