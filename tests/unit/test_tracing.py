"""Powertools' Tracer in the handlers: in Lambda, with tracing Active, the handler and each of
its AWS calls become X-Ray subsegments; anywhere else the tracer is off.

Lambda gives a traced function the trace header (_X_AMZN_TRACE_ID) and the X-Ray daemon's
address (AWS_XRAY_DAEMON_ADDRESS), where the SDK sends segment documents over UDP.
https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
The handler runs in a process of its own here: the X-Ray SDK patches botocore for the whole
process, which must not leak into other tests. The daemon is a UDP socket on a free port.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers.events import load_event, sample_png
from tests.helpers.paths import PROJECT_ROOT, REGION

TRACE_ID = "1-67891233-abcdef012345678912345678"

# Runs the handler as Lambda would with tracing Active, against moto, then exits.
RUN_TRACED = """
import json, os, sys
from moto import mock_aws
from mlwf.offline.lambda_runtime import LambdaContext

function, setup, event = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
with mock_aws():
    import boto3

    s3 = boto3.client("s3")
    for bucket, objects in setup.items():
        s3.create_bucket(Bucket=bucket)
        for key, body in objects.items():
            s3.put_object(Bucket=bucket, Key=key, Body=bytes.fromhex(body))
    sys.path.insert(0, os.path.join("functions", function))
    import app

    context = LambdaContext(
        function_name=function, function_version="$LATEST",
        invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{function}",
        memory_limit_in_mb=128, aws_request_id="52fdfc07-2182-454f-963f-5f0f9a621d72",
        log_group_name=f"/aws/lambda/{function}", log_stream_name="stream",
        deadline_ms=float("inf"),
    )
    print(json.dumps({"result": app.lambda_handler(event, context)}), flush=True)
"""


@pytest.fixture
def daemon() -> Iterator[socket.socket]:
    """A stand-in for the X-Ray daemon: a UDP socket that keeps what it is sent."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.5)
        yield sock


def received(sock: socket.socket) -> list[dict[str, Any]]:
    """The segment documents sent so far: each datagram is a JSON header line, then one."""
    documents = []
    while True:
        try:
            datagram = sock.recv(65536)
        except TimeoutError:
            return documents
        header, _, body = datagram.decode().partition("\n")
        assert json.loads(header) == {"format": "json", "version": 1}
        documents.append(json.loads(body))


def run_traced(
    function: str, event: dict[str, Any], setup: dict[str, dict[str, bytes]], **environ: str
) -> dict[str, Any]:
    env = {
        **os.environ,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_SERVICE_NAME": function,
        "LAMBDA_TASK_ROOT": str(PROJECT_ROOT / "functions" / function),
        "AWS_LAMBDA_FUNCTION_NAME": function,
        **environ,
    }
    if "POWERTOOLS_TRACE_DISABLED" not in environ:
        env.pop("POWERTOOLS_TRACE_DISABLED", None)
    hex_setup = {b: {k: v.hex() for k, v in objects.items()} for b, objects in setup.items()}
    completed = subprocess.run(
        [sys.executable, "-c", RUN_TRACED, function, json.dumps(hex_setup), json.dumps(event)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.splitlines()[-1])["result"]


def lambda_environment(daemon: socket.socket) -> dict[str, str]:
    host, port = daemon.getsockname()
    return {
        "_X_AMZN_TRACE_ID": f"Root={TRACE_ID};Parent=53995c3f42cd8ad8;Sampled=1",
        "AWS_XRAY_DAEMON_ADDRESS": f"{host}:{port}",
    }


CASES = {
    "serialize_image_data": (
        "serialize_image_data.json",
        {"my-images-bucket": {"incoming/bicycle.png": sample_png()}},
        [("s3", "GetObject")],
    ),
}


@pytest.mark.parametrize("function", sorted(CASES))
def test_in_lambda_the_handler_and_its_aws_calls_are_subsegments(function, daemon):
    event_file, setup, calls = CASES[function]

    # When the handler runs as in Lambda with tracing Active
    run_traced(function, load_event(event_file), setup, **lambda_environment(daemon))

    # Then the daemon got the handler's subsegment, with the cold start annotated, and one
    # subsegment per AWS call, all in Lambda's trace
    documents = received(daemon)
    assert {d["trace_id"] for d in documents} == {TRACE_ID}
    by_name = {d["name"]: d for d in documents}
    handler = by_name["## lambda_handler"]
    assert handler["annotations"]["ColdStart"] is True
    assert handler["annotations"]["Service"] == function
    aws_calls = [
        (d["name"], d["aws"]["operation"]) for d in documents if d.get("namespace") == "aws"
    ]
    assert aws_calls == calls
    # The responses hold images or long key lists: they stay out of the trace
    assert "metadata" not in handler or not any(
        "response" in key for key in handler["metadata"].get(function, {})
    )


def test_the_tracer_is_off_where_powertools_trace_disabled_says_so(daemon):
    # As the offline runtime runs functions: Lambda's variables, and POWERTOOLS_TRACE_DISABLED
    run_traced(
        "serialize_image_data",
        load_event("serialize_image_data.json"),
        CASES["serialize_image_data"][1],
        POWERTOOLS_TRACE_DISABLED="true",
        **lambda_environment(daemon),
    )
    assert received(daemon) == []
