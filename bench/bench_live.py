"""How much CPU does a live page take from training? `streamlit run dashboard.py` + Chromium on
the Train page while a long experiment trains.

    .venv/bin/python bench/bench_live.py [--seconds 60] [--rows 2300] [--app DIR]

Builds a data folder with a generated weekly series (`--rows` points, a yearly season, a trend
and noise) and the page's default experiment on it (the draft's models and settings: 3 models ×
5 seeds × 3 backtest origins = 45 runs), queued once `streamlit run dashboard.py` has its
runner on the folder (which trains the runs in 2 worker processes, as a user's server does), opens
`/train?experiment=1` in Debian's Chromium through Playwright, waits until runs train, then
measures for `--seconds` each:

1. `grid`: the page as it opens (the per-model progress grid);
2. `rows`: after "Show every run" is switched on (a row with a progress bar per run, what the
   page showed for every run before the grid);
3. `closed`: no page open — what the server's own runner (its supervisor thread) costs.

For each it prints the CPU the Streamlit server process used (its own, not its workers') and the
busiest Chromium renderer's, as a percentage of one core, the websocket frames and kilobytes the
page received, and how many epochs the workers finished meanwhile (the work the page competes
with). `live_cpu_pct: X` is the server in the grid view and `live_cpu_tab_pct: X` the tab (goal:
≤ 5 each), and `ratio_live_cpu: X` the server's grid ÷ rows. `--app DIR` serves another
checkout's dashboard.py (an older commit, for a before figure; it has no toggle, so only its
first phase is measured).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from bench_browser import CHROMIUM, CHROMIUM_ARGS, Frames  # noqa: E402

from helpers import serve  # noqa: E402
from lstm_app.runs.store import Store  # noqa: E402
from lstm_app.spec import DataSpec  # noqa: E402
from lstm_app.ui import forms  # noqa: E402
from lstm_app.ui.draft import Draft  # noqa: E402

__all__ = ["main"]
_TICK = os.sysconf("SC_CLK_TCK")


def weekly_csv(rows: int, seed: int = 0) -> bytes:
    """A weekly series with a yearly season, a trend and noise, as a date,value CSV."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    values = 300 + 0.05 * t + 20 * np.sin(2 * np.pi * t / 52.18) + rng.normal(0, 3, rows)
    dates = pd.date_range("1980-01-06", periods=rows, freq="W")
    return pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "value": values.round(3)}).to_csv(index=False).encode()


