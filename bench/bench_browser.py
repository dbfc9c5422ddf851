"""Benchmark opening an experiment in a real browser: `streamlit run dashboard.py` + Chromium.

    .venv/bin/python bench/bench_browser.py [--experiments 10] [--opens 4] [--app DIR]

Builds a data folder as bench_page.py does (`--experiments` finished 20-run experiments plus
`--opens` 60-run ones, 3 models × 20 seeds, written directly as finished outcomes), starts
`streamlit run dashboard.py` on a free port against it (`LSTM_LAB_DATA`), and drives Debian's
/usr/bin/chromium through Playwright at 1280 × 800:

- a new session: `/compare?experiment=<first 60-run id>` until its charts are drawn
  (`session_ms`);
- then each other 60-run experiment opened from the sidebar's history as a user does (typed
  into the "Open" box, Enter), timed until every chart of the new experiment is drawn — new
  `.js-plotly-plot` elements with their SVG, at least as many as the first open drew — and until
  the page is idle (no script running). Prints the median `browser_open_ms: …` (goal ≤ 1000 ms),
  `browser_idle_ms: …`, and the websocket frames and kilobytes received per open.

`--app DIR` runs another checkout's dashboard.py (e.g. an export of an older commit) against the
same kind of data folder, for before/after figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from bench_page import build  # noqa: E402

from helpers import serve  # noqa: E402

__all__ = ["main"]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]

# How many charts of experiment `eid`'s Compare page are drawn: -1 until its header shows, then
# the chart elements that belong to the current script run (not stale) and have their SVG.
_DRAWN = """(eid) => {
    const main = document.querySelector('[data-testid="stMain"]');
    if (!main || !main.innerText.includes(`experiment ${eid},`)) return -1;
    return [...main.querySelectorAll('[data-testid="stElementContainer"]')]
        .filter(b => b.querySelector('.js-plotly-plot'))
        .filter(b => b.getAttribute('data-stale') !== 'true' && b.querySelector('.js-plotly-plot .main-svg'))
        .length;
}"""
_RUNNING = "() => !!document.querySelector('[data-testid=\"stStatusWidget\"]')"


class Frames:
    """Websocket frames and bytes the page received since `reset`."""

    def __init__(self) -> None:
        self.count, self.size = 0, 0

    def reset(self) -> None:
        self.count, self.size = 0, 0

    def attach(self, ws: Any) -> None:
        ws.on("framereceived", self._got)

    def _got(self, payload: bytes | str) -> None:
        self.count += 1
        self.size += len(payload)


def _wait(page: Any, eid: int, start: float, want: int, timeout: float = 60.0) -> tuple[float, float]:
    """(ms until `want` charts of experiment `eid` are drawn, ms until the script stopped running)
    since `start`."""
    drawn = idle = None
    deadline = time.perf_counter() + timeout
    while drawn is None or idle is None:
        now = time.perf_counter()
        if now > deadline:
            raise RuntimeError(f"charts not drawn within {timeout:.0f} s ({page.evaluate(_DRAWN, eid)} of {want})")
        if drawn is None and page.evaluate(_DRAWN, eid) >= want:
            drawn = now
        if drawn is not None and idle is None and not page.evaluate(_RUNNING):
            idle = now
        page.wait_for_timeout(10)
    return (drawn - start) * 1000, (max(idle, drawn) - start) * 1000


def measure(url: str, eids: list[int], names: list[str]) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    frames = Frames()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("websocket", frames.attach)
            start = time.perf_counter()
            page.goto(f"{url}/compare?experiment={eids[0]}", wait_until="commit")
            page.wait_for_function("(eid) => document.querySelector('[data-testid=\"stMain\"]')?.innerText"
                                   ".includes(`experiment ${eid},`)", arg=eids[0], timeout=120_000)
            page.wait_for_function(f"() => !({_RUNNING.removeprefix('() => ')})", timeout=120_000)
            # How many charts the Compare page draws: the count once it has stayed the same for 2 s
            # (plotly.js itself loads with the first chart).
            want, since = -1, time.perf_counter()
            while want <= 0 or time.perf_counter() - since < 2:
                now = int(page.evaluate(_DRAWN, eids[0]))
                if now != want:
                    want, since = now, time.perf_counter()
                page.wait_for_timeout(50)
            session, _ = _wait(page, eids[0], start, want, 120)
            opens, idles, counts, sizes = [], [], [], []
            box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"] input')
            for eid, name in zip(eids[1:], names[1:], strict=True):
                box.click()
                box.fill(f"#{eid} {name}")
                page.wait_for_timeout(300)  # the list filters as it is typed
                frames.reset()
                start = time.perf_counter()
                box.press("Enter")
                drawn, idle = _wait(page, eid, start, want)
                page.wait_for_timeout(500)  # late frames of this open
                opens.append(drawn)
                idles.append(idle)
                counts.append(frames.count)
                sizes.append(frames.size)
                page.wait_for_function(f"() => !({_RUNNING.removeprefix('() => ')})", timeout=60_000)
            return {"charts": want, "session_ms": session, "browser_open_ms": statistics.median(opens),
                    "browser_idle_ms": statistics.median(idles), "opens_ms": opens,
                    "ws_frames": statistics.median(counts), "ws_kb": statistics.median(sizes) / 1024}
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=10,
                        help="finished 20-run experiments besides the 60-run ones")
    parser.add_argument("--opens", type=int, default=4,
                        help="60-run experiments: the first opens the session, the others are timed")
    parser.add_argument("--app", type=Path, default=ROOT, help="the checkout whose dashboard.py is served")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "lab"
        start = time.perf_counter()
        eids = build(data, args.experiments, 20, opens=args.opens)
        print(f"built {args.experiments} experiments × 20 runs + {args.opens} × 60 in "
              f"{time.perf_counter() - start:.0f} s", flush=True)
        names = [f"sixty {k}" for k in range(args.opens)]
        with serve(args.app.resolve(), data, Path(tmp) / "server.log") as url:
            result = measure(url, eids, names)
    print(f"charts per open: {result['charts']}")
    print(f"session_ms: {result['session_ms']:.0f}")
    print("opens_ms: " + ", ".join(f"{v:.0f}" for v in result["opens_ms"]))
    print(f"ws_frames_per_open: {result['ws_frames']:.0f}")
    print(f"ws_kb_per_open: {result['ws_kb']:.0f}")
    print(f"browser_idle_ms: {result['browser_idle_ms']:.0f}")
    print(f"browser_open_ms: {result['browser_open_ms']:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
