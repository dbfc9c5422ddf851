"""Tests for `python -m lstm_app inspect`, in-process and as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lstm_app.cli import main

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).parent / "csv_corpus"
HOTELS = ["hotel_h1_weekly_cancellations.csv", "hotel_h2_weekly_cancellations.csv"]


@pytest.mark.parametrize("name", HOTELS)
def test_inspect_hotel_summary(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(ROOT / "sample_data" / name)]) == 0
    out = capsys.readouterr().out
    assert "Rows:             115" in out
    assert "Time column:      Date" in out
    assert "weekly (W-SUN)" in out
    assert "Target candidate: Cancellations" in out
    assert "Ignored columns:  YearWeek" in out


def test_inspect_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "sample:hotel_h2_weekly_cancellations.csv", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == 115
    assert summary["time_column"] == "Date"
    assert summary["numeric_columns"] == ["Cancellations"]
    assert summary["frequency"] == "W-SUN" and summary["frequency_label"] == "weekly"
    assert summary["target_candidate"] == "Cancellations"
    assert summary["start"] == "2015-06-21" and summary["end"] == "2017-08-27"
    assert summary["missing"] == {"Cancellations": 0}
    assert summary["duplicates"] == 0 and summary["gaps"] == 0


def test_inspect_with_target(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(CORPUS / "missing_values.csv"), "--target", "value", "--json"]) == 0
    target = json.loads(capsys.readouterr().out)["target"]
    assert target["column"] == "value" and target["rows"] == 16 and target["filled"] == 3
    assert main(["inspect", str(CORPUS / "missing_values.csv"), "--target", "value"]) == 0
    assert "3 interpolated" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "word"), [
    (["inspect", str(CORPUS / "binary_garbage.csv")], "binary"),
    (["inspect", str(CORPUS / "does_not_exist.csv")], "no file"),
    (["inspect", "sample:nope"], "no sample"),
    (["inspect", "sample:airline_passengers_monthly.csv", "--target", "Passengers"], "not in the file"),
])
def test_inspect_errors_are_one_sentence(args: list[str], word: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.rstrip("\n")
    assert err.startswith("error: ") and word in err
    assert "\n" not in err and err.endswith(".")


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "inspect" in capsys.readouterr().err


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "lstm_app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_subprocess_bad_file_exits_2_without_traceback() -> None:
    proc = _run("inspect", str(CORPUS / "ragged_lines.csv"))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("error: Line 4 has 4 fields")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_subprocess_hotel_summary() -> None:
    proc = _run("inspect", "sample_data/hotel_h1_weekly_cancellations.csv")
    assert proc.returncode == 0, proc.stderr
    assert "115" in proc.stdout and "weekly" in proc.stdout and "Date" in proc.stdout
    assert "Cancellations" in proc.stdout
