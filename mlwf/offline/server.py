"""The offline stack's AWS over HTTP on 127.0.0.1, for what runs in processes of its own.

The functions' worker processes (mlwf.offline.functions) reach it through AWS_ENDPOINT_URL,
as does whatever `mlwf offline up` serves (the AWS CLI, scripts, tests/integration). It is
moto's own server, in the offline stack's process, so it serves the same state the stack's
in-process clients see. The calls the bridge answers in-process are answered by the same
bridge over HTTP: sagemaker-runtime's InvokeEndpoint (moto cannot read an image body),
Lambda's Invoke (moto's needs Docker), StartSyncExecution and the refusals for EXPRESS
executions, and the local trainer after CreateTrainingJob.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was
from urllib.parse import parse_qs, unquote, urlsplit

from mlwf.offline import bridge, iam
from mlwf.offline.template_spec import ACCOUNT_ID, PARTITION
from training_job.errors import MlwfError

HOST = "127.0.0.1"
INVOCATIONS = re.compile(r"^/endpoints/([^/]+)/invocations$")
FUNCTION_INVOCATIONS = re.compile(r"^/[^/]+/functions/(.+)/invocations/?$")
STOP_POLL_SECONDS = 0.05  # how soon the server sees that it is to stop


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def check_free(port: int) -> None:
    """MlwfError when something already listens on the port. moto's server would print
    werkzeug's "Port ... is in use" from its thread and wait for ever for a server that
    never started. Bound as werkzeug binds (SO_REUSEADDR), so that a port a stopped stack
    has just left is not taken for busy."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise MlwfError(
                f"port {port} on {HOST} is in use ({exc.strerror}): stop what serves it "
                "(another `mlwf offline up`?) or choose another --port"
            ) from None


@contextmanager
def serving(port: int | None = None) -> Iterator[str]:
    """moto's server on 127.0.0.1 while the block runs; yields its URL.

    moto's app and request handler served as its ThreadedMotoServer serves them, but with
    a shorter poll: its serve_forever() notices a stop only at its next poll, every 0.5 s,
    which made every stack's stop (each `mlwf invoke` without a stack, each demo) ~0.37 s
    longer (measured around ThreadedMotoServer.stop).
    """
    from moto.moto_server import threaded_moto_server as moto_server  # the patched factory
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    port = port or free_port()
    check_free(port)
    with _invoke_endpoint_answered_locally(), answered_as_in_process():
        app = moto_server.DomainDispatcherApplication(moto_server.create_backend_app)
        server = make_server(
            HOST, port, app, threaded=True, request_handler=moto_server.MotoRequestHandler
        )
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": STOP_POLL_SECONDS},
            name="offline-endpoint",
            daemon=True,
        )
        thread.start()
        try:
            yield f"http://{HOST}:{port}"
        finally:
            server.shutdown()
            thread.join()


@contextmanager
def _invoke_endpoint_answered_locally() -> Iterator[None]:
    """InvokeEndpoint over HTTP answered by the bridge. moto's own handler cannot even read
    the request: it decodes every body as UTF-8, and an image is not. So the request is
    taken before moto parses it (its _dispatch), and every other call goes on to moto."""
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    original = SageMakerRuntimeResponse._dispatch  # AttributeError: moto changed; see the test

    def dispatch(response: Any, request: Any, full_url: str, headers: Any) -> Any:
        match = INVOCATIONS.search(urlsplit(full_url).path)
        active = bridge.active()
        if match is None or active is None:
            return original(response, request, full_url, headers)
        body, named = _body_and_headers(request, headers)
        name = unquote(match.group(1))
        denied = iam.denial_for_request(
            headers,
            "sagemaker:InvokeEndpoint",
            lambda region: (
                f"arn:{PARTITION}:sagemaker:{region}:{ACCOUNT_ID}:endpoint/{name.lower()}"
            ),
        )
        if denied is not None:
            text = json.dumps({"__type": "AccessDeniedException", "message": denied})
            return 400, {"x-amzn-ErrorType": "AccessDeniedException"}, text
        params: dict[str, Any] = {
            "EndpointName": name,
            "Body": body,
            "ContentType": named.get("content-type", ""),
            "Accept": named.get("accept", ""),
        }
        inference_id = named.get("x-amzn-sagemaker-inference-id")
        if inference_id:
            params["InferenceId"] = inference_id
        _, parsed = active.invoke_endpoint(params)
        status = parsed["ResponseMetadata"]["HTTPStatusCode"]
        if "Error" in parsed:
            error = parsed["Error"]
            text = json.dumps({"__type": error["Code"], "message": error["Message"]})
            return status, {"x-amzn-ErrorType": error["Code"]}, text
        answer = {
            "Content-Type": parsed["ContentType"],
            "x-Amzn-Invoked-Production-Variant": parsed["InvokedProductionVariant"],
        }
        return status, answer, parsed["Body"].read()

    with patch.object(SageMakerRuntimeResponse, "_dispatch", dispatch):
        yield


