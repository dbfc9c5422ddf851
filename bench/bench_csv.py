"""Benchmark the CSV reader on a ~50 MB file: seconds and peak extra memory, against plain pandas.

    .venv/bin/python bench/bench_csv.py [--rows 1050000] [--repeat 3] [--source bytes|path]

Writes an hourly series (time, three numeric columns, one text column) of `--rows` rows to a
temporary folder, then reads it in fresh subprocesses, with `lstm_app.data.read_csv` and with a
plain `pandas.read_csv`, and prints for each the wall time and the peak resident memory above the
process's baseline (`ru_maxrss` after imports), the ratios between the two, and the ratios to the
targets (at most 2 s and at most 3× the file size in extra memory). With `--source bytes` (the
default, as on the page, where the upload is already in memory) the file's bytes are read before
the baseline; with `--source path` reading them counts too.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lstm_app import data  # noqa: E402  (after the path insert, so the worktree's package is used)

__all__ = ["main", "write_csv"]

TARGET_SECONDS = 2.0
TARGET_MEMORY_RATIO = 3.0

# One subprocess per measurement: the baseline is taken after imports (and after reading the bytes
# with --source bytes), so only the read counts. On Linux the peak is reset to the current size
# (clear_refs 5) and read back as VmHWM, so an earlier, higher peak cannot hide the read's.
_PROBE = r"""
import io, json, resource, sys, time
sys.path.insert(0, sys.argv[3])
import numpy, pandas
from lstm_app import data
path, how, source = sys.argv[1], sys.argv[2], sys.argv[4]
content = open(path, "rb").read() if source == "bytes" else None

def status(key):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(key + ":"))

try:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    base, peak_of = status("VmRSS"), lambda: status("VmHWM")
except OSError:  # not Linux: the lifetime peak, which may hide a smaller one
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_of = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
if how == "lab":
    rows = data.read_csv(content if content is not None else path).rows
else:
    rows = len(pandas.read_csv(io.BytesIO(content) if content is not None else path))
seconds = time.perf_counter() - start
peak = peak_of()
print(json.dumps({"seconds": seconds, "extra_bytes": (peak - base) * 1024, "rows": rows}))
"""


def write_csv(path: Path, rows: int) -> int:
    """Write an hourly CSV of `rows` rows (time, load, temp, price, note) and return its size in bytes."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    t = np.arange(rows)
    frame = pd.DataFrame({
        "timestamp": pd.date_range("1990-01-01", periods=rows, freq="h").strftime("%Y-%m-%d %H:%M:%S"),
        "load": np.round(500 + 80 * np.sin(t / 24 * 2 * np.pi) + rng.normal(0, 5, rows), 3),
        "temp": np.round(12 + 8 * np.sin(t / 8766 * 2 * np.pi) + rng.normal(0, 1, rows), 2),
        "price": np.round(40 + rng.gamma(2.0, 5.0, rows), 2),
        "note": rng.choice(["ok", "holiday", "maintenance", "peak"], rows),
    })
    frame.to_csv(path, index=False)
    return path.stat().st_size


def _measure(path: Path, how: str, source: str) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", _PROBE, str(path), how, str(ROOT), source],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Generate the file, measure both readers `--repeat` times (best time, largest memory) and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_050_000, help="rows of the generated CSV (~48.6 MB)")
    parser.add_argument("--repeat", type=int, default=3, help="measurements per reader (best time, largest memory)")
    parser.add_argument("--source", choices=("bytes", "path"), default="bytes",
                        help="hand the reader the file's bytes (as the page does) or its path")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.csv"
        size = write_csv(path, args.rows)
        print(f"file: {args.rows:,} rows × 5 columns, {size:,} bytes ({size / 1e6:.1f} MB; "
              f"reader limit {data.MAX_BYTES:,} bytes); source: {args.source}")
        results = {}
        for how in ("lab", "pandas"):
            runs = [_measure(path, how, args.source) for _ in range(args.repeat)]
            results[how] = {"seconds": min(r["seconds"] for r in runs),
                            "extra_bytes": max(r["extra_bytes"] for r in runs), "rows": runs[0]["rows"]}
    lab, pd_ = results["lab"], results["pandas"]
    for label, r in (("lstm_app.data.read_csv", lab), ("pandas.read_csv", pd_)):
        print(f"{label:<24} {r['seconds']:6.2f} s   peak extra memory {r['extra_bytes'] / 1e6:7.1f} MB "
              f"({r['extra_bytes'] / size:4.2f}× the file)   {int(r['rows']):,} rows")
    print(f"ratio to pandas:         {lab['seconds'] / pd_['seconds']:6.2f}× time, "
          f"{lab['extra_bytes'] / max(pd_['extra_bytes'], 1):4.2f}× memory")
    print(f"ratio to target:         {lab['seconds'] / TARGET_SECONDS:6.2f} of {TARGET_SECONDS:g} s, "
          f"{lab['extra_bytes'] / size / TARGET_MEMORY_RATIO:4.2f} of {TARGET_MEMORY_RATIO:g}× the file")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
