"""`mlwf demo --fault`: injected faults strike the workflow, and the demo says so."""

from __future__ import annotations

import json

import pytest

from mlwf.cli import main

pytestmark = pytest.mark.offline


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
