"""AWS_ENDPOINT_URL naming a port of this machine that nothing listens on is said at once
(training_job/local_endpoint.py), where botocore would retry for ~10 s first.

A README walk met it: the exports of an `mlwf offline up` left in a shell after Ctrl-C, and
every command waited on botocore's retries before saying so.
"""

from __future__ import annotations

import pytest

from mlwf.cli import main
from mlwf.offline.server import free_port
from tests.helpers.capture_files import random_records, write_tree
from tests.helpers.paths import EVENTS_DIR
from tests.helpers.sockets import listening_port
from training_job.local_endpoint import EndpointNotAnswering, check_local_endpoint, nothing_answers


def test_a_local_port_nothing_listens_on_is_named(monkeypatch) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    with pytest.raises(EndpointNotAnswering) as raised:
        check_local_endpoint()
    assert str(raised.value) == nothing_answers(endpoint)
    assert endpoint in str(raised.value) and "mlwf offline up" in str(raised.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_local_port_something_listens_on_passes(host, monkeypatch) -> None:
    with listening_port() as port:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
        check_local_endpoint()


@pytest.mark.parametrize(
    "endpoint",
    ["", "https://s3.us-east-1.amazonaws.com", "http://10.1.2.3:4566", "http://127.0.0.1:port"],
)
def test_other_endpoints_are_left_to_botocore(endpoint, monkeypatch) -> None:
    # Given an endpoint elsewhere (maybe slow, not gone), none, or one botocore names better
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)

    def connect(*args, **kwargs):
        raise AssertionError(f"connected to {args}")

    monkeypatch.setattr("socket.create_connection", connect)
    check_local_endpoint()


def refuse_sessions(monkeypatch) -> None:
    import boto3

    def session(*args, **kwargs):
        raise AssertionError("a boto3 session was made: botocore would have retried")

    monkeypatch.setattr(boto3, "Session", session)


@pytest.mark.parametrize(
    "command",
    [
        ["run", "--count", "1", "--stack-name", "s"],
        ["run", "--offline", "--count", "1"],
        ["batch", "--stack-name", "s", "--offline"],
        ["invoke", "ClassifyImageFunction", "-e", str(EVENTS_DIR / "classify_image.json")],
        ["demo", "--out", "{tmp}/out"],
    ],
)
def test_each_command_says_it_in_one_line_before_any_aws_call(
    command, monkeypatch, tmp_path, capsys
) -> None:
    # Given the exports of an `mlwf offline up` that has stopped
    endpoint = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    refuse_sessions(monkeypatch)
    # When a command that talks to AWS runs
    code = main([part.format(tmp=tmp_path) for part in command])
    # Then it says what is wrong in one line, before any session (so before any retry)
    error = capsys.readouterr().err
    assert code == 1
    assert error == f"mlwf {command[0]}: error: {nothing_answers(endpoint)}\n"
    assert not (tmp_path / "out").exists()


def test_a_command_on_local_files_alone_still_runs(monkeypatch, tmp_path, capsys) -> None:
    # Given a stale AWS_ENDPOINT_URL and captured data on disk
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    refuse_sessions(monkeypatch)
    write_tree(tmp_path / "capture", random_records(20, seed=1), per_file=5)
    # When monitor reads them with the threshold given (no AWS call needed)
    code = main(
        ["monitor", "--capture", str(tmp_path / "capture"), "--threshold", "0.9",
         "--out", str(tmp_path / "out")]
    )  # fmt: skip
    # Then it runs as without the variable
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "out" / "summary.json").exists()
