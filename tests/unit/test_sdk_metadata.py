"""mlwf/offline/sdk_metadata.py: which results get SdkHttpMetadata and in what form; and why
the patch exists: moto's own tasks give none (tests/offline/test_sdk_metadata.py runs it)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from mlwf.offline.moto_patches import stops_as_aws
from mlwf.offline.sdk_metadata import record_answers, with_sdk_metadata
from tests.helpers.definitions import one_task_machine
from tests.helpers.executions import run_to_end


class Client:
    """What record_answers uses of a botocore client: its event system."""

    def __init__(self) -> None:
        self.handlers: dict[str, Any] = {}
        self.meta = SimpleNamespace(events=SimpleNamespace(register=self.handlers.__setitem__))

    def answer(self, headers: dict[str, str], body: bytes = b"{}", request_id: str = "r-1") -> None:
        response = SimpleNamespace(headers=headers, status_code=200, content=body)
        self.handlers["after-call"](
            http_response=response, parsed={"ResponseMetadata": {"RequestId": request_id}}
        )


@pytest.fixture
def client() -> Client:
    client = Client()
    record_answers(client)
    return client


def test_an_answer_from_moto_is_spelled_as_aws_spells_it(client) -> None:
    # Given moto's in-process answer: lowercase names, no Content-Length
    client.answer({"content-type": "text/xml", "date": "D", "x-amzn-requestid": "r-1"}, b"<x/>")
    result: dict[str, Any] = {"MessageId": "m"}
    with_sdk_metadata("sns", "publish", result)
    assert result["SdkHttpMetadata"] == {
        "AllHttpHeaders": {
            "Content-Type": ["text/xml"],
            "Date": ["D"],
            "x-amzn-RequestId": ["r-1"],
            "Content-Length": ["4"],
        },
        "HttpHeaders": {
            "Content-Length": "4",
            "Content-Type": "text/xml",
            "Date": "D",
            "x-amzn-RequestId": "r-1",
        },
        "HttpStatusCode": 200,
    }
    assert result["SdkResponseMetadata"] == {"RequestId": "r-1"}


@pytest.mark.parametrize(
    ("resource_type", "resource"),
    [("aws-sdk:sqs", "sendMessage"), ("events", "putEvents"), ("apigateway", "invoke")],
)
def test_integrations_aws_gives_none_get_none(client, resource_type, resource) -> None:
    client.answer({"Content-Length": "2"})
    result: dict[str, Any] = {}
    with_sdk_metadata(resource_type, resource, result)
    assert result == {}


def test_a_callback_steps_call_is_named_by_its_action(client) -> None:
    client.answer({"Content-Length": "2"})
    result: dict[str, Any] = {}
    with_sdk_metadata("sqs", "sendMessage.waitForTaskToken", result)
    assert result["SdkHttpMetadata"]["HttpStatusCode"] == 200


def test_an_answer_is_given_to_one_result_only(client) -> None:
    # a later result with no call of its own (or whose call failed) gets no stale answer
    client.answer({"Content-Length": "2"})
    first: dict[str, Any] = {}
    second: dict[str, Any] = {}
    with_sdk_metadata("sns", "publish", first)
    with_sdk_metadata("sns", "publish", second)
    assert "SdkHttpMetadata" in first and second == {}


def test_the_pinned_moto_gives_no_metadata(aws) -> None:
    # (why the patch exists; if moto starts adding it, drop the patch)
    with stops_as_aws():
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="t")["TopicArn"]
        machine = one_task_machine(
            "T", "arn:aws:states:::sns:publish", Parameters={"TopicArn": topic, "Message": "m"}
        )
        ended = run_to_end(sfn, machine)
    assert ended["status"] == "SUCCEEDED", ended
    result = json.loads(ended["output"])
    assert "MessageId" in result and "SdkHttpMetadata" not in result
