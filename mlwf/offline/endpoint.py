"""SageMaker endpoints, offline: InvokeEndpoint answered by the local model, with data capture.

An endpoint is answered only if it exists in moto's SageMaker backend, as `mlwf deploy`
created it: endpoint -> endpoint config -> model -> ModelDataUrl, the artifact the local
trainer wrote. Anything else gets SageMaker's "not found" error from the bridge. Each
invocation makes one capture record for where the endpoint config's DataCaptureConfig
says, in Model Monitor's format and key layout:
`<destination>/<endpoint>/<variant>/YYYY/MM/DD/HH/<mm-ss-mmm>-<uuid>.jsonl`. As SageMaker
does, records are buffered and written several to a file (at most CAPTURE_BATCH, and
whatever is pending when `flush()` is called or the offline stack stops).
"""

from __future__ import annotations

import base64
import json
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from mlwf.offline.bridge import AwsErrorResponse, EndpointHandler, EndpointModelError
from mlwf.offline.model_server import ModelServer, RemoteModel, shared_server

Clock = Callable[[], datetime]
CAPTURE_BATCH = 50


@dataclass(frozen=True)
class CaptureSettings:
    bucket: str
    prefix: str
    sampling_percentage: int
    capture_input: bool
    capture_output: bool
    json_types: frozenset[str]
    csv_types: frozenset[str]

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> CaptureSettings | None:
        if not config or not config.get("EnableCapture"):
            return None
        bucket, _, prefix = config["DestinationS3Uri"].removeprefix("s3://").partition("/")
        modes = {option["CaptureMode"] for option in config.get("CaptureOptions", [])}
        header = config.get("CaptureContentTypeHeader", {})
        return cls(
            bucket=bucket,
            prefix=prefix.strip("/"),
            sampling_percentage=int(config.get("InitialSamplingPercentage", 100)),
            capture_input="Input" in modes,
            capture_output="Output" in modes,
            json_types=frozenset(header.get("JsonContentTypes", [])),
            csv_types=frozenset(header.get("CsvContentTypes", [])),
        )

    def encode(self, data: bytes, content_type: str, mode: str) -> dict[str, str]:
        """How Model Monitor records a payload: JSON/CSV as text when declared, else BASE64."""
        if content_type in self.json_types:
            encoding, text = "JSON", data.decode("utf-8", errors="replace")
        elif content_type in self.csv_types:
            encoding, text = "CSV", data.decode("utf-8", errors="replace")
        else:
            encoding, text = "BASE64", base64.b64encode(data).decode("ascii")
        return {
            "observedContentType": content_type,
            "mode": mode,
            "data": text,
            "encoding": encoding,
        }