@contextmanager
def answered_as_in_process() -> Iterator[None]:
    """Over HTTP, the calls the bridge answers in-process, answered by the same bridge:
    Lambda's Invoke (moto's own would need Docker), StartSyncExecution and the refusals
    for EXPRESS executions (mlwf.offline.express), and the local trainer after
    CreateTrainingJob. What reaches the server from a function, the AWS CLI or a script
    then behaves as what the offline commands call in-process."""
    from moto.awslambda.responses import LambdaResponse
    from moto.core.responses import ActionResult
    from moto.sagemaker.responses import SageMakerResponse
    from moto.stepfunctions.responses import StepFunctionResponse

    lambda_dispatch = LambdaResponse._dispatch  # AttributeError: moto changed; see the test
    create_training_job = SageMakerResponse.__dict__["create_training_job"]

    def invoke(response: Any, request: Any, full_url: str, headers: Any) -> Any:
        match = FUNCTION_INVOCATIONS.search(urlsplit(full_url).path)
        active = bridge.active()
        if match is None or active is None:
            return lambda_dispatch(response, request, full_url, headers)
        body, named = _body_and_headers(request, headers)
        params = {
            "FunctionName": unquote(match.group(1)),
            "Payload": body or b"",
            "InvocationType": named.get("x-amz-invocation-type", "RequestResponse"),
            "LogType": named.get("x-amz-log-type", "None"),
        }
        qualifier = parse_qs(urlsplit(full_url).query).get("Qualifier")
        if qualifier:
            params["Qualifier"] = qualifier[0]
        _, parsed = active.invoke_function(params)
        status = parsed["ResponseMetadata"]["HTTPStatusCode"]
        if "Error" in parsed:
            error = parsed["Error"]
            fields = {k: v for k, v in parsed.items() if k not in ("Error", "ResponseMetadata")}
            text = json.dumps({"Type": "User", "message": error["Message"], **fields})
            return status, {"x-amzn-ErrorType": error["Code"]}, text
        answer = {"X-Amz-Executed-Version": "$LATEST", "Content-Type": "application/json"}
        if "FunctionError" in parsed:
            answer["X-Amz-Function-Error"] = parsed["FunctionError"]
        if "LogResult" in parsed:
            answer["X-Amz-Log-Result"] = parsed["LogResult"]
        payload = parsed.get("Payload")
        return status, answer, payload.read() if payload is not None else b""

    def step_functions_call(name: str) -> Any:
        original = getattr(StepFunctionResponse, name)  # AttributeError: moto changed

        def call(response: Any) -> Any:
            active = bridge.active()
            if active is None or active.express is None:
                return original(response)
            params = json.loads(response.body or "{}")
            try:
                active.express.check(_OPERATIONS[name], params)
            except bridge.AwsErrorResponse as exc:
                raise _aws_error(exc.code, exc.message, exc.status) from None
            answer = original(response)
            if name == "start_execution":  # AWS names an EXPRESS execution differently
                started = dict(answer.result)
                started["executionArn"] = active.express.started_arn(
                    params["stateMachineArn"], started["executionArn"]
                )
                return ActionResult(started)
            return answer

        return call

    def start_sync_execution(response: Any) -> Any:
        active = bridge.active()
        if active is None:
            raise _aws_error("UnknownOperationException", "StartSyncExecution", 400)
        _, parsed = active.start_sync_execution(json.loads(response.body or "{}"))
        if "Error" in parsed:
            error = parsed["Error"]
            status = parsed["ResponseMetadata"]["HTTPStatusCode"]
            raise _aws_error(error["Code"], error["Message"], status)
        answer = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
        for key in ("startDate", "stopDate"):
            if isinstance(answer.get(key), datetime):
                answer[key] = answer[key].timestamp()
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(answer)

    def training_job(response: Any) -> Any:
        answer = create_training_job(response)
        active = bridge.active()
        if active is not None and active.on_training_job_created is not None:
            active.on_training_job_created(json.loads(response.body or "{}"))
        return answer

    with ExitStack() as patches:
        patches.enter_context(patch.object(LambdaResponse, "_dispatch", invoke))
        patches.enter_context(patch.object(SageMakerResponse, "create_training_job", training_job))
        patches.enter_context(
            patch.object(
                StepFunctionResponse, "start_sync_execution", start_sync_execution, create=True
            )
        )
        for name in _OPERATIONS:
            patches.enter_context(
                patch.object(StepFunctionResponse, name, step_functions_call(name))
            )
        yield


# What AWS answers differently for EXPRESS executions (mlwf.offline.express). Patched here,
# in moto's responses, they hold for the in-process clients and for HTTP alike.
_OPERATIONS = {
    "start_execution": "StartExecution",
    "describe_execution": "DescribeExecution",
    "get_execution_history": "GetExecutionHistory",
    "list_executions": "ListExecutions",
    "stop_execution": "StopExecution",
}


def _body_and_headers(request: Any, headers: Any) -> tuple[bytes, dict[str, str]]:
    """The raw body (werkzeug's request over HTTP) and the headers by lower-case name."""
    body = request.get_data() if hasattr(request, "get_data") else request.body
    if not isinstance(body, bytes):
        body = str(body or "").encode()
    return body, {str(k).lower(): v for k, v in dict(headers).items()}  # any case on the wire


def _aws_error(code: str, message: str, status: int) -> Exception:
    """An error moto serialises as the service's protocol wants it (a tuple returned from a
    Step Functions action loses its status)."""
    from moto.core.exceptions import AWSError

    return AWSError(message, code, status)
