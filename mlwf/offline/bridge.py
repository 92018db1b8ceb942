"""Answer `lambda:Invoke` and `sagemaker-runtime:InvokeEndpoint` in-process (the local
trainer runs from moto's CreateTrainingJob: mlwf.offline.server).

moto runs state machines (`mock_aws(config={"stepfunctions": {"execute_state_machine": True}})`)
but answers Lambda tasks through its Lambda backend, which needs Docker, and its
sagemaker-runtime mock returns canned bodies and cannot take a binary body. The bridge
short-circuits those two API calls in botocore, before anything is sent, and answers them
with Python callables: the real handlers and a local model.

It registers on every botocore session, including the ones moto's interpreter, Powertools
and the SageMaker SDK create on their own, the way moto registers itself: through
`botocore.handlers.BUILTIN_HANDLERS`. Outside a `with Bridge(...)` block it stays inert.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import boto3
import botocore.handlers
from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody

from mlwf.offline.async_invocations import AsyncInvocations
from mlwf.offline.sdk_metadata import invoke_answer_headers

LambdaHandler = Callable[[Any, Any], Any]


class SyncExecutions(Protocol):
    """What the bridge needs of mlwf.offline.express.ExpressWorkflows (a protocol, so the
    bridge does not import the module that imports it)."""

    def start_sync(self, params: dict[str, Any]) -> dict[str, Any]: ...

    def check(self, operation: str, params: dict[str, Any]) -> None: ...

    def started_arn(self, state_machine_arn: str, execution_arn: str) -> str: ...


# (body, content type, the InvokeEndpoint parameters) -> (response body, response content type)
EndpointHandler = Callable[[bytes, str, dict[str, Any]], tuple[bytes, str]]

_PARAMS_KEY = "mlwf_bridge_api_params"
# Invoke's payload limits: 6 MB each way for a synchronous call, 1 MB for an event
# (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html), with the sizes and
# words Lambda answers: "Request must be smaller than 6291456 bytes for the InvokeFunction
# operation" (awslabs/aws-athena-query-federation#793), "<n> byte payload is too large for
# the Event invocation type (limit <L> bytes)" (ASFHyP3/hyp3#2241, when the limit was 256
# KB), and a result over 6291556 bytes fails the invocation, Function.ResponseSizeTooLarge
# (cube-js/cube#3175).
REQUEST_MAX_BYTES = 6291456
EVENT_MAX_BYTES = 1048576
RESPONSE_MAX_BYTES = 6291556


class EndpointModelError(Exception):
    """Raised by an endpoint handler when its model fails: SageMaker's ModelError (424)."""


class AwsErrorResponse(Exception):  # noqa: N818 - it is an answer, not a failure of the bridge
    """Raised by a handler to answer with an AWS error (code, message, HTTP status)."""

    def __init__(
        self, code: str, message: str, status: int = 400, fields: dict[str, str] | None = None
    ):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status
        self.fields = fields or {}  # the error's other members, as the API models them


class FunctionError(Exception):
    """A function failed: `payload` is what Lambda returns (errorType, errorMessage, ...)."""

    def __init__(self, payload: dict[str, Any]):
        super().__init__(f"{payload.get('errorType')}: {payload.get('errorMessage')}")
        self.payload = payload


@dataclass
class Invocation:
    """What the bridge passes a Lambda handler runner besides the event."""

    function_name: str
    request_id: str
    qualifier: str | None = None


