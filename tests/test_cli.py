"""`python -m lstm_app params` and `run`: the headless path from an experiment file to results."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lstm_app import presets
from lstm_app.cli import main
from lstm_app.spec import ExperimentSpec, LayerSpec, ModelSpec, TrainingSpec

ROOT = Path(__file__).resolve().parent.parent


def test_params_prints_each_layer_and_the_total(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["params", "--units", "100,50", "--features", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "total: 71051"
    assert any("4 × 100 × (100 + 1 + 1) = 40,800" in line for line in out)
    assert any("4 × 50 × (50 + 100 + 1) = 30,200" in line for line in out)


def test_params_between_adds_zero_and_features_framing_depends_on_lookback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["params", "--units", "100,50", "--between", "relu"]) == 0
    out = capsys.readouterr().out
    assert "Activation (relu)" in out and "no weights = 0" in out and out.splitlines()[-1] == "total: 71051"
    assert main(["params", "--units", "4", "--lookback", "5", "--framing", "features"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "total: 165"


def test_params_rejects_bad_units_with_one_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["params", "--units", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Received an invalid value for argument `units`") and err.count("\n") == 1


def test_run_writes_results_and_prints_the_table(tmp_path: Path) -> None:
    spec = presets.hotel_replication()
    spec = ExperimentSpec(
        "tiny", spec.data,
        (ModelSpec("tanh", (LayerSpec(3),)), ModelSpec("relu between", (LayerSpec(3), LayerSpec(2)), between="relu")),
        spec.window, spec.split, TrainingSpec(epochs=2, batch_size=16, seeds=(0, 1), patience=0),
    )
    exp_file = tmp_path / "exp.json"
    exp_file.write_text(spec.to_json())
    out_dir = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "lstm_app", "run", str(exp_file), "--out", str(out_dir)],
                          capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # TensorFlow's C++ start-up and graph noise stays out of the output.
    assert not [line for line in proc.stderr.splitlines() if line.startswith(("I0000", "E0000", "W0000"))]
    assert "NodeDef" not in proc.stderr and "oneDNN" not in proc.stderr
    assert "naive (last value)" in proc.stdout and "relu between" in proc.stdout
    results = json.loads((out_dir / "results.json").read_text())
    assert ExperimentSpec.from_dict(results["experiment"]) == spec
    assert [(r["model"], r["seed"], r["status"]) for r in results["runs"]] == [
        ("tanh", 0, "done"), ("tanh", 1, "done"), ("relu between", 0, "done"), ("relu between", 1, "done")]
    assert results["runs"][2]["diagnostics"]["layers"][1]["kind"] == "between"
    assert results["comparison"]["models"][1]["vs_reference"]["rmse"]["n"] == 2
    assert "Diebold" in results["comparison"]["dm_variant"]
    with (out_dir / "metrics.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4 and float(rows[0]["rmse"]) > 0 and rows[0]["naive_rmse"] == rows[3]["naive_rmse"]


def test_run_reports_a_missing_data_file_in_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = presets.hotel_replication()
    exp_file = tmp_path / "exp.json"
    exp_file.write_text(spec.to_json())
    assert main(["run", str(exp_file), "--out", str(tmp_path / "o"), "--data", str(tmp_path / "nope.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
    exp_file.write_text("{broken")
    assert main(["run", str(exp_file), "--out", str(tmp_path / "o")]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_example_experiment_files_are_valid() -> None:
    for path in sorted((ROOT / "examples").glob("*.json")):
        spec = ExperimentSpec.from_json(path.read_text())
        assert len(spec.models) >= 2, path


def test_readme_example_experiment_parses_and_ci_runs_the_readme_test_command() -> None:
    import re

    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```json\n(.*?)```", readme, re.S)
    assert block is not None
    spec = ExperimentSpec.from_json(block.group(1))
    assert [m.name for m in spec.models] == ["tanh", "relu inside", "relu between"]
    assert "./scripts/test.sh" in readme and "./scripts/dashboard.sh" in readme
    assert "exec ./scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
