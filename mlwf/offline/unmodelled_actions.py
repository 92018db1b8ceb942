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

A REST service's action moto has no route for (Lambda's GetAccountSettings, for one) never
reached a handler: moto's server answered 404 with an HTML page, which the SDKs report as
an unknown error quoting the HTML. Over HTTP it is now the same 501, naming the action that
botocore's model of the service routes the method and path to; a path no action of the
service has is a 404 `UnknownOperationException`, in the service's protocol.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was
from xml.sax.saxutils import escape

STATUS = 501
_SERVER_MODULE = "moto.moto_server.threaded_moto_server"
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

    with (
        patch.object(BaseResponse, "call_action", call),
        patch(f"{_SERVER_MODULE}.create_backend_app", _unrouted_refused(_create_backend_app())),
    ):
        yield


def _create_backend_app() -> Any:
    """The function moto's ThreadedMotoServer makes each service's app with when it starts
    (patched before the offline stack serves)."""
    from moto.moto_server import threaded_moto_server

    return threaded_moto_server.create_backend_app  # AttributeError: moto changed; the test


def _unrouted_refused(create_backend_app: Any) -> Any:
    from moto.core.responses import boto3_service_name  # moto's "awslambda" is "lambda"

    def create(service: str) -> Any:
        app = create_backend_app(service)
        name = boto3_service_name.get(service, service)

        def not_routed(error: Any) -> Any:
            from flask import request

            protocol, action = operation(name, request.method, request.path, request.args)
            if action is not None:
                status, headers, body = error_response(protocol, refusal(name, action))
                return body, status, headers
            code, words = "UnknownOperationException", f"Unknown operation: {request.method}"
            headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code}
            return json.dumps({"__type": code, "message": f"{words} {request.path}"}), 404, headers

        app.register_error_handler(404, not_routed)
        return app

    return create


def operation(service: str, method: str, path: str, query: Any = None) -> tuple[str, str | None]:
    """The service's protocol (botocore's name for it), and the action botocore's model
    routes `method`, `path` and `query` to (None when none does). Actions that share a path
    and differ by a query key (Lambda's GetProvisionedConcurrencyConfig and
    ListProvisionedConcurrencyConfigs, `?List=ALL`) are told apart by it."""
    from moto.core.utils import get_service_model

    try:
        model = get_service_model(service)
    except Exception:  # a moto backend botocore does not know by that name
        return "rest-json", None
    found: list[tuple[int, str]] = []
    for action in model.operation_names:
        http = model.operation_model(action).http
        uri = http.get("requestUri", "")
        if http.get("method") != method or not _route(uri).fullmatch(path):
            continue
        required = _query(uri)
        if all(key in (query or {}) and (not v or query[key] == v) for key, v in required.items()):
            found.append((len(required), action))
    return model.protocol, max(found)[1] if found else None


def _query(request_uri: str) -> dict[str, str]:
    """The query keys (and fixed values) a botocore requestUri requires: `?List=ALL`."""
    _, _, query = request_uri.partition("?")
    pairs = (part.partition("=") for part in query.split("&") if part)
    return {key: value for key, _, value in pairs}


def _route(request_uri: str) -> re.Pattern[str]:
    """botocore's `/2015-03-31/functions/{FunctionName}/invocations?...` as a path pattern."""
    template = request_uri.split("?")[0]
    parts = re.split(r"(\{[^}]+\})", template)
    pattern = "".join(
        (".+" if part.endswith("+}") else "[^/]+") if part.startswith("{") else re.escape(part)
        for part in parts
    )
    return re.compile(pattern + "/?" if not pattern.endswith("/") else pattern + "?")