def queue_default(data: Path, rows: int) -> tuple[int, int]:
    """Store the series and queue the page's default experiment on it; (experiment id, runs)."""
    content = weekly_csv(rows)
    draft = Draft()
    window, split, training = forms.build_specs(draft.settings)
    spec = forms.experiment("live", DataSpec("weekly.csv", "value", "date"), [m.spec() for m in draft.models],
                            window, split, training, forms.backtest_of(draft.settings))
    store = Store(data / "runs.sqlite")
    sha = store.put_dataset("weekly.csv", content)
    import dataclasses

    spec = dataclasses.replace(spec, data=dataclasses.replace(spec.data, sha256=sha))
    eid = store.create_experiment(spec, sha)
    return eid, len(store.runs(eid))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` itself (not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _pids(match: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if match in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(entry.name))
    return found


def _epochs(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as con:
        return int(con.execute("SELECT COUNT(*) FROM epochs").fetchone()[0])


def _statuses(db: Path) -> str:
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as con:
        return ", ".join(f"{n} {s}" for s, n in con.execute("SELECT status, COUNT(*) FROM runs GROUP BY status"))


def _phase(page: Any, server: int, frames: Frames, db: Path, seconds: float) -> dict[str, float]:
    renderers = _pids("--type=renderer")
    before = {pid: _cpu_seconds(pid) for pid in [server, *renderers]}
    epochs, frames_before = _epochs(db), (frames.count, frames.size)
    start = time.monotonic()
    page.wait_for_timeout(seconds * 1000)
    wall = time.monotonic() - start
    used = {}
    for pid, cpu in before.items():
        with contextlib.suppress(OSError):
            used[pid] = 100 * (_cpu_seconds(pid) - cpu) / wall
    return {"server": used.get(server, float("nan")), "tab": max((used.get(p, 0.0) for p in renderers), default=0.0),
            "frames": frames.count - frames_before[0], "kb": (frames.size - frames_before[1]) / 1024,
            "epochs": _epochs(db) - epochs, "wall": wall}


def measure(url: str, data: Path, rows: int, seconds: float) -> dict[str, dict[str, float]]:
    from playwright.sync_api import sync_playwright

    port = url.rsplit(":", 1)[1]
    [server] = [p for p in _pids("streamlit run dashboard.py") if p in _pids(f"--server.port {port}")]
    frames = Frames()
    out: dict[str, dict[str, float]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("websocket", frames.attach)
            db = data / "runs.sqlite"
            page.goto(f"{url}/train", wait_until="commit")
            page.get_by_text("3 · Train").first.wait_for(timeout=120_000)
            # Queued once the server's runner exists (a runner starting marks the runs it finds interrupted).
            eid, n = queue_default(data, rows)
            print(f"queued the default experiment on a {rows}-row weekly series: {n} runs", flush=True)
            page.goto(f"{url}/train?experiment={eid}", wait_until="commit")
            page.get_by_text(f"Progress of experiment {eid}").wait_for(timeout=120_000)
            deadline = time.monotonic() + 300
            while _epochs(db) < 2:  # the workers have started and train
                if time.monotonic() > deadline or "interrupted" in _statuses(db):
                    raise RuntimeError(f"no epoch trained within 300 s ({_statuses(db)})")
                page.wait_for_timeout(500)
            page.wait_for_timeout(5000)
            print(f"  measuring the page as it opens for {seconds:g} s …", flush=True)
            out["grid"] = _phase(page, server, frames, db, seconds)
            page.get_by_text(f"Progress of experiment {eid}").evaluate("e => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(500)
            page.screenshot(path=str(db.parent / "live.png"))
            toggle = page.get_by_text("Show every run", exact=True)
            if toggle.count():
                toggle.click()
                page.wait_for_timeout(5000)
                print(f"  measuring with every run shown for {seconds:g} s …", flush=True)
                out["rows"] = _phase(page, server, frames, db, seconds)
            page.goto("about:blank")
            page.wait_for_timeout(3000)
            print(f"  measuring with no page open for {seconds:g} s …", flush=True)
            out["closed"] = _phase(page, server, frames, db, seconds)
        finally:
            browser.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each measured phase")
    parser.add_argument("--rows", type=int, default=2300, help="points of the generated weekly series")
    parser.add_argument("--app", type=Path, default=ROOT, help="the checkout whose dashboard.py is served")
    parser.add_argument("--shot", type=Path, help="save a screenshot of the grid view here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "lab"
        data.mkdir()
        log = Path(tmp) / "server.log"
        try:
            with serve(args.app.resolve(), data, log) as url:
                result = measure(url, data, args.rows, args.seconds)
        except RuntimeError:
            print(log.read_text(errors="replace")[-3000:])
            for worker_log in sorted((data / "logs").glob("*.log")):
                print(worker_log.name, worker_log.read_text(errors="replace")[-1500:])
            raise
        if args.shot:
            args.shot.write_bytes((data / "live.png").read_bytes())
    for name, r in result.items():
        print(f"{name}: server {r['server']:.1f}% of a core, busiest tab {r['tab']:.1f}%, {r['frames']:.0f} "
              f"websocket frames ({r['kb']:.0f} KB) in {r['wall']:.0f} s, {r['epochs']:.0f} epochs trained meanwhile")
    print(f"live_cpu_pct: {result['grid']['server']:.1f}")
    print(f"live_cpu_tab_pct: {result['grid']['tab']:.1f}")
    if "rows" in result:
        print(f"ratio_live_cpu: {result['grid']['server'] / result['rows']['server']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
