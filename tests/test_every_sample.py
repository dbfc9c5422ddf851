"""Every bundled sample, trained for one epoch by a real runner, opens on every page with no
exception (a series longer than ~292 years once broke the Compare view: nanosecond overflow)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lstm_app.data.samples import SAMPLES, sample_path
from lstm_app.runs import runner as jobs
from lstm_app.runs.store import DATA_ENV
from lstm_app.spec import DataSpec, ExperimentSpec, LayerSpec, ModelSpec, SplitSpec, TrainingSpec, WindowSpec
from lstm_app.ui import PageState

PAGE = str(Path(__file__).resolve().parent.parent / "dashboard.py")
TARGETS = {"hotel_h2_weekly_cancellations.csv": ("Date", "Cancellations"),
           "hotel_h1_weekly_cancellations.csv": ("Date", "Cancellations"),
           "airline_passengers_monthly.csv": ("date", "passengers"),
           "sunspots_annual.csv": ("date", "SUNACTIVITY")}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, int]]]:
    assert set(TARGETS) == set(SAMPLES), "a new bundled sample needs its columns here"
    folder = tmp_path_factory.mktemp("samples")
    runner = jobs.Runner(folder / "runs.sqlite", concurrency=1, idle_seconds=5.0)
    try:
        ids = {}
        for name, (time_column, target) in TARGETS.items():
            spec = ExperimentSpec(
                name, DataSpec(f"sample:{name}", target, time_column),
                (ModelSpec("tanh", (LayerSpec(3),)), ModelSpec("relu", (LayerSpec(3, "relu"),))),
                WindowSpec(lookback=4, future_steps=3), SplitSpec(8),
                TrainingSpec(epochs=1, batch_size=32, seeds=(0,), patience=0),
            )
            ids[name] = runner.submit(spec, name, sample_path(name).read_bytes())
        deadline = time.monotonic() + 240
        while any(r.status in ("queued", "running") for r in runner.store.runs()):
            assert time.monotonic() < deadline, "the sample experiments did not finish"
            time.sleep(0.3)
        assert {r.status for r in runner.store.runs()} == {"done"}
    finally:
        runner.shutdown()
    yield folder, ids


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_page_renders_a_trained_bundled_sample(trained, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, ids = trained
    monkeypatch.setenv(DATA_ENV, str(folder))
    jobs.get_runner(folder / "runs.sqlite", concurrency=1, idle_seconds=1.0)
    try:
        at = AppTest.from_file(PAGE, default_timeout=60)
        at.query_params["experiment"] = str(ids[name])
        at.run()
        for page in ("data", "models", "train", "compare"):
            at.switch_page(f"app_pages/{page}.py").run()
            assert not at.exception, (page, [e.value for e in at.exception])
            assert not at.error, (page, [e.value for e in at.error])
        assert PageState(at.session_state).experiment_id == ids[name]
        assert len(at.get("plotly_chart")) >= 2  # the Compare view drew its charts
    finally:
        jobs.shutdown_all()
