"""An AWS action the offline stack does not model, answered as an error in the service's
protocol instead of moto's HTTP 500.

moto raises NotImplementedError for an action it does not implement (RedriveExecution, for
one). Its server turned that into HTTP 500 with a Python traceback on the stack's terminal,
and the AWS SDKs and CLI, which retry a 500 as a passing fault, sent it four more times
before giving up with "reached max retries". The answer is now HTTP 501 Not Implemented
with the error code `NotImplemented` (the code S3 uses for functionality it does not
implement, https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html) and a
message naming the action: the SDKs do not retry a 501, and the caller reads why in one
line. Any other NotImplementedError of moto's (a filter of an action it lacks, such as
RDS's `domain` for DescribeDBInstances) is the same 501, in moto's words. The same answers
reach in-process clients.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was
from xml.sax.saxutils import escape

STATUS = 501
CODE = "NotImplemented"
JSON_PROTOCOLS = ("json", "rest-json")


def refusal(service: str, action: str) -> str:
    return (
        f"{action} ({service}) is not modelled by the offline stack: moto, its engine, does "
        "not implement it (docs/offline.md, What it does not model)"
    )


def _part_refusal(exc: NotImplementedError) -> str:
    return f"{exc} (moto, the offline stack's engine, does not implement it)"


def error_response(protocol: str, message: str) -> tuple[int, dict[str, str], str]:
    """The 501 in the wire format of `protocol`, as botocore reads an error."""
    if protocol in JSON_PROTOCOLS:
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": CODE}
        return STATUS, headers, json.dumps({"__type": CODE, "message": message})
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Sender</Type>'
        f"<Code>{CODE}</Code><Message>{escape(message)}</Message></Error></ErrorResponse>"
    )
    return STATUS, {"Content-Type": "application/xml", "x-amzn-ErrorType": CODE}, body


@contextmanager
def unmodelled_actions_refused() -> Iterator[None]:
    """moto's NotImplementedError for an action answered as a 501, while the block runs."""
    from moto.core.responses import BaseResponse
    from moto.core.utils import camelcase_to_underscores, get_service_model

    call_action = BaseResponse.__dict__["call_action"]  # KeyError: moto changed; see the test

    def call(response: Any) -> Any:
        try:
            return call_action(response)
        except NotImplementedError as exc:
            service, action = response.boto3_service_name, response._get_action()
            missing = f"The {camelcase_to_underscores(action)} action has not been implemented"
            # else a part of an action moto lacks (a filter, a policy type): in its words
            words = refusal(service, action) if str(exc) == missing else _part_refusal(exc)
            return error_response(get_service_model(service).protocol, words)

    with patch.object(BaseResponse, "call_action", call):
        yield
