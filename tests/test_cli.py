"""`python -m lstm_app params` and `run`: the headless path from an experiment file to results."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
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


# --- arguments and outputs refused before training ------------------------------------------------


def _tiny_experiment(tmp_path: Path, **changes: object) -> Path:
    spec = presets.hotel_replication()
    spec = ExperimentSpec("tiny", spec.data, (ModelSpec("tanh", (LayerSpec(3),)),), spec.window, spec.split,
                          TrainingSpec(epochs=1, batch_size=16, seeds=(0,), patience=0))
    raw = spec.to_dict()
    raw.update(changes)
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(raw))
    return path


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the CLI, failing the test if it gets as far as training; return the one-line error."""
    import lstm_app.runs.headless as headless

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("the command trained although it should have refused first")

    monkeypatch.setattr(headless, "run_experiment", no_training)
    monkeypatch.setattr(headless, "load_data", no_training)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


def test_run_refuses_an_out_that_is_a_file_or_under_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    exp = _tiny_experiment(tmp_path)
    a_file = tmp_path / "results.txt"
    a_file.write_text("not a folder")
    assert "is a file, not a folder" in _refused(["run", str(exp), "--out", str(a_file)], capsys, monkeypatch)
    err = _refused(["run", str(exp), "--out", str(a_file / "deeper" / "out")], capsys, monkeypatch)
    assert "which is a file" in err
    assert a_file.read_text() == "not a folder"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write to any folder")
def test_run_refuses_a_read_only_out(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    exp = _tiny_experiment(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        err = _refused(["run", str(exp), "--out", str(locked / "out")], capsys, monkeypatch)
    finally:
        locked.chmod(0o700)
    assert "cannot be written" in err


def test_run_refuses_zero_or_negative_epochs(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    exp = _tiny_experiment(tmp_path)
    for epochs in ("0", "-3"):
        err = _refused(["run", str(exp), "--out", str(tmp_path / "o"), "--epochs", epochs], capsys, monkeypatch)
        assert f"argument `epochs`, expected a positive integer, got {epochs}." in err


def test_run_refuses_a_model_over_the_parameter_budget(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    big = ModelSpec("huge", tuple(LayerSpec(1024) for _ in range(8)))
    exp = _tiny_experiment(tmp_path, models=[dataclasses.asdict(big)])
    err = _refused(["run", str(exp), "--out", str(tmp_path / "o")], capsys, monkeypatch)
    assert "'huge' has" in err and "parameters" in err
    assert not (tmp_path / "o").exists()


def test_run_refuses_bad_experiment_files_in_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    exp = tmp_path / "exp.json"
    out = str(tmp_path / "o")
    for content, word in [
        ("[" * 50_000 + "]" * 50_000, "levels"),
        (json.dumps({"name": "e", "data": {"source": "f.csv", "target": "y", "features": [[1]]},
                     "models": [{"name": "a", "layers": [{"units": 2}]}]}), "argument `features`"),
        (" " * 3_000_000, "bytes"),
    ]:
        exp.write_text(content)
        assert word in _refused(["run", str(exp), "--out", out], capsys, monkeypatch)
    assert "does not exist" in _refused(["run", str(tmp_path / "nope.json"), "--out", out], capsys, monkeypatch)


def test_run_reports_a_failed_write_in_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import lstm_app.runs.headless as headless

    exp = _tiny_experiment(tmp_path)
    monkeypatch.setattr(headless, "run_experiment", lambda *a, **k: ({}, {(0, 0): "skipped"}))

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(headless, "write_results", disk_full)
    assert main(["run", str(exp), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.startswith("error: The results could not be written") and "No space left on device" in err


def test_written_csv_files_keep_formula_names_as_text(tmp_path: Path) -> None:
    from lstm_app import data
    from lstm_app.runs import headless

    spec = presets.hotel_replication()
    evil = "=cmd|' /C calc'!A0"
    spec = ExperimentSpec("e", spec.data, (ModelSpec(evil, (LayerSpec(2),)), ModelSpec("@SUM(1)", (LayerSpec(2),))),
                          spec.window, spec.split, TrainingSpec(epochs=1, seeds=(0,)))
    table = data.read_csv(b"date,y\n2020-01-01,1\n2020-01-02,2\n2020-01-03,4\n")
    headless.write_results(tmp_path, spec, table, {}, {(0, 0): "-boom", (1, 0): "failed"})
    for name in ("metrics.csv", "summary.csv"):
        with (tmp_path / name).open(newline="") as fh:
            cells = [cell for row in csv.reader(fh) for cell in row]
        assert "'" + evil in cells and "'@SUM(1)" in cells, name
        assert not any(c.startswith(("=", "+", "@")) or (c.startswith("-") and not _number(c)) for c in cells), name
    assert json.loads((tmp_path / "results.json").read_text())["runs"][0]["model"] == evil


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
