"""`python -m lstm_app calibrate`: real training on both engines gives the cost model's rates,
kept in the data folder where the scheduler reads them (tests/test_schedule.py covers the
routing they cause)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from lstm_app import cli
from lstm_app.runs import schedule


@pytest.mark.slow
def test_calibrate_measures_both_engines_and_the_scheduler_reads_the_rates(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS", "TF_NUM_INTEROP_THREADS"):
        monkeypatch.setenv(name, "1")  # the command sets them for its own TensorFlow; restored after
    assert cli.main(["calibrate", "--data-dir", str(tmp_path / "lab"), "--quick", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "measuring both engines with 1 thread(s)" in out and "batched_rate" in out, out
    saved = json.loads((tmp_path / "lab" / schedule.RATES_FILE).read_text())
    assert saved["machine"] == schedule.machine() and set(saved["fields"]) == set(schedule.RATE_FIELDS)
    assert all(math.isfinite(v) and v > 0 for v in saved["fields"].values())
    model = schedule.cost_model(tmp_path / "lab")
    assert {k: getattr(model, k) for k in schedule.RATE_FIELDS} == saved["fields"]
    # The raw seconds are kept for the reader; which shape was slower is a timing, which a busy
    # machine can invert (seen beside two busy loops), so only their presence is asserted.
    per_step = saved["seconds_per_step"]
    assert set(per_step) == {f"{e}_{s}" for e in ("keras", "batched") for s in ("small", "large")}
    assert all(v > 0 for v in per_step.values()), per_step


def test_calibrate_refuses_a_folder_it_cannot_write_in_one_sentence_before_measuring(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert cli.main(["calibrate", "--data-dir", str(blocker / "lab")]) == cli.EXIT_USER_ERROR
    said = capsys.readouterr()
    assert said.err.startswith("error: The rates cannot be written to") and said.err.count("\n") == 1, said.err
    assert said.out == ""  # refused before anything was measured
