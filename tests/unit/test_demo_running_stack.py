"""`mlwf demo` with AWS_ENDPOINT_URL set runs on that stack: the options that would shape a
stack of its own are refused in one line, before any call (the run itself is tested in
tests/offline/test_offline_up.py)."""

from __future__ import annotations

import pytest

from mlwf.cli import main
from mlwf.offline.server import free_port


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--fault", "endpoint:throttle:1"], "--fault"),
        (["--data", "synthetic"], "--data"),
        (["--threshold", "0.8"], "--threshold"),
        (["--parameter-overrides", "WorkflowType=EXPRESS"], "--parameter-overrides"),
    ],
)
def test_options_of_an_own_stack_are_refused_against_a_running_one(
    options, named, monkeypatch, tmp_path, capsys
):
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens: no call may be made
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    code = main(["demo", "--out", str(tmp_path / "out"), *options])
    error = capsys.readouterr().err
    assert code == 1 and error.count("\n") == 1, error
    assert f"{named} shapes a stack the demo starts" in error and endpoint in error
    assert not (tmp_path / "out").exists()  # refused before --out was touched


def test_stack_name_without_a_running_stack_is_refused(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    code = main(["demo", "--stack-name", "mine", "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err
    assert code == 1 and "set AWS_ENDPOINT_URL" in error and error.count("\n") == 1
