"""Invoke's payload limits (mlwf/offline/bridge.py): 6 MB each way for a synchronous call,
1 MB for an event, as https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html gives
them. Offline took and answered 7 MB either way (found by a user-edit walk)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from mlwf.offline.bridge import EVENT_MAX_BYTES, REQUEST_MAX_BYTES, RESPONSE_MAX_BYTES, Bridge
from tests.helpers.paths import REGION

NAME = "limits"


def sized(size: int) -> str:
    """A JSON text of exactly `size` bytes: a string."""
    return json.dumps("x" * (size - 2))


def answer(event, invocation):
    """Answers a result of the size the event asks for (a JSON text of that many bytes),
    or the text it is given."""
    if isinstance(event, dict) and "text" in event:
        return event["text"]
    return "x" * (event["answer"] - 2) if isinstance(event, dict) else {}


@pytest.fixture
def lam():
    with Bridge(functions={NAME: answer}):
        yield boto3.client("lambda", region_name=REGION)


def test_a_synchronous_request_over_6_mb_is_refused(lam):
    assert lam.invoke(FunctionName=NAME, Payload=sized(REQUEST_MAX_BYTES))["StatusCode"] == 200
    with pytest.raises(ClientError) as refused:
        lam.invoke(FunctionName=NAME, Payload=sized(REQUEST_MAX_BYTES + 1))
    response = refused.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert response["Error"]["Message"] == (
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )


def test_an_event_over_1_mb_is_refused(lam):
    accepted = lam.invoke(FunctionName=NAME, InvocationType="Event", Payload=sized(EVENT_MAX_BYTES))
    assert accepted["StatusCode"] == 202
    with pytest.raises(ClientError) as refused:
        lam.invoke(FunctionName=NAME, InvocationType="Event", Payload=sized(EVENT_MAX_BYTES + 1))
    assert refused.value.response["Error"]["Message"] == (
        "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)"
    )


def test_a_result_over_the_limit_fails_the_invocation(lam):
    taken = lam.invoke(FunctionName=NAME, Payload=json.dumps({"answer": RESPONSE_MAX_BYTES}))
    assert "FunctionError" not in taken
    assert len(taken["Payload"].read()) == RESPONSE_MAX_BYTES
    failed = lam.invoke(FunctionName=NAME, Payload=json.dumps({"answer": RESPONSE_MAX_BYTES + 1}))
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read()) == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size "
        "(6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }


def test_a_result_is_measured_in_utf_8_as_lambdas_runtime_writes_it(lam):
    # 4,000,002 bytes as UTF-8; json.dumps' default \u escapes made it 12,000,002
    request = json.dumps({"text": "é" * 2_000_000}, ensure_ascii=False).encode()
    taken = lam.invoke(FunctionName=NAME, Payload=request)
    assert "FunctionError" not in taken
    assert json.loads(taken["Payload"].read()) == "é" * 2_000_000
