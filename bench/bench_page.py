"""Benchmark page reruns as the history grows: AppTest reruns with a 60-run experiment open.

    .venv/bin/python bench/bench_page.py [--small 10] [--large 1000] [--runs 20] [--reruns 10] [--profile FILE]

Builds two run stores in a temporary folder — `--small` and `--large` experiments of `--runs`
finished runs each, written directly as finished outcomes (no training), plus five 60-run
experiments (3 models × 20 seeds) — opens the first 60-run experiment's Compare page in
Streamlit's AppTest (`open_cold_ms_N`: a fresh process, imports included), then opens the other
four from the sidebar's history as a user does (`open_ms_N`: the median, server-side, page warm,
that experiment never opened before) and times `--reruns` reruns (the median). Prints
`rerun_ms_10: …`, `rerun_ms_1000: …`, `open_ms: …` (the slower of the two stores) and, last,
`scaling: X` (the ratio of the rerun times). Goals: a rerun ≤ 150 ms at 1,000 experiments,
scaling ≤ 1.2, opening ≤ 300 ms. `--profile FILE` writes a cProfile of the last open
(large store) for `python -m pstats FILE`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import numpy as np  # noqa: E402

from factories import make_future, make_layer_stats, make_outcome, make_regions  # noqa: E402
from lstm_app.data.samples import sample_path  # noqa: E402
from lstm_app.outcome import EpochRow  # noqa: E402
from lstm_app.presets import HOTEL_H2  # noqa: E402
from lstm_app.runs.store import DATA_ENV, Store  # noqa: E402
from lstm_app.spec import (  # noqa: E402
    DataSpec,
    ExperimentSpec,
    LayerSpec,
    ModelSpec,
    SplitSpec,
    TrainingSpec,
    WindowSpec,
)
from lstm_app.ui import PageState  # noqa: E402

__all__ = ["main"]
PAGE = str(ROOT / "dashboard.py")


def _spec(name: str, models: int, seeds: int) -> ExperimentSpec:
    acts = ("tanh", "relu", "elu")
    return ExperimentSpec(
        name, DataSpec(HOTEL_H2, "Cancellations", "Date"),
        tuple(ModelSpec(acts[i % 3] + (f" {i}" if i >= 3 else ""), (LayerSpec(4, acts[i % 3]),))
              for i in range(models)),
        WindowSpec(lookback=5, framing="features", future_steps=4), SplitSpec(10),
        TrainingSpec(epochs=20, batch_size=16, seeds=tuple(range(seeds)), patience=0),
    )


def _fill(store: Store, sha: str, spec: ExperimentSpec, rng: np.random.Generator) -> int:
    eid = store.create_experiment(spec, sha)
    runs = store.runs(eid)
    store.claim_runs(1, [r.id for r in runs], "batched", "bench")
    import pandas as pd

    times = [t.isoformat() for t in pd.date_range("2015-06-21", periods=115, freq="W-SUN")]
    actual = 100 + 40 * rng.random(115)
    for r in runs:
        forecast = actual[105:] + rng.normal(0, 20, 10)
        # every run its own curves, as real runs have (identical charts would be cached by the browser)
        noise = 1 + 0.2 * rng.random((20, 4))
        epochs = [EpochRow(e, noise[e - 1, 0] / e, 1.2 * noise[e - 1, 1] / e, 0.02,
                           (0.1 * noise[e - 1, 2], 0.2 * noise[e - 1, 3])) for e in range(1, 21)]
        outcome = make_outcome(
            time=times[105:], actual=actual[105:], forecast=forecast, previous=float(actual[104]),
            regions=make_regions(times, 80, 105), future=make_future(
                [t.isoformat() for t in pd.date_range(times[-1], periods=5, freq="W-SUN")[1:]],
                list(actual[-4:])), layers=[make_layer_stats()], epochs=epochs, params=165,
            seconds_per_epoch=0.03)
        store.finish(r.id, outcome)
    return eid


OPENS = 5  # 60-run experiments per store: the first opens cold, the other four are timed as opens


def build(folder: Path, experiments: int, runs: int, opens: int = OPENS) -> list[int]:
    """A store of `experiments` × `runs` finished runs plus `opens` 60-run experiments; their ids."""
    store = Store(folder / "runs.sqlite")
    sha = store.put_dataset(sample_path(HOTEL_H2.removeprefix("sample:")).name,
                            sample_path(HOTEL_H2.removeprefix("sample:")).read_bytes())
    rng = np.random.default_rng(0)
    for i in range(experiments):
        _fill(store, sha, _spec(f"history {i}", 2, runs // 2), rng)
    return [_fill(store, sha, _spec(f"sixty {k}", 3, 20), rng) for k in range(opens)]


@contextlib.contextmanager
def _profiled(path: Path | None) -> Iterator[None]:
    """With a path, profile the script runs (on AppTest's script thread) inside the block into it."""
    if path is None:
        yield
        return
    import cProfile

    from streamlit.runtime.scriptrunner.script_runner import ScriptRunner

    profiler, original = cProfile.Profile(), ScriptRunner._run_script

    def run(self: Any, rerun_data: Any) -> None:
        profiler.runcall(original, self, rerun_data)

    ScriptRunner._run_script = run  # type: ignore[method-assign]
    try:
        yield
    finally:
        ScriptRunner._run_script = original  # type: ignore[method-assign]
        profiler.dump_stats(path)


def measure(folder: Path, eids: list[int], reruns: int, profile: Path | None = None) -> tuple[float, float, float]:
    """(first Compare render ms in a fresh process, median ms to open another 60-run experiment
    from the sidebar with the page already warm, median rerun ms) in AppTest."""
    from streamlit.testing.v1 import AppTest

    from lstm_app.runs import runner as jobs

    os.environ[DATA_ENV] = str(folder)
    try:
        at = AppTest.from_file(PAGE, default_timeout=120)
        at.query_params["experiment"] = str(eids[0])
        at.run()
        start = time.perf_counter()
        at.switch_page("app_pages/compare.py").run()
        cold = (time.perf_counter() - start) * 1000
        assert not at.exception, [e.value for e in at.exception]
        opens = []
        for eid in eids[1:]:
            at.sidebar.selectbox(key="history_pick").set_value(eid)
            with _profiled(profile if eid == eids[-1] else None):
                start = time.perf_counter()
                at.run()
                opens.append((time.perf_counter() - start) * 1000)
            assert not at.exception, [e.value for e in at.exception]
            assert PageState(at.session_state).experiment_id == eid and len(at.get("plotly_chart")) >= 5
        times = []
        for _ in range(reruns):
            start = time.perf_counter()
            at.run()
            times.append((time.perf_counter() - start) * 1000)
        return cold, statistics.median(opens), statistics.median(times)
    finally:
        jobs.shutdown_all()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--large", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--reruns", type=int, default=10)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the last timed open here (large store)")
    parser.add_argument("--measure", nargs=2, metavar=("FOLDER", "EIDS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:  # the child process: one store, measured in a fresh interpreter
        folder, ids = args.measure
        print(json.dumps(measure(Path(folder), [int(i) for i in ids.split(",")], args.reruns, args.profile)))
        return 0
    results, opened = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (args.small, args.large):
            folder = Path(tmp) / f"store-{n}"
            start = time.perf_counter()
            eids = build(folder, n, args.runs)
            print(f"built {n} experiments × {args.runs} runs + {OPENS} × 60 in {time.perf_counter() - start:.0f} s",
                  flush=True)
            # Each store is measured in a fresh interpreter, so neither pays for the other's caches
            # and garbage (measured in one process, the second store's reruns came out ~40% slower).
            child = [sys.executable, __file__, "--measure", str(folder), ",".join(map(str, eids)),
                     "--reruns", str(args.reruns)]
            if args.profile and n == args.large:
                child += ["--profile", str(args.profile)]
            out = subprocess.run(child, capture_output=True, text=True, check=True).stdout
            cold, opens, rerun = json.loads(out.strip().splitlines()[-1])
            results[n] = rerun
            opened.append(opens)
            print(f"open_cold_ms_{n}: {cold:.0f}")
            print(f"open_ms_{n}: {opens:.0f}")
            print(f"rerun_ms_{n}: {rerun:.0f}", flush=True)
    print(f"open_ms: {max(opened):.0f}")
    print(f"scaling: {results[args.large] / results[args.small]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
