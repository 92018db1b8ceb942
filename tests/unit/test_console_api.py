"""The console's API over boto3 (against moto): the stack and its state machines, the live
execution list, starting an execution, and every bad input (unknown stack, no credentials,
no endpoint, an execution that is gone) as one readable sentence, in the page and once on
the terminal, never a stack trace."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mlwf.console.api import Console, top_confidence
from mlwf.console.aws import Aws, ConsoleError
from mlwf.console.server import ConsoleServer
from mlwf.offline.server import free_port
from mlwf.offline.stack_record import record_stack
from mlwf.offline.template_spec import StackResource
from tests.helpers.executions import wait_until_ended

STACK = "console-test"
DEFINITION = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}
CAUSE = json.dumps(
    {
        "errorMessage": "a.png: top confidence 0.61 is below the threshold 0.93; "
        "inferences: [0.61, 0.39]",
        "errorType": "ThresholdConfidenceNotMet",
    }
)


@pytest.fixture
def machine(aws: None) -> str:
    """A state machine, in a stack recorded as `mlwf offline up` records its stack."""
    import boto3

    arn = boto3.client("stepfunctions").create_state_machine(
        name=f"{STACK}-Echo",
        definition=json.dumps(DEFINITION),
        roleArn="arn:aws:iam::123456789012:role/states",
    )["stateMachineArn"]
    record_stack(
        boto3.client("cloudformation"),
        stack_name=STACK,
        parameters={},
        outputs={"Threshold": "0.93", "ImagesBucketName": "bucket"},
        resources=[StackResource("Echo", "AWS::StepFunctions::StateMachine", arn)],
    )
    return arn


@pytest.fixture
def console(aws: None) -> Iterator[Console]:
    reported: list[str] = []
    console = Console(Aws(), STACK, report=reported.append)
    console.reported = reported  # type: ignore[attr-defined]
    yield console
    console.close()


def start(console: Console, arn: str, payload: dict[str, Any], name: str) -> str:
    return console.start_execution(arn, json.dumps(payload), name)["arn"]


def test_the_stack_lists_its_state_machines_and_threshold(machine, console):
    stack = console.stack()
    assert [m["arn"] for m in stack["state_machines"]] == [machine]
    assert stack["state_machines"][0]["type"] == "STANDARD"
    assert stack["threshold"] == 0.93 and stack["bucket"] == "bucket"
    graph = console.state_machine(machine)["graph"]
    assert [n["id"] for n in graph["nodes"]] == ["__start__", "Echo", "__end__"]


def test_an_unknown_stack_is_a_sentence_naming_it(aws):
    console = Console(Aws(), "no-such-stack")
    with pytest.raises(ConsoleError) as raised:
        console.stack()
    assert raised.value.status == 404
    assert "stack 'no-such-stack' does not exist in region us-east-1" in raised.value.message
    assert "--stack-name" in raised.value.message


def test_the_list_shows_key_and_confidence_and_then_only_what_changed(machine, console):
    import boto3

    # Given an execution that has ended (moto runs it in a thread: listed any earlier, it
    # is RUNNING, and stays so in the list until the next ListExecutions)
    first = start(console, machine, {"s3_key": "<b>a.png</b>", "inferences": [0.2, 0.8]}, "first")
    wait_until_ended(boto3.client("stepfunctions"), first)
    console.executions(machine)
    console.wait_described(timeout=30)
    listed = console.executions(machine)
    (row,) = listed["rows"]
    assert row["key"] == "<b>a.png</b>"  # as it is: the page writes it as text
    assert row["confidence"] == 0.8 and row["status"] == "SUCCEEDED" and row["described"]
    assert listed["pending"] == 0
    # Then a poll with the revision it has gets nothing until something changes
    assert console.executions(machine, since=listed["revision"])["rows"] == []
    start(console, machine, {"s3_key": "b.png"}, "second")  # (makes the next poll list)
    console.executions(machine)
    console.wait_described(timeout=30)
    changed = console.executions(machine, since=listed["revision"])["rows"]
    assert [r["name"] for r in changed] == ["second"]


def test_the_top_confidence_of_a_rejected_image_comes_from_its_cause():
    failed = {"status": "FAILED", "error": "ThresholdConfidenceNotMet", "cause": CAUSE}
    assert top_confidence(failed) == 0.61
    assert top_confidence({"status": "FAILED", "error": "ImageNotFound", "cause": "x"}) is None
    assert top_confidence({"status": "SUCCEEDED", "output": "not json"}) is None


def test_input_that_is_not_json_is_refused_before_aws(machine, console):
    with pytest.raises(ConsoleError, match="the input is not JSON") as raised:
        console.start_execution(machine, "{oops", None)
    assert raised.value.status == 400


def test_no_endpoint_says_to_start_the_offline_stack(monkeypatch):
    where = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL", where)
    console = Console(Aws(), STACK)
    console.aws._config.retries = {"max_attempts": 1}
    with pytest.raises(ConsoleError) as raised:
        console.stack()
    assert raised.value.status == 503
    assert f"nothing answers at AWS_ENDPOINT_URL={where}" in raised.value.message
    assert "mlwf offline up" in raised.value.message


def test_no_credentials_says_how_to_get_some(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance metadata lookups
    with pytest.raises(ConsoleError) as raised:
        Console(Aws(), STACK).stack()
    assert raised.value.status == 401
    assert "no AWS credentials" in raised.value.message


# --------------------------------------------------------------------------- server


@pytest.fixture
def served(machine: str, console: Console) -> Iterator[tuple[ConsoleServer, list[str]]]:
    said: list[str] = []
    server = ConsoleServer(console, 0, say=said.append)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    yield server, said
    server.shutdown()
    thread.join()
    server.server_close()


def request(
    server: ConsoleServer, method: str, path: str, body: str | None = None, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), data


def test_the_page_comes_with_a_policy_that_runs_only_its_own_scripts(served):
    server, _ = served
    assert server.server_address[0] == "127.0.0.1"
    status, headers, body = request(server, "GET", "/")
    assert status == 200 and b'src="/static/app.js"' in body
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    for name in ("app.js", "dom.js", "graph.js", "charts.js", "style.css"):
        assert request(server, "GET", f"/static/{name}")[0] == 200
    assert request(server, "GET", "/static/../server.py")[0] == 404


def test_a_gone_execution_is_a_message_in_the_page_and_one_line_on_the_terminal(served, machine):
    server, said = served
    arn = machine.replace(":stateMachine:", ":execution:") + ":gone"
    for _ in range(2):
        status, _, body = request(server, "GET", f"/api/execution?arn={arn}")
        assert status == 404
        message = json.loads(body)["error"]
        assert message.startswith(f"execution {arn} does not exist")
        assert "Traceback" not in message
    assert said == [f"mlwf console: {message}"]  # once, however often the page asks


def test_other_hosts_and_cross_site_posts_are_refused(served, machine):
    server, _ = served
    assert request(server, "GET", "/api/stack", Host="attacker.example")[0] == 403
    form = json.dumps({"arn": machine, "input": "{}"})
    assert (
        request(server, "POST", "/api/start-execution", form, **{"Content-Type": "text/plain"})[0]
        == 415
    )
    status, _, body = request(
        server, "POST", "/api/start-execution", form, **{"Content-Type": "application/json"}
    )
    assert status == 200 and ":execution:" in json.loads(body)["arn"]
