"""A long series with the page's defaults: how long from Train to the last run, against the
estimate the page shows.

    .venv/bin/python bench/bench_long.py [--rows 2300] [--limit 900] [--rates DIR]

Generates a weekly series (`--rows` points, a yearly season, a trend and noise; as
bench_live.py), lets the page's draft adopt it as an upload does (its settings derived from the
series length, its advised target and lookback), and trains the resulting experiment the way the
dashboard does: a background runner with the page's worker count, warmed first by a 1-run
experiment so its worker has imported TensorFlow. Prints the experiment's shape, the estimate
the Train page shows (`estimate_s`, with the rates `python -m lstm_app calibrate` kept in
`--rates DIR`, else the reference rates), `default_long_s` (submit to the last run's end),
`ratio_estimate` (estimate ÷ measured; goal 0.7–1.3) and where the time went (the engines the
runs took, epochs, seconds in epochs vs in all). After `--limit` s the rest is cancelled and the
time projected from the share of epochs done (said so).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_live import weekly_csv  # noqa: E402

from lstm_app.outcome import ACTIVE  # noqa: E402
from lstm_app.runs import schedule  # noqa: E402
from lstm_app.runs.runner import Runner  # noqa: E402
from lstm_app.spec import ExperimentSpec  # noqa: E402
from lstm_app.ui import forms  # noqa: E402
from lstm_app.ui.draft import Draft  # noqa: E402

__all__ = ["main", "page_default"]


def page_default(content: bytes, name: str = "weekly.csv") -> ExperimentSpec:
    """The experiment the Train page submits for this upload with nothing changed."""
    draft = Draft()
    draft.choose_upload(name, hashlib.sha256(content).hexdigest())
    table = forms.read_upload(name, content)
    draft.adopt(table)
    chosen = draft.chosen(table)
    assert chosen.spec is not None, chosen.error
    window, split, training = forms.build_specs(draft.settings)
    return forms.experiment("long defaults", chosen.spec, [m.spec() for m in draft.models], window, split,
                            training, forms.backtest_of(draft.settings))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2300, help="points of the generated weekly series")
    parser.add_argument("--limit", type=float, default=900.0, help="seconds before the rest is cancelled")
    parser.add_argument("--rates", type=Path, default=None, metavar="DIR",
                        help="a data folder with this machine's rates (`python -m lstm_app calibrate --data-dir`)")
    args = parser.parse_args(argv)
    content = weekly_csv(args.rows)
    spec = page_default(content)
    w, t = spec.window, spec.training
    runs = len(spec.backtest_runs())
    print(f"the page's defaults on a {args.rows}-row weekly series: {len(spec.models)} models × {len(t.seeds)} seeds "
          f"× {spec.backtest.origins} origins = {runs} runs; lookback {w.lookback}, batch {t.batch_size}, "
          f"{t.epochs} epochs (patience {t.patience}), targets {sorted({m.target for m in spec.models})}", flush=True)
    cost = schedule.cost_model(args.rates) if args.rates else schedule.CostModel()
    estimate, plan = schedule.estimate(spec, args.rows, cost=cost)
    print(f"estimate: {plan}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        runner = Runner(Path(tmp) / "runs.sqlite")
        try:
            warm = dataclasses.replace(spec, name="warm-up", models=spec.models[:1],
                                       training=dataclasses.replace(t, epochs=1, seeds=(0,)),
                                       backtest=dataclasses.replace(spec.backtest, origins=1))
            eid = runner.submit(warm, "weekly.csv", content)
            while any(r.status in ACTIVE for r in runner.store.runs(eid)):
                time.sleep(0.2)
            start = time.monotonic()
            eid = runner.submit(spec, "weekly.csv", content)
            cut, done = False, 0
            while any(r.status in ACTIVE for r in runner.store.runs(eid)):
                rows = runner.store.runs(eid)
                if time.monotonic() - start > args.limit and not cut:
                    done = sum(r.epoch for r in rows)
                    runner.cancel_experiment(eid)
                    cut = True
                time.sleep(0.2)
            wall = time.monotonic() - start
            rows = runner.store.runs(eid)
        finally:
            runner.shutdown()
    epochs = sum(r.epoch for r in rows)
    planned = sum(r.epochs_total for r in rows)
    in_runs = sum((r.finished_at or 0) - (r.started_at or 0) for r in rows if r.started_at)
    engines = sorted({f"{r.engine}" for r in rows if r.engine})
    print(f"engines: {', '.join(engines)}; {epochs} epochs trained of {planned} planned (early stopping ends runs "
          f"sooner); {sum(1 for r in rows if r.status == 'done')} of {runs} runs done; run time summed {in_runs:.0f} s")
    if cut:
        share = max(done, 1) / max(planned, 1)
        print(f"cut after {args.limit:.0f} s with {done} of {planned} planned epochs done: projected at least "
              f"{args.limit / share:.0f} s (epochs left as planned, no early stopping)")
        print(f"default_long_s: >{args.limit:.0f}")
        return 0
    print(f"estimate_s: {estimate:.0f}")
    print(f"default_long_s: {wall:.1f}")
    print(f"ratio_estimate: {estimate / wall:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
