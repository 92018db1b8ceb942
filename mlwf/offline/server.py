"""The offline stack's AWS over HTTP on 127.0.0.1, for what runs in processes of its own.

The functions run in worker processes (mlwf.offline.environments) with AWS_ENDPOINT_URL set
to this server, as any SDK is pointed at a local AWS. It is moto's own server, in the
offline stack's process, so it serves the same state the stack's in-process clients see.
One call is answered by the stack rather than by moto: sagemaker-runtime's InvokeEndpoint,
which moto answers with canned bodies; here it reaches the local model through the bridge,
with SageMaker's errors.
"""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was
from urllib.parse import unquote, urlsplit

from mlwf.offline import bridge

HOST = "127.0.0.1"
INVOCATIONS = re.compile(r"^/endpoints/([^/]+)/invocations$")


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
    with _invoke_endpoint_answered_locally():
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
