"""An optimized integration's result carries its HTTP answer's metadata, as AWS's does.

Step Functions adds two members to the result of a request-response optimized integration:
`SdkHttpMetadata` (the answer's headers, each as a list in `AllHttpHeaders` and as one value
in `HttpHeaders`, and its `HttpStatusCode`) and `SdkResponseMetadata` (its `RequestId`).
AWS's guide shows them: "the function output is nested inside a dictionary of metadata"
(https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html, a lambda:invoke
result with these headers) and "service integrations return metadata in addition to the
payload in the result" (ResultSelector,
https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html).
AWS recorded them, in LocalStack's snapshot tests, for every `lambda:invoke` (27 results,
e.g. test_variables_in_lambda_task, 2024-11-07), `sns:publish` (13), `sqs:sendMessage` (4),
`dynamodb:putItem`, `getItem`, `deleteItem` and `updateItem` (10), `states:startExecution`
(2, 2025-11-06) and `ecs:runTask` (2), and in the TaskSubmitted output of every
`.sync` and `.waitForTaskToken` step (39). They are not in an AWS SDK integration's result
(`aws-sdk:*`, 21 results), nor in `events:putEvents`'s (2) or `apigateway:invoke`'s (14),
nor in the final result of a `.sync` or `.waitForTaskToken` step (24). moto's tasks drop
the SDK's ResponseMetadata, so offline results had none: a ResultSelector or a Choice
reading `$.SdkHttpMetadata.HttpStatusCode` failed offline only, and the 256 KiB result
quota counted a few hundred bytes fewer than AWS counts.

Each task client records its last answer (botocore's after-call, in the task's thread);
`with_sdk_metadata` adds it to that task's result, when the result is one AWS adds it to.
The headers are the offline answer's own, in the case it sent them; `HttpHeaders` in AWS's
order (case-insensitive). mlwf.offline.bridge answers Lambda's Invoke with the headers
Lambda's answer was recorded with.
"""

from __future__ import annotations

import threading
from email.utils import formatdate
from typing import Any

# (resource type, API action) of the integrations AWS adds the metadata to (above)
WITH_METADATA = frozenset(
    {
        ("lambda", "invoke"),
        ("sns", "publish"),
        ("sqs", "sendMessage"),
        ("dynamodb", "getItem"),
        ("dynamodb", "putItem"),
        ("dynamodb", "deleteItem"),
        ("dynamodb", "updateItem"),
        ("states", "startExecution"),
        ("ecs", "runTask"),
    }
)

# Header names as AWS's answers spell them (the recorded ones above); moto sends them in
# lowercase, and a JSONPath reading `$.SdkHttpMetadata.HttpHeaders.Date` is case-sensitive.
_AWS_SPELLING = {
    "content-length": "Content-Length",
    "content-type": "Content-Type",
    "date": "Date",
    "server": "Server",
    "x-amzn-requestid": "x-amzn-RequestId",
}

_last = threading.local()


def record_answers(client: Any) -> None:
    """Each answer the task client gets is kept for its task (the same thread)."""

    def keep(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        _last.answer = (http_response, parsed.get("ResponseMetadata") or {})

    client.meta.events.register("after-call", keep)


def with_sdk_metadata(resource_type: str, resource: str, result: Any) -> None:
    """Add the task's last answer's metadata to `result`, where AWS adds it."""
    answer = getattr(_last, "answer", None)
    _last.answer = None
    action = resource.split(".", 1)[0]  # sendMessage.waitForTaskToken: the call's own
    if answer is None or not isinstance(result, dict):
        return
    if (resource_type, action) not in WITH_METADATA:
        return
    http_response, metadata = answer
    headers = [
        (_AWS_SPELLING.get(str(name).lower(), str(name)), str(value))
        for name, value in dict(http_response.headers).items()
    ]
    if not any(name == "Content-Length" for name, _ in headers):
        # moto's in-process answers have none; every recorded AWS answer has one
        headers.append(("Content-Length", str(len(_body(http_response)))))
    result["SdkHttpMetadata"] = {
        "AllHttpHeaders": {name: [value] for name, value in headers},
        "HttpHeaders": dict(sorted(headers, key=lambda item: item[0].lower())),
        "HttpStatusCode": int(http_response.status_code),
    }
    result["SdkResponseMetadata"] = {"RequestId": str(metadata.get("RequestId", ""))}


def _body(http_response: Any) -> bytes:
    # an answer built in-process may have no body stream at all (botocore's AWSResponse
    # reads its raw stream on first use)
    if getattr(http_response, "raw", True) is None:
        return b""
    return bytes(http_response.content or b"")


def invoke_answer_headers(parsed: dict[str, Any], payload: bytes) -> dict[str, str]:
    """The headers Lambda's Invoke answer was recorded with (in LocalStack's snapshot
    tests, e.g. test_variables_in_lambda_task, 2024-11-07), that Step Functions passes on in
    a lambda:invoke result (above); the trace and transport ones left out."""
    headers = {
        "Content-Length": str(len(payload)),
        "Content-Type": "application/json",
        "Date": formatdate(usegmt=True),
        "X-Amz-Executed-Version": str(parsed["ExecutedVersion"]),
    }
    if "FunctionError" in parsed:
        headers["X-Amz-Function-Error"] = str(parsed["FunctionError"])
    if "LogResult" in parsed:
        headers["X-Amz-Log-Result"] = str(parsed["LogResult"])
    return headers
