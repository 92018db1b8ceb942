"""`mlwf demo` as a user runs it, and `mlwf threshold` and `mlwf monitor` on its outputs.

The threshold and the monitor only read a demo's outputs: they read those of the one
end-to-end run (the module-scoped demo_run), rather than each running a demo of their own.
The other commands' tests: test_cli_invoke*.py, test_cli_run_batch.py, test_cli_demo_faults.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlwf.cli import main

pytestmark = pytest.mark.offline


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """A user's run of the demo (CI-sized) on synthetic data, in a process of its own as from
    the shell (in this one, earlier tests have configured the handlers' loggers)."""
    out = tmp_path_factory.mktemp("demo_run") / "demo"
    command = ["demo", "--data", "synthetic", "--count", "24", "--out", str(out)]
    completed = subprocess.run(
        [sys.executable, "-m", "mlwf.cli", *command],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return out, completed


def test_demo_end_to_end_on_synthetic_data(demo_run):
    # When a user runs the demo (CI-sized) on synthetic data
    out, completed = demo_run
    printed = completed.stdout

    # Then it ends well and reports both outcomes
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr
    report = json.loads((out / "results.json").read_text())
    summary = report["summary"]
    assert summary["executions"] == 24 == len(report["executions"])
    assert summary["succeeded"] + summary["failed_low_confidence"] == 24
    assert summary["succeeded"] > 0 and summary["failed_low_confidence"] > 0
    assert summary["other_failures"] == {}
    for execution in report["executions"]:
        assert set(execution) >= {
            "s3_key",
            "true_label",
            "inferences",
            "status",
            "error",
            "duration_ms",
        }
    assert "ThresholdConfidenceNotMet" in printed
    # And writes the captured data, the functions' logs and the plots
    files = list((out / "data_capture").rglob("*.jsonl"))
    records = [line for f in files for line in f.read_text().splitlines()]
    validation = (out / "dataset" / "validation.lst").read_text().splitlines()
    assert len(records) == 24 + len(validation)  # the executions and the calibration
    for function in (
        "SerializeImageDataFunction",
        "ClassifyImageFunction",
        "FilterInferencesFunction",
    ):
        log = (out / "logs" / f"{function}.log").read_text()
        assert log.count("START RequestId") >= 24
        # executions ran side by side, yet each log line is its own invocation's
        assert_lines_belong_to_their_invocation(log)
    plots = {p.name for p in (out / "plots").glob("*.png")}
    assert {"confidence_over_time.png", "confidence_histogram.png", "threshold_sweep.png"} <= plots


def assert_lines_belong_to_their_invocation(log: str) -> None:
    """Within each log stream (`<stream> <line>`, one stream per execution environment),
    every structured line carries the request id of the invocation it follows."""
    current: dict[str, str] = {}
    structured = 0
    for entry in log.splitlines():
        stream, _, line = entry.partition(" ")
        if line.startswith("START RequestId: "):
            current[stream] = line.split()[2]
        elif line.startswith("{"):
            record = json.loads(line)
            if "function_request_id" in record:
                structured += 1
                assert record["function_request_id"] == current[stream], entry
    assert structured > 0


def test_demo_rejects_a_bad_fault_in_one_line(tmp_path, capsys):
    code = main(
        ["demo", "--data", "synthetic", "--fault", "endpoint:explode", "--out", str(tmp_path)]
    )
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.count("\n") == 0 and "explode" in err


@pytest.mark.parametrize("command", ["demo", "run", "batch"])
def test_a_data_folder_that_does_not_exist_is_one_line_naming_data(command, tmp_path, capsys):
    missing = tmp_path / "no" / "such" / "folder"
    argv = [command, "--data", str(missing)]
    argv += ["--out", str(tmp_path / "out")] if command == "demo" else ["--offline"]
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.count("\n") == 0
    assert f"--data {missing}: no such file or directory" in err


def test_threshold_and_monitor_on_the_demo_outputs(demo_run, tmp_path: Path, capsys):
    # Given a demo run's outputs
    out, completed = demo_run
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr

    # When the threshold is chosen from the captured validation traffic
    code = main(
        [
            "threshold",
            "--capture",
            str(out / "data_capture"),
            "--labels",
            str(out / "dataset" / "validation.lst"),
            "--out",
            str(tmp_path / "threshold"),
        ]
    )
    printed = capsys.readouterr()

    # Then every validation image joined its label, and the choice is reported as written
    result = json.loads((tmp_path / "threshold" / "thresholds.json").read_text())
    validation_count = len((out / "dataset" / "validation.lst").read_text().splitlines())
    assert result["labelled_records"] == validation_count
    assert len(result["rows"]) == 50
    chosen = result["chosen"]
    assert code == (0 if chosen else 1)
    if chosen:
        assert result["deploy_command"] in printed.out

    # And the monitor reads the same capture with the test labels
    code = main(
        [
            "monitor",
            "--capture",
            str(out / "data_capture"),
            "--labels",
            str(out / "dataset" / "test.lst"),
            "--threshold",
            "0.93",
            "--out",
            str(tmp_path / "monitor"),
        ]
    )
    assert code == 0
    summary = json.loads((tmp_path / "monitor" / "summary.json").read_text())
    assert summary["records"] >= 24  # the demo's executions, at least
