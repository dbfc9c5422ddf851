"""End to end in a real browser: `streamlit run dashboard.py`, Debian's Chromium via Playwright.

Upload a bundled CSV, build a tiny two-model experiment, train it in the background, wait for
it, and check that the forecast chart, the parameter comparison and the metrics table are
drawn. Screenshots go to tmp_path (and to $LSTM_LAB_ARTIFACTS when that is set).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from lstm_app.runs.store import Store

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CSV = ROOT / "sample_data" / "hotel_h2_weekly_cancellations.csv"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium "
                       "(scripts/test.sh installs it; no browser download is possible)"),
]


def _shoot(page, shots: list[Path], folder: Path, name: str, *, full: bool = False) -> None:
    path = folder / f"{name}.png"
    if full:
        height = page.evaluate(
            "() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], section.main, "
            "[data-testid=\"stAppViewContainer\"]')].map(e => e.scrollHeight), 800)")
        page.set_viewport_size({"width": 1280, "height": min(int(height) + 100, 9000)})
        page.wait_for_timeout(1500)
    page.screenshot(path=str(path))
    if full:
        page.set_viewport_size({"width": 1280, "height": 800})
    shots.append(path)


def _finished(lab: Path) -> bool:
    store = Store(lab / "runs.sqlite")
    runs = store.runs()
    return bool(runs) and all(r.status not in ("queued", "running") for r in runs)


def test_upload_train_and_compare_in_a_real_browser(server: tuple[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, lab = server
    shots: list[Path] = []
    folder = tmp_path / "shots"
    folder.mkdir()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            main = page.locator('[data-testid="stMain"]')

            def open_page(name: str) -> None:
                page.locator('[data-testid="stTopNavLink"]', has_text=name).click()
                expect(main.get_by_text(name, exact=False).first).to_be_visible(timeout=20_000)

            page.goto(url, wait_until="domcontentloaded")
            expect(page.get_by_text("LSTM Activation Lab").first).to_be_visible(timeout=60_000)

            # 1 Data: upload the hotel CSV through the real file input
            main.get_by_text("Upload a CSV", exact=True).click()
            page.locator('input[type="file"][accept*=".csv"]').set_input_files(str(CSV))
            expect(main.get_by_text("weekly", exact=True)).to_be_visible(timeout=30_000)
            expect(main.get_by_text("Date", exact=True).first).to_be_visible()
            expect(main.locator('[data-testid="stPlotlyChart"]')).to_have_count(1, timeout=20_000)
            _shoot(page, shots, folder, "1-data")

            # 2 Models: a two-model sweep (tanh vs ReLU inside, 4 units), 2 epochs, 1 seed
            open_page("Models")
            page.get_by_text("Sweep builder", exact=False).click()
            units = page.get_by_role("textbox", name="Units options")
            units.fill("4")
            units.press("Enter")
            page.wait_for_timeout(800)
            page.get_by_role("button", name="Replace the models with this sweep").click()
            expect(page.locator('input[value="relu inside 4"]')).to_have_count(1, timeout=20_000)
            for label, value in (("Epochs", "2"), ("Seeds per model", "1"), ("Backtest origins", "2")):
                box = page.get_by_role("spinbutton", name=label, exact=True)
                box.fill(value)
                box.press("Enter")
                page.wait_for_timeout(800)
            expect(page.get_by_role("spinbutton", name="Epochs", exact=True)).to_have_value("2")
            page.get_by_text("Sweep builder", exact=False).click()  # fold it again
            _shoot(page, shots, folder, "2-models")
            _shoot(page, shots, folder, "2-models-full", full=True)

            # a refresh keeps the uploaded file, the models and the settings (the URL names the draft)
            assert "draft=" in page.url, page.url
            page.reload(wait_until="domcontentloaded")
            expect(page.locator('input[value="relu inside 4"]')).to_have_count(1, timeout=30_000)
            expect(page.get_by_role("spinbutton", name="Epochs", exact=True)).to_have_value("2")

            # 3 Train: submit, the page returns at once and shows progress
            open_page("Train")
            expect(main.get_by_text("2 models × 1 seed × 2 backtest origins = 4 runs of 2 epochs",
                                    exact=False)).to_be_visible()
            expect(main.get_by_text("hotel_h2_weekly_cancellations.csv", exact=False).first).to_be_visible()
            page.get_by_role("button", name="Train", exact=True).click()
            expect(page.get_by_text("Progress of experiment 1")).to_be_visible(timeout=20_000)
            _shoot(page, shots, folder, "3-train-progress")
            deadline = time.monotonic() + 180
            while not _finished(lab):
                assert time.monotonic() < deadline, "training did not finish within 180 s"
                page.wait_for_timeout(1000)
            statuses = [r.status for r in Store(lab / "runs.sqlite").runs()]
            assert statuses == ["done"] * 4, statuses
            # A line and a grid per model; the per-run rows on demand.
            expect(main.get_by_text("4 runs: 4 done", exact=False)).to_be_visible(timeout=20_000)
            expect(main.locator('span[title^="relu inside 4 · seed "][title*="origin 2: done"]')).to_have_count(1)
            main.get_by_text("Show every run", exact=True).click()
            # md_escape puts an invisible word joiner before every colon of the progress line.
            expect(page.get_by_text(re.compile("done\u2060?: trained 2 epochs")).first).to_be_visible(timeout=20_000)
            assert "experiment=1" in page.url, page.url
            _shoot(page, shots, folder, "3-train-done")

            # 4 Compare: forecast chart, parameter comparison, metrics table
            open_page("Compare")
            expect(main.get_by_text("(4 done)", exact=False)).to_be_visible(timeout=30_000)
            expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=30_000)
            expect(main.get_by_text("Verdicts", exact=True)).to_be_visible()
            charts = main.locator('[data-testid="stPlotlyChart"]')
            expect(charts.first).to_be_visible(timeout=30_000)
            expect(charts.nth(4)).to_be_attached(timeout=30_000)  # forecast, parameters, loss, histograms, gradients
            expect(main.locator(".js-plotly-plot").first).to_be_visible()
            expect(main.locator('[data-testid="stDataFrame"]').nth(1)).to_be_attached()  # metrics, inside
            expect(main.get_by_text("naive (last value)", exact=False).first).to_be_attached()
            assert page.locator('[data-testid="stException"]').count() == 0
            _shoot(page, shots, folder, "4-compare")
            _shoot(page, shots, folder, "4-compare-full", full=True)

            # a link to the result opens it in a fresh tab
            other = browser.new_page(viewport={"width": 1280, "height": 800})
            other.goto(page.url, wait_until="domcontentloaded")
            expect(other.get_by_text("Verdicts", exact=True)).to_be_visible(timeout=60_000)
            expect(other.get_by_text("experiment 1,", exact=False)).to_be_visible()
            other.close()

            # import an experiment JSON (as exported) and find its models on the Models page
            raw = json.loads(Store(lab / "runs.sqlite").experiment(1).spec.to_json())
            raw["name"] = "imported"
            for model, name in zip(raw["models"], ("model A", "model B"), strict=True):
                model["name"] = name
            exported = tmp_path / "imported.json"
            exported.write_text(json.dumps(raw))
            page.locator('input[type="file"][accept*=".json"]').set_input_files(str(exported))
            expect(page.get_by_text("with 2 models", exact=False).first).to_be_visible(timeout=20_000)
            open_page("Models")
            expect(page.locator('input[value="model B"]')).to_have_count(1, timeout=20_000)
        finally:
            browser.close()
    target = os.environ.get("LSTM_LAB_ARTIFACTS")
    if target:
        out = Path(target) if Path(target).is_absolute() else ROOT / target
        out.mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copy(shot, out / shot.name)
    assert all(s.stat().st_size > 10_000 for s in shots)
