"""Load test of the background runner: 40 runs submitted at once, on real workers and a real store.

    .venv/bin/python bench/bench_load.py [--runs 40] [--epochs 5] [--concurrency N] [--csv-rows 1050000]

Submits `--runs` single-run experiments at once (each one a separate claim, so the queue, the
claims and the settling are exercised `--runs` times) and, for comparison, the same number of runs
as one experiment of that many seeds (one batched group). For each it prints the wall time and
throughput, then checks that nothing was lost or doubled: every run ended *done* in its first
attempt with exactly the epoch rows 1..n once, no epoch row of another attempt, and no refused
write. While the separate runs train, a sampler reads each worker's resident memory after every
run it finishes and prints the growth per run (the runner recycles a worker past
`max_memory_mb`). Finally it runs `bench_csv.py` once: the time and peak memory to read a ~50 MB
CSV. Numbers and ratios only; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_csv  # noqa: E402
from bench_runner import _csv, _spec  # noqa: E402

from lstm_app.outcome import ACTIVE, RunStatus  # noqa: E402
from lstm_app.runs.runner import Runner, default_concurrency  # noqa: E402

__all__ = ["main"]


def _rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * 4096 / 2**20
    except (OSError, ValueError, IndexError):
        return None


class _Sampler(threading.Thread):
    """Every 0.3 s: each live worker's RSS and how many runs it has finished; keeps, per worker,
    the RSS seen right after each new finished run."""

    def __init__(self, runner: Runner) -> None:
        super().__init__(daemon=True)
        self.runner, self.stop = runner, threading.Event()
        self.after_run: dict[int, list[tuple[int, float]]] = {}

    def run(self) -> None:
        con = sqlite3.connect(self.runner.store.path, timeout=10)
        while not self.stop.wait(0.3):
            done = dict(con.execute(
                "SELECT worker_pid, COUNT(*) FROM runs WHERE status = 'done' GROUP BY worker_pid").fetchall())
            for pid in self.runner.worker_pids():
                rss = _rss_mb(pid)
                seen = self.after_run.setdefault(pid, [])
                n = done.get(pid, 0)
                if rss is not None and n and (not seen or seen[-1][0] < n):
                    seen.append((n, rss))
        con.close()

    def growth_per_run(self) -> tuple[float, int] | None:
        """MB per run between each worker's first and last sample (its TensorFlow load excluded)."""
        spans = [(s[-1][1] - s[0][1], s[-1][0] - s[0][0]) for s in self.after_run.values() if len(s) >= 2]
        runs = sum(n for _, n in spans)
        return (sum(mb for mb, _ in spans) / runs, runs) if runs else None


def _check(runner: Runner, experiment_ids: list[int]) -> list[str]:
    """What was lost or doubled (empty when nothing)."""
    problems = []
    store = runner.store
    with sqlite3.connect(store.path) as con:
        for eid in experiment_ids:
            for run in store.runs(eid):
                rows = con.execute("SELECT attempt, epoch FROM epochs WHERE run_id = ? ORDER BY attempt, epoch",
                                   (run.id,)).fetchall()
                if run.status != RunStatus.DONE or run.attempt != 1:
                    problems.append(f"run {run.id}: {run.status} in attempt {run.attempt}")
                if [e for _, e in rows] != list(range(1, run.epoch + 1)) or {a for a, _ in rows} != {run.attempt}:
                    problems.append(f"run {run.id}: epoch rows {rows[:3]}… of {len(rows)} for {run.epoch} epochs")
    refused = store.refused_writes()
    if refused:
        problems.append(f"{len(refused)} refused writes")
    return problems


def _load(concurrency: int, runs: int, epochs: int, csv: bytes, together: bool) -> tuple[float, list[str], _Sampler]:
    with tempfile.TemporaryDirectory() as folder:
        runner = Runner(Path(folder) / "runs.sqlite", concurrency=concurrency, idle_seconds=30)
        sampler = _Sampler(runner)
        sampler.start()
        try:
            start = time.perf_counter()
            if together:
                ids = [runner.submit(_spec("all", tuple(range(runs)), epochs), "bench.csv", csv)]
            else:
                ids = [runner.submit(_spec(f"run {i}", (i,), epochs), "bench.csv", csv) for i in range(runs)]
            while any(r.status in ACTIVE for r in runner.store.runs()):
                time.sleep(0.1)
            seconds = time.perf_counter() - start
            return seconds, _check(runner, ids), sampler
        finally:
            sampler.stop.set()
            sampler.join()
            runner.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=default_concurrency())
    parser.add_argument("--csv-rows", type=int, default=1_050_000, help="rows of the CSV read at the end (0: skip)")
    args = parser.parse_args(argv)
    csv = _csv(args.points)
    print(f"{args.runs} runs of {args.epochs} epochs on {args.points} points, {args.concurrency} worker(s)")
    apart, problems_apart, sampler = _load(args.concurrency, args.runs, args.epochs, csv, together=False)
    print(f"separate experiments (one claim each): {apart:6.1f} s   {args.runs / apart:5.2f} runs/s   "
          f"lost or doubled: {len(problems_apart)}")
    together, problems_together, _ = _load(args.concurrency, args.runs, args.epochs, csv, together=True)
    print(f"one experiment ({args.runs} seeds):      {together:6.1f} s   {args.runs / together:5.2f} runs/s   "
          f"lost or doubled: {len(problems_together)}")
    print(f"ratio separate / together:             {apart / together:6.2f}×")
    for problem in (problems_apart + problems_together)[:10]:
        print("  problem:", problem)
    growth = sampler.growth_per_run()
    if growth:
        print(f"worker memory growth: {growth[0]:+.2f} MB per run (over {growth[1]} runs; "
              f"workers are recycled past {Runner.__init__.__kwdefaults__['max_memory_mb']:g} MB)")
    if args.csv_rows:
        print("CSV read:")
        bench_csv.main(["--rows", str(args.csv_rows), "--repeat", "1"])
    return 1 if problems_apart or problems_together else 0


if __name__ == "__main__":
    raise SystemExit(main())
