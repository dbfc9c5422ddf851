"""Shared pytest fixtures."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers import serve
from lstm_app.spec import (
    BacktestSpec,
    DataSpec,
    ExperimentSpec,
    LayerSpec,
    ModelSpec,
    SplitSpec,
    TrainingSpec,
    WindowSpec,
)

# --- the smoke subset: `pytest -m smoke`, before each commit (≤ 60 s; the full suite stays CI's) ---

# Whole modules that need neither TensorFlow nor a worker process ...
SMOKE_MODULES = {
    "test_layering.py", "test_metrics.py", "test_ownership.py", "test_params.py", "test_schedule.py",
    "test_spec.py", "test_stats.py", "test_store.py", "test_text.py", "test_ui.py", "test_windows.py",
}
# ... and one real path end to end: a runner, a worker process, batched Keras groups, the store.
SMOKE_TESTS = {"test_executors.py::test_runs_finish_with_every_epoch_row_on_ray_and_local[local]"}


# --- pytest-xdist: scripts/test.sh runs `-n 2 --dist load` ---------------------------------------
# Tests go to whichever of the two processes is free, slow files first (from `--durations=0`), so
# the processes finish together instead of one waiting on a late slow test. Measured on 2 cores:
# per test (`load`) 648 s; per file (`loadfile`, a module fixture trains once) 765 s, since
# test_runner.py and test_executors.py (~220 s each alone) cannot be split. (`loadgroup` would
# keep chosen tests together, but pytest-xdist 3.8 cannot rename pytest 9's node ids, so its
# groups are silently ignored.)
SLOW_FIRST = ("test_runner.py", "test_executors.py", "test_e2e_browser.py", "test_every_sample.py",
              "test_ray_cluster.py", "test_dashboard.py", "test_mlflow_export.py", "test_engine_batched.py",
              "test_train.py", "test_fuzz.py", "test_cli.py", "test_backtest.py", "test_layering.py",
              "test_gemm_lstm.py", "test_data.py", "test_direct.py")


def _rank(item: pytest.Item) -> int:
    name = item.path.name
    return SLOW_FIRST.index(name) if name in SLOW_FIRST else len(SLOW_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in SMOKE_MODULES or f"{item.path.name}::{item.name}" in SMOKE_TESTS:
            item.add_marker(pytest.mark.smoke)
    items.sort(key=_rank)  # stable: a file's tests keep their order


# --- run store / background runner fixtures (tests/test_store.py, tests/test_jobs.py) ---------


@pytest.fixture
def lab_csv() -> bytes:
    """A 60-point daily series as CSV bytes (columns date, y)."""
    lines = ["date,y"] + [
        f"2021-{1 + i // 28:02d}-{1 + i % 28:02d},{50 + 10 * math.sin(i / 4) + 0.3 * i:.4f}" for i in range(60)
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def lab_spec() -> Callable[..., ExperimentSpec]:
    """A tiny experiment: `models` one-layer LSTMs (2, 3, ... units) × `seeds`, `epochs` epochs, batch 8."""

    def make(name: str = "tiny", *, models: int = 1, seeds: tuple[int, ...] = (0,), epochs: int = 3,
             patience: int = 0) -> ExperimentSpec:
        return ExperimentSpec(
            name,
            DataSpec("tiny.csv", "y", time_column="date"),
            tuple(ModelSpec(f"m{i}", (LayerSpec(2 + i, activation=("tanh", "relu")[i % 2]),)) for i in range(models)),
            WindowSpec(lookback=4, future_steps=3),
            SplitSpec(8),
            TrainingSpec(epochs=epochs, batch_size=8, seeds=seeds, patience=patience),
        )

    return make


# --- a finished experiment in a store (tests/test_results.py, tests/test_dashboard.py) ------------


@pytest.fixture(scope="session")
def trained_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """(data folder, experiment id) of a real, finished tiny experiment on the hotel H2 sample:
    models "tanh" and "relu" (LSTM 3, lags as features) × seeds 0 and 1 × 2 backtest origins, 2
    epochs, trained by a real background runner (worker processes), so the page and loaders read
    genuine results."""
    import time

    from lstm_app.data.samples import sample_path
    from lstm_app.presets import HOTEL_H2
    from lstm_app.runs.runner import Runner

    folder = tmp_path_factory.mktemp("trained")
    spec = ExperimentSpec(
        "tiny hotel",
        DataSpec(HOTEL_H2, "Cancellations", "Date"),
        (ModelSpec("tanh", (LayerSpec(3),)), ModelSpec("relu", (LayerSpec(3, "relu"),))),
        WindowSpec(lookback=5, framing="features", future_steps=4),
        SplitSpec(10),
        TrainingSpec(epochs=2, batch_size=16, seeds=(0, 1), patience=0),
        BacktestSpec(2),
    )
    runner = Runner(folder / "runs.sqlite", concurrency=1, idle_seconds=1.0)
    try:
        path = sample_path(HOTEL_H2.removeprefix("sample:"))
        experiment_id = runner.submit(spec, path.name, path.read_bytes())
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            runs = runner.store.runs(experiment_id)
            if all(r.status not in ("queued", "running") for r in runs):
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"the tiny experiment did not finish: {[r.status for r in runs]}")
        assert [r.status for r in runs] == ["done"] * 8, [(r.status, r.message) for r in runs]
    finally:
        runner.shutdown()
    return folder, experiment_id


# --- a real Streamlit server (tests/test_e2e_browser.py; bench/bench_browser.py uses helpers.serve) ----


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real `streamlit run dashboard.py` on 127.0.0.1 with its store in tmp_path / "lab":
    (URL, data folder)."""
    with serve(Path(__file__).resolve().parent.parent, tmp_path / "lab", tmp_path / "server.log") as url:
        yield url, tmp_path / "lab"
