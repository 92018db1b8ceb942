"""What Invoke answers for a handler's result, as Lambda's Python runtime marshals it
(awslambdaric's LambdaMarshaller, which mlwf.offline.lambda_runtime runs): bytes as they are,
a Decimal as its number, UTF-8 unescaped on python3.12 and later; a result it cannot marshal
fails with Runtime.MarshalError and no trace. An error payload's keys come in the order of
awslambdaric's make_error. Offline marshalled with json.dumps: a bytes result and a
DynamoDB item's Decimal failed with Runtime.MarshalError (AWS's run of a bytes result:
LocalStack's test_lambda_task.py::test_invoke_bytes_payload, recorded 2025-11-06)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from mlwf.offline.bridge import Bridge
from mlwf.offline.functions import LocalFunction
from tests.helpers.local_functions import make_function
from tests.helpers.paths import REGION

RESULTS = """
from decimal import Decimal


def handler(event, context):
    kind = event["kind"]
    if kind == "bytes":
        return bytes.fromhex(event["hex"])
    if kind == "decimal":  # what boto3's DynamoDB resource reads a number as
        return {"price": Decimal("1.10"), "id": Decimal("12345678901234567890.5")}
    if kind == "text":
        return {"name": "vélo"}
    if kind == "set":
        return {1, 2}
    raise ValueError("bad kind")
"""


@pytest.fixture(scope="module")
def function(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalFunction]:
    folder: Path = tmp_path_factory.mktemp("results")
    function = make_function(folder, "Results", source=RESULTS)
    try:
        with Bridge(functions={function.spec.name: function}):
            yield function
    finally:
        function.close()


def invoked(function: LocalFunction, event: dict) -> tuple[dict, bytes]:
    lam = boto3.client("lambda", region_name=REGION)
    response = lam.invoke(FunctionName=function.spec.name, Payload=json.dumps(event))
    return response, response["Payload"].read()


@pytest.mark.parametrize("data", [b'"HelloWorld!"', b"\x00\xff not JSON"], ids=["json", "binary"])
def test_bytes_are_answered_as_they_are(function, data):
    response, payload = invoked(function, {"kind": "bytes", "hex": data.hex()})
    assert "FunctionError" not in response
    assert payload == data


def test_a_decimal_is_answered_as_its_number_digit_for_digit(function):
    response, payload = invoked(function, {"kind": "decimal"})
    assert "FunctionError" not in response
    assert payload == b'{"price": 1.10, "id": 12345678901234567890.5}'


def test_text_is_answered_in_utf_8_unescaped(function):
    _, payload = invoked(function, {"kind": "text"})
    assert payload == '{"name": "vélo"}'.encode()


def test_a_result_that_cannot_be_marshalled_fails_with_no_trace(function):
    response, payload = invoked(function, {"kind": "set"})
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(payload)
    assert list(error) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert error["errorType"] == "Runtime.MarshalError"
    assert error["errorMessage"] == (
        "Unable to marshal response: Object of type set is not JSON serializable"
    )
    assert error["stackTrace"] == []


def test_a_handlers_error_has_make_errors_key_order(function):
    response, payload = invoked(function, {"kind": "other"})
    error = json.loads(payload)
    assert list(error) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "bad kind")
    assert response["FunctionError"] == "Unhandled"
