"""Benchmark a worker's start-up: loading Keras and TensorFlow the product's way against plainly.

    .venv/bin/python bench/bench_startup.py [--repeats 5]

Every worker process (and the CLI) pays this once before its first epoch. `lstm_app.engine`
loads Keras with scikit-learn and matplotlib hidden (Keras imports both when installed, for
wrappers and a plot the product never uses); the plain alternative is `import keras, tensorflow`.
Each is a fresh interpreter, alternated `--repeats` times; the figure is the child's CPU time
(user + system, from `resource.getrusage`), which a busy machine inflates less than wall time.
Prints the medians and their ratio (product / plain; below 1 is faster).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CASES = {
    "plain": "import keras, tensorflow",
    "product": "import lstm_app.engine",
}


def _one(code: str) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of a fresh interpreter running `code`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cpu: dict[str, list[float]] = {name: [] for name in CASES}
    wall: dict[str, list[float]] = {name: [] for name in CASES}
    _one(CASES["plain"])  # warm the page cache for both
    for _ in range(args.repeats):
        for name, code in CASES.items():
            c, w = _one(code)
            cpu[name].append(c)
            wall[name].append(w)
    for name in CASES:
        print(f"{name:8s} median CPU {statistics.median(cpu[name]):.2f} s, wall {statistics.median(wall[name]):.2f} s "
              f"({CASES[name]})")
    print(f"ratio_startup_cpu {statistics.median(cpu['product']) / statistics.median(cpu['plain']):.2f}  "
          f"ratio_startup_wall {statistics.median(wall['product']) / statistics.median(wall['plain']):.2f}")


if __name__ == "__main__":
    main()
