"""Benchmark the target advice (ADF, KPSS, STL) on every bundled sample, against its budget.

    .venv/bin/python bench/bench_advice.py [--repeat 5]

For each bundled sample: the best of `--repeat` calls of `ui.advice.advise` (statsmodels' import
paid once before), in seconds, and its ratio to the page's budget of 0.5 s per call (the page
advises on every new data choice). The tests check what the advice says, never how long it takes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lstm_app.data import read_csv, series  # noqa: E402  (after the path insert)
from lstm_app.data.samples import SAMPLES, sample_path  # noqa: E402
from lstm_app.ui.advice import advise  # noqa: E402
from lstm_app.ui.forms import suggested  # noqa: E402

BUDGET = 0.5  # seconds per call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for name in SAMPLES:
        table = read_csv(sample_path(name).read_bytes(), name=name)
        frame = series(table, table.target_candidate, [])
        advise(frame, suggested(len(frame)))  # statsmodels' import and first calls
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            advice = advise(frame, suggested(len(frame)))
            best = min(best, time.perf_counter() - start)
        print(f"{name}: {best:.3f} s ({best / BUDGET:.2f}× the {BUDGET:g} s budget) -> {advice.target}")


if __name__ == "__main__":
    main()
