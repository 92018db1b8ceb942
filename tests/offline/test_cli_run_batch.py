"""`mlwf run --offline` and `mlwf batch --offline` as a user runs them."""

from __future__ import annotations

import pytest

from mlwf.cli import main

pytestmark = pytest.mark.offline


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
