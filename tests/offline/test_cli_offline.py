"""`mlwf demo` and `mlwf invoke` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlwf.cli import main
from tests.helpers.paths import EVENTS_DIR

pytestmark = pytest.mark.offline

# Every file in events/: the function it is for, and whether that invocation succeeds.
EVENT_FUNCTIONS = {
    "serialize_image_data.json": ("SerializeImageDataFunction", True),
    "workflow_input.json": ("SerializeImageDataFunction", True),
    "classify_image.json": ("ClassifyImageFunction", True),
    "filter_inferences_pass.json": ("FilterInferencesFunction", True),
    "filter_inferences_fail.json": ("FilterInferencesFunction", False),
    "list_images.json": ("ListImagesFunction", True),
    "batch_input.json": ("ListImagesFunction", True),
    # The rule's raw event, not a function's input: the serializer names what is missing.
    "s3_object_created.json": ("SerializeImageDataFunction", False),
}


def test_every_event_file_is_covered():
    assert {p.name for p in EVENTS_DIR.glob("*.json")} == set(EVENT_FUNCTIONS)


@pytest.mark.parametrize("event_file", sorted(EVENT_FUNCTIONS))
def test_invoke_runs_each_event(event_file, capsys):
    function, succeeds = EVENT_FUNCTIONS[event_file]
    code = main(["invoke", function, "--event", str(EVENTS_DIR / event_file)])
    out, err = capsys.readouterr()
    payload = json.loads(out)
    assert "START RequestId" in err and "REPORT RequestId" in err
    if succeeds:
        assert code == 0
        assert "errorType" not in payload
    else:
        assert code == 1
        assert payload["errorType"] in {"ThresholdConfidenceNotMet", "InvalidImageRequest"}
        assert payload["errorMessage"]


def test_invoke_classify_returns_inferences(capsys):
    code = main(["invoke", "ClassifyImageFunction", "-e", str(EVENTS_DIR / "classify_image.json")])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    assert len(payload["inferences"]) == 2 and abs(sum(payload["inferences"]) - 1) < 1e-3
    assert "image_data" not in payload


def test_invoke_unknown_function_is_one_line(capsys):
    code = main(["invoke", "NoSuchFunction", "-e", str(EVENTS_DIR / "workflow_input.json")])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err.count("\n") == 0 and "NoSuchFunction" in err and "ClassifyImageFunction" in err


def test_demo_end_to_end_on_synthetic_data(tmp_path: Path):
    # When a user runs the demo (CI-sized) on synthetic data, in a process of its own as
    # from the shell: in this one, earlier tests have configured the handlers' loggers
    out = tmp_path / "demo"
    command = ["demo", "--data", "synthetic", "--count", "24", "--out", str(out)]
    completed = subprocess.run(
        [sys.executable, "-m", "mlwf.cli", *command],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    printed = completed.stdout

    # Then it ends well and reports both outcomes
    assert completed.returncode == 0, completed.stderr
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


def test_run_offline_reports_and_exits_zero_on_expected_outcomes(capsys):
    code = main(["run", "--offline", "--count", "8", "--seed", "3"])
    out = capsys.readouterr().out
    assert code == 0
    assert "executions:            8" in out
    rows = [
        line
        for line in out.splitlines()
        if line.endswith(("SUCCEEDED ", "ThresholdConfidenceNotMet"))
    ]
    assert len(rows) == 8


def test_threshold_and_monitor_on_the_demo_outputs(tmp_path: Path, capsys):
    # Given a demo run's outputs
    out = tmp_path / "demo"
    assert main(["demo", "--data", "synthetic", "--count", "6", "--out", str(out)]) == 0
    capsys.readouterr()

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
    assert summary["records"] >= 6


def test_demo_faults_strike_the_workflow_not_the_calibration(tmp_path, capsys):
    # Given a throttled endpoint for its first three calls (past the SDK's two retries)
    out = tmp_path / "faulty"
    code = main(
        [
            "demo",
            "--data",
            "synthetic",
            "--count",
            "2",
            "--fault",
            "endpoint:throttle:3",
            "--out",
            str(out),
        ]
    )
    # Then the calibration requests were not throttled, and the workflow's Retry absorbed it
    assert code == 0
    summary = json.loads((out / "results.json").read_text())["summary"]
    assert summary["other_failures"] == {}
    assert "fault injected: endpoint: throttle on first 3 call(s)" in capsys.readouterr().out


def test_demo_whose_every_endpoint_call_fails_reports_it_and_exits_one(tmp_path, capsys):
    # Given an endpoint whose model fails on every workflow call
    out = tmp_path / "broken"
    argv = ["demo", "--data", "synthetic", "--count", "3", "--out", str(out)]
    code = main([*argv, "--fault", "endpoint:model-error"])

    # Then each execution fails with its named error, and the demo says so with exit 1
    assert code == 1
    report = json.loads((out / "results.json").read_text())
    assert report["summary"]["other_failures"] == {"EndpointModelError": 3}
    # And the monitoring step still writes what it can, with nothing to plot
    assert json.loads((out / "plots" / "summary.json").read_text())["records"] == 0
    assert (out / "plots" / "thresholds.csv").exists()
    assert "no workflow traffic was captured" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["run", "batch"])
def test_offline_commands_take_parameter_overrides(command, capsys):
    # Given WorkflowType=EXPRESS, as sam deploy --parameter-overrides takes it
    argv = [command, "--offline", "--parameter-overrides", "WorkflowType=EXPRESS"]
    if command == "run":
        argv += ["--count", "4"]
    code = main(argv)
    out = capsys.readouterr().out
    # Then the run reports as with STANDARD (the batch machine stays STANDARD)
    assert code == 0
    if command == "run":
        assert "executions:            4" in out
    else:
        assert " images: " in out


def test_an_unknown_parameter_override_is_one_line(capsys):
    code = main(["run", "--offline", "--parameter-overrides", "NoSuchParameter=1"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.count("\n") == 0 and "NoSuchParameter" in err