class LocalEndpoints:
    """Resolves endpoint names against moto's SageMaker and answers with local models."""

    def __init__(
        self,
        session: Any,
        *,
        seed: int = 0,
        clock: Clock | None = None,
        server: ModelServer | None = None,
    ):
        self.server = server or shared_server()
        self.sagemaker = session.client("sagemaker")
        self.s3 = session.client("s3")
        self.clock = clock or (lambda: datetime.now(UTC))
        self.random = random.Random(seed)  # data capture sampling
        self._models: dict[str, RemoteModel] = {}  # ModelDataUrl -> the model in the server
        self._handlers: dict[tuple[str, str], EndpointHandler] = {}  # (endpoint, config)
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str, str, str], list[tuple[datetime, str]]] = {}
        self.invocations = 0
        self.captured = 0
        self.files_written = 0

    def resolve(self, name: str) -> EndpointHandler | None:
        # Looked up on every call, so a deleted or updated endpoint is seen at once; read
        # from moto's backend rather than through DescribeEndpoint, which costs more than the
        # model's own answer. What the endpoint's config leads to is cached by config name.
        endpoint = self._backend().endpoints.get(name)
        if endpoint is None or endpoint.endpoint_status not in ("InService", "Updating"):
            return None  # SageMaker answers the same "not found" for a Creating endpoint
        config_name = endpoint.endpoint_config_name
        with self._lock:
            handler = self._handlers.get((name, config_name))
        if handler is None:
            config = self.sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
            variant = config["ProductionVariants"][0]
            capture = CaptureSettings.from_config(config.get("DataCaptureConfig"))
            model = self._model(variant["ModelName"])
            handler = partial(self._invoke, name, variant["VariantName"], model, capture)
            with self._lock:
                self._handlers[(name, config_name)] = handler
        return handler

    def _backend(self) -> Any:
        from moto.sagemaker.models import sagemaker_backends

        from mlwf.offline.template_spec import ACCOUNT_ID

        return sagemaker_backends[ACCOUNT_ID][self.sagemaker.meta.region_name]

    def _invoke(
        self,
        endpoint: str,
        variant: str,
        model: Any,
        capture: CaptureSettings | None,
        body: bytes,
        content_type: str,
        params: dict[str, Any],
    ) -> tuple[bytes, str]:
        from mlwf.offline.local_model import LocalModelError

        try:
            response = model.invoke(body, content_type)
        except LocalModelError as exc:
            raise EndpointModelError(str(exc)) from None
        accept = "application/json"
        with self._lock:
            self.invocations += 1
            sampled = capture is not None and (
                self.random.uniform(0, 100) < capture.sampling_percentage
            )
        if sampled and capture is not None:
            self._capture(endpoint, variant, capture, body, content_type, response, accept, params)
        return response, accept

    def _model(self, model_name: str) -> Any:
        from mlwf.offline.local_model import LocalModelError

        url = self.sagemaker.describe_model(ModelName=model_name)["PrimaryContainer"][
            "ModelDataUrl"
        ]
        with self._lock:
            if url in self._models:
                return self._models[url]
        bucket, _, key = url.removeprefix("s3://").partition("/")
        try:
            data = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            model = self.server.load(data)
        except (ClientError, LocalModelError) as exc:
            # SageMaker would have failed the endpoint; the offline one fails each call.
            raise AwsErrorResponse(
                "ModelError", f"cannot load model {model_name} from {url}: {exc}", 424
            ) from None
        with self._lock:
            self._models[url] = model
        return model

    def _capture(
        self,
        endpoint: str,
        variant: str,
        capture: CaptureSettings,
        body: bytes,
        content_type: str,
        response: bytes,
        accept: str,
        params: dict[str, Any],
    ) -> None:
        now = self.clock().astimezone(UTC)
        capture_data = {}
        if capture.capture_input:
            capture_data["endpointInput"] = capture.encode(body, content_type, "INPUT")
        if capture.capture_output:
            capture_data["endpointOutput"] = capture.encode(response, accept, "OUTPUT")
        metadata = {
            "eventId": str(uuid.uuid4()),
            "inferenceTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if params.get("InferenceId"):
            metadata["inferenceId"] = params["InferenceId"]
        record = {"captureData": capture_data, "eventMetadata": metadata, "eventVersion": "0"}
        destination = (capture.bucket, capture.prefix, endpoint, variant)
        with self._lock:
            pending = self._pending.setdefault(destination, [])
            pending.append((now, json.dumps(record)))
            batch = self._pending.pop(destination) if len(pending) >= CAPTURE_BATCH else None
        if batch:
            self._write(destination, batch)
        with self._lock:
            self.captured += 1

    def close(self) -> None:
        """Unload this stack's models from the server."""
        with self._lock:
            models, self._models, self._handlers = self._models, {}, {}
        for model in models.values():
            model.unload()

    def flush(self) -> None:
        """Write every buffered capture record."""
        with self._lock:
            pending, self._pending = self._pending, {}
        for destination, batch in pending.items():
            self._write(destination, batch)

    def _write(self, destination: tuple[str, str, str, str], batch: list) -> None:
        bucket, prefix, endpoint, variant = destination
        first = batch[0][0]  # a file is named by the time of its first record
        key = "/".join(
            part
            for part in (
                prefix,
                endpoint,
                variant,
                first.strftime("%Y/%m/%d/%H"),
                f"{first:%M-%S}-{first.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl",
            )
            if part
        )
        body = "".join(line + "\n" for _, line in batch).encode()
        self.s3.put_object(Bucket=bucket, Key=key, Body=body)
        with self._lock:
            self.files_written += 1
