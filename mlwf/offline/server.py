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
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was
from urllib.parse import parse_qs, unquote, urlsplit

from mlwf.offline import bridge

HOST = "127.0.0.1"
INVOCATIONS = re.compile(r"^/endpoints/([^/]+)/invocations$")
FUNCTION_INVOCATIONS = re.compile(r"^/[^/]+/functions/(.+)/invocations/?$")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(port: int | None = None) -> Iterator[str]:
    """moto's server on 127.0.0.1 while the block runs; yields its URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    port = port or free_port()
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    with _invoke_endpoint_answered_locally(), answered_as_in_process():
        server.start()
        try:
            yield f"http://{HOST}:{port}"
        finally:
            server.stop()


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
        body = request.get_data() if hasattr(request, "get_data") else request.body
        named = {str(k).lower(): v for k, v in dict(headers).items()}  # HTTP names: any case
        params: dict[str, Any] = {
            "EndpointName": unquote(match.group(1)),
            "Body": body if isinstance(body, bytes) else str(body or "").encode(),
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
    from moto.sagemaker.responses import SageMakerResponse
    from moto.stepfunctions.responses import StepFunctionResponse

    lambda_dispatch = LambdaResponse._dispatch  # AttributeError: moto changed; see the test
    create_training_job = SageMakerResponse.__dict__["create_training_job"]

    def invoke(response: Any, request: Any, full_url: str, headers: Any) -> Any:
        match = FUNCTION_INVOCATIONS.search(urlsplit(full_url).path)
        active = bridge.active()
        if match is None or active is None:
            return lambda_dispatch(response, request, full_url, headers)
        named = {str(k).lower(): v for k, v in dict(headers).items()}
        body = request.get_data() if hasattr(request, "get_data") else request.body
        params = {
            "FunctionName": unquote(match.group(1)),
            "Payload": body or b"",
            "InvocationType": named.get("x-amz-invocation-type", "RequestResponse"),
        }
        qualifier = parse_qs(urlsplit(full_url).query).get("Qualifier")
        if qualifier:
            params["Qualifier"] = qualifier[0]
        _, parsed = active.invoke_function(params)
        status = parsed["ResponseMetadata"]["HTTPStatusCode"]
        if "Error" in parsed:
            error = parsed["Error"]
            text = json.dumps({"Type": "User", "message": error["Message"]})
            return status, {"x-amzn-ErrorType": error["Code"]}, text
        answer = {"X-Amz-Executed-Version": "$LATEST", "Content-Type": "application/json"}
        if "FunctionError" in parsed:
            answer["X-Amz-Function-Error"] = parsed["FunctionError"]
        payload = parsed.get("Payload")
        return status, answer, payload.read() if payload is not None else b""

    def step_functions_call(name: str) -> Any:
        original = getattr(StepFunctionResponse, name)  # AttributeError: moto changed

        def call(response: Any) -> Any:
            active = bridge.active()
            params = json.loads(response.body or "{}")
            if active is not None and active.express is not None:
                refused = active.check_execution_call(_OPERATIONS[name], params)
                if refused is not None:
                    error = refused[1]["Error"]
                    return _json_error(400, error["Code"], error["Message"])
            return original(response)

        return call

    def start_sync_execution(response: Any) -> Any:
        active = bridge.active()
        if active is None:
            return _json_error(400, "UnknownOperationException", "StartSyncExecution")
        _, parsed = active.start_sync_execution(json.loads(response.body or "{}"))
        if "Error" in parsed:
            error = parsed["Error"]
            return _json_error(
                parsed["ResponseMetadata"]["HTTPStatusCode"], error["Code"], error["Message"]
            )
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


_OPERATIONS = {
    "describe_execution": "DescribeExecution",
    "get_execution_history": "GetExecutionHistory",
    "list_executions": "ListExecutions",
}


def _json_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], str]:
    body = json.dumps({"__type": code, "message": message})
    return status, {"x-amzn-ErrorType": code, "Content-Type": "application/x-amz-json-1.0"}, body