@dataclass
class Bridge:
    """Routes function names to Lambda handlers and endpoint names to endpoint handlers.

    `functions` maps a function name to a callable `(event, Invocation) -> result`; it raises
    to report a function error. `endpoints` maps an endpoint name to an EndpointHandler, or
    `endpoint_resolver(name)` finds one (None: the endpoint does not exist).
    """

    functions: dict[str, Callable[[Any, Invocation], Any]] = field(default_factory=dict)
    endpoints: dict[str, EndpointHandler] = field(default_factory=dict)
    endpoint_resolver: Callable[[str], EndpointHandler | None] | None = None
    # Called with the request right after moto has recorded a CreateTrainingJob.
    on_training_job_created: Callable[[dict[str, Any]], None] | None = None
    log_tail: Callable[[str, str], str] | None = None  # (function name, request id) -> lines
    # function name -> {qualifier: version it runs}, for those with versions or aliases
    qualifiers: dict[str, dict[str, str]] = field(default_factory=dict)
    # (function name, reservation or None) once Lambda's API changed it (function_concurrency)
    on_concurrency_changed: Callable[[str, int | None], None] | None = None
    # Step Functions calls whose answer depends on the machine's type (mlwf.offline.express).
    express: SyncExecutions | None = None
    account_id: str = "123456789012"
    region: str = "us-east-1"
    # InvocationType Event: queued, run later, retried (mlwf.offline.async_invocations)
    asynchronous: AsyncInvocations = field(
        default_factory=lambda: AsyncInvocations(not_run=AwsErrorResponse)
    )

    def __enter__(self) -> Bridge:
        with _LOCK:
            _ACTIVE.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.asynchronous.stop()
        with _LOCK:
            _ACTIVE.remove(self)

    # -- lambda:Invoke ---------------------------------------------------------------
    def invoke_function(self, params: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        name, qualifier = _function_name(params["FunctionName"], params.get("Qualifier"))
        if params.get("Qualifier") not in (None, qualifier):  # `F:$LATEST` with Qualifier 1
            # Lambda's words, as the EventBridge Scheduler troubleshooting page quotes them
            # (https://docs.aws.amazon.com/scheduler/latest/UserGuide/troubleshooting.html);
            # offline ran the one in the name
            return error_response(
                400,
                "InvalidParameterValueException",
                "The derived qualifier from the function name does not match the specified "
                "qualifier.",
            )
        runner = self.functions.get(name)
        if runner is None:
            # Lambda's words name the version asked for, $LATEST when none was (LocalStack's
            # recordings of AWS, test_task_lambda.py::test_no_such_function: "Function not
            # found: arn:aws:lambda:<region>:<account>:function:no_such_...:$LATEST")
            arn = f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"
            message = f"Function not found: {arn}:{qualifier or '$LATEST'}"
            return error_response(404, "ResourceNotFoundException", message)
        executed = self.qualifiers.get(name, {"$LATEST": "$LATEST"}).get(qualifier or "$LATEST")
        if executed is None:  # a version or alias the function does not have
            arn = f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"
            return error_response(
                404, "ResourceNotFoundException", f"Function not found: {arn}:{qualifier}"
            )
        invocation_type = params.get("InvocationType", "RequestResponse")
        if invocation_type == "DryRun":  # an empty body, which botocore reads as a Payload
            return _response(204, {"StatusCode": 204, "Payload": _stream(b"")})
        request = _as_bytes(params.get("Payload"))
        if invocation_type == "Event" and len(request) > EVENT_MAX_BYTES:
            message = (
                f"{len(request)} byte payload is too large for the Event invocation type "
                f"(limit {EVENT_MAX_BYTES} bytes)"
            )
            return error_response(413, "RequestEntityTooLargeException", message)
        if len(request) > REQUEST_MAX_BYTES:
            message = (
                f"Request must be smaller than {REQUEST_MAX_BYTES} bytes for the InvokeFunction "
                "operation"
            )
            return error_response(413, "RequestEntityTooLargeException", message)
        try:
            event = json.loads(request or b"{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            return error_response(
                400, "InvalidRequestContentException", "Could not parse request body"
            )
        invocation = Invocation(name, str(uuid.uuid4()), qualifier)
        if invocation_type == "Event":  # queued: 202 now, the function runs after
            self.asynchronous.submit(lambda: runner(event, invocation), name)
            return _response(202, {"StatusCode": 202, "Payload": _stream(b"")})
        parsed: dict[str, Any] = {"ExecutedVersion": executed}
        try:
            result = runner(event, invocation)
            # A function's own process answers the payload its runtime marshalled (bytes);
            # a function of a test's, in this process, its result: marshalled here as
            # Lambda's Python runtime does it (awslambdaric's lambda_runtime_marshaller:
            # bytes as they are, UTF-8 unescaped on python3.12 and later, which the 6 MB
            # counts: "é" is 2 bytes, not the 6 of "\u00e9")
            payload = (
                result
                if isinstance(result, bytes)
                else json.dumps(result, ensure_ascii=False).encode()
            )
            if len(payload) > RESPONSE_MAX_BYTES:
                parsed["FunctionError"] = "Unhandled"
                payload = json.dumps(_response_too_large()).encode()
        except AwsErrorResponse as exc:
            return error_response(exc.status, exc.code, exc.message, exc.fields)
        except FunctionError as exc:  # as the function's runtime reported it
            parsed["FunctionError"] = "Unhandled"
            # awslambdaric's make_error: the request id before the trace, which is last
            error = dict(exc.payload)
            trace = error.pop("stackTrace", None)
            error["requestId"] = invocation.request_id
            if trace is not None:
                error["stackTrace"] = trace
            payload = json.dumps(error).encode()
        except Exception as exc:  # a function error, reported the way Lambda reports it
            parsed["FunctionError"] = "Unhandled"
            payload = json.dumps(lambda_error_payload(exc, invocation.request_id)).encode()
        if params.get("LogType") == "Tail" and self.log_tail is not None:
            # The last 4 KB of the invocation's log, base64, as Lambda answers LogType=Tail
            # (LogResult: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
            tail = self.log_tail(name, invocation.request_id).encode()[-4096:]
            parsed["LogResult"] = base64.b64encode(tail).decode()
        parsed.update(StatusCode=200, Payload=_stream(payload))
        return _response(200, parsed, invoke_answer_headers(parsed, payload))

    # -- sagemaker-runtime:InvokeEndpoint --------------------------------------------
    def invoke_endpoint(self, params: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        name = params["EndpointName"]
        body = _as_bytes(params.get("Body"))
        try:
            handler = self.endpoints.get(name)
            if handler is None and self.endpoint_resolver is not None:
                handler = self.endpoint_resolver(name)
            if handler is None:
                message = f"Endpoint {name} of account {self.account_id} not found."
                return error_response(400, "ValidationError", message)
            response_body, content_type = handler(body, params.get("ContentType", ""), params)
        except AwsErrorResponse as exc:
            return error_response(exc.status, exc.code, exc.message, exc.fields)
        except EndpointModelError as exc:
            message = (
                "Received client error (400) from primary with message "
                f'"{exc}". See CloudWatch logs for the endpoint.'
            )
            return error_response(424, "ModelError", message)
        parsed = {
            "Body": _stream(response_body),
            "ContentType": content_type,
            "InvokedProductionVariant": "AllTraffic",
        }
        return _response(200, parsed)

    # -- states: StartSyncExecution (moto's in-process routing misses its sync- host) ----
    def start_sync_execution(self, params: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        if self.express is None:
            return error_response(400, "UnknownOperationException", "StartSyncExecution")
        try:
            return _response(200, self.express.start_sync(params))
        except AwsErrorResponse as exc:
            return error_response(exc.status, exc.code, exc.message, exc.fields)


def _response_too_large() -> dict[str, str]:
    return {
        "errorMessage": (
            "Response payload size exceeded maximum allowed payload size "
            f"({RESPONSE_MAX_BYTES} bytes)."
        ),
        "errorType": "Function.ResponseSizeTooLarge",
    }


def lambda_error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    """The payload Lambda's Python runtime returns for an unhandled exception."""
    # Lambda's trace starts in the handler's module: leave out the bridge's own frames.
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if "/mlwf/offline/" not in f.filename
    ]
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


# -- botocore plumbing -------------------------------------------------------------------
_LOCK = threading.RLock()
_ACTIVE: list[Bridge] = []


def _install() -> None:
    """Register the handlers on every session, present and future, once per process.

    A client copies its session's handlers when it is created, so this runs when the module
    is imported, before the offline runtime or a test creates any client (as moto does).
    """
    for event, handler in _HANDLERS:
        botocore.handlers.BUILTIN_HANDLERS.append((event, handler))
        if boto3.DEFAULT_SESSION is not None:
            # botocore-stubs say a handler returns None; a before-send one returns a response
            boto3.DEFAULT_SESSION.events.register(event, handler)  # type: ignore[arg-type]


def active() -> Bridge | None:
    """The bridge of the offline stack running in this process, if any."""
    with _LOCK:
        return _ACTIVE[-1] if _ACTIVE else None


def api_params(context: dict[str, Any]) -> dict[str, Any]:
    """In a before-call handler, the call's API parameters (kept by _keep_params)."""
    return dict(context.get(_PARAMS_KEY) or {})


def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    # before-call only sees the serialized request; keep the API parameters for it.
    if active() is not None:
        context[_PARAMS_KEY] = dict(params)


def _on_invoke(context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict] | None:
    bridge = active()
    if bridge is None or _PARAMS_KEY not in context:
        return None
    return bridge.invoke_function(context.pop(_PARAMS_KEY))


def _on_invoke_endpoint(context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict] | None:
    bridge = active()
    if bridge is None or _PARAMS_KEY not in context:
        return None
    return bridge.invoke_endpoint(context.pop(_PARAMS_KEY))


def _on_start_sync_execution(context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict] | None:
    bridge = active()
    if bridge is None or _PARAMS_KEY not in context:
        return None
    return bridge.start_sync_execution(context.pop(_PARAMS_KEY))


_HANDLERS = (
    ("before-parameter-build.lambda.Invoke", _keep_params),
    ("before-call.lambda.Invoke", _on_invoke),
    ("before-parameter-build.sagemaker-runtime.InvokeEndpoint", _keep_params),
    ("before-call.sagemaker-runtime.InvokeEndpoint", _on_invoke_endpoint),
    ("before-parameter-build.sagemaker.CreateTrainingJob", _keep_params),
    ("before-parameter-build.stepfunctions.StartSyncExecution", _keep_params),
    ("before-call.stepfunctions.StartSyncExecution", _on_start_sync_execution),
)


def _function_name(name_or_arn: str, qualifier: str | None) -> tuple[str, str | None]:
    """The function name of a name, partial ARN or ARN, and the qualifier it carries."""
    parts = name_or_arn.split(":")
    if "function" in parts:  # arn:aws:lambda:region:account:function:name[:qualifier]
        rest = parts[parts.index("function") + 1 :]
        return rest[0], rest[1] if len(rest) > 1 else qualifier
    if len(parts) == 2:  # name:qualifier
        return parts[0], parts[1]
    return name_or_arn, qualifier


def _as_bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    return value.read()  # a file-like body


def _stream(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


def _response(
    status: int, parsed: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[AWSResponse, dict[str, Any]]:
    request_id = str(uuid.uuid4())
    sent = {"x-amzn-RequestId": request_id, **(headers or {})}
    parsed["ResponseMetadata"] = {
        "RequestId": request_id,
        "HTTPStatusCode": status,
        "HTTPHeaders": {name.lower(): value for name, value in sent.items()},  # as botocore's
        "RetryAttempts": 0,
    }
    # AWSResponse wraps any mapping of headers in its HeadersDict (botocore-stubs want HTTPHeaders)
    return AWSResponse("https://mlwf.offline", status, sent, None), parsed  # type: ignore[arg-type]


def error_response(
    status: int, code: str, message: str, fields: dict[str, str] | None = None
) -> tuple[AWSResponse, dict[str, Any]]:
    """An error answer; `fields`, the error's other modeled members, beside it as botocore
    parses them (a throttle's Reason)."""
    return _response(status, {"Error": {"Code": code, "Message": message}, **(fields or {})})


_install()
