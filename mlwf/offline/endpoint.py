"""SageMaker endpoints, offline: InvokeEndpoint answered by the local model, with data capture.

An endpoint is answered only if it exists in moto's SageMaker backend, as `mlwf deploy`
created it: endpoint -> endpoint config -> model -> ModelDataUrl, the artifact the local
trainer wrote. Anything else gets SageMaker's "not found" error from the bridge. Each
invocation writes one capture record where the endpoint config's DataCaptureConfig says,
in Model Monitor's format and key layout:
`<destination>/<endpoint>/<variant>/YYYY/MM/DD/HH/<mm-ss-mmm>-<uuid>.jsonl`.
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

from mlwf.offline.bridge import AwsErrorResponse, EndpointHandler, EndpointModelError

Clock = Callable[[], datetime]


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

    def __init__(self, session: Any, *, seed: int = 0, clock: Clock | None = None):
        self.sagemaker = session.client("sagemaker")
        self.s3 = session.client("s3")
        self.clock = clock or (lambda: datetime.now(UTC))
        self.random = random.Random(seed)  # data capture sampling
        self._models: dict[str, Any] = {}  # ModelDataUrl -> LocalModel
        self._lock = threading.Lock()
        self.invocations = 0
        self.captured = 0

    def resolve(self, name: str) -> EndpointHandler | None:
        from botocore.exceptions import ClientError

        try:
            endpoint = self.sagemaker.describe_endpoint(EndpointName=name)
        except ClientError:
            return None
        if endpoint["EndpointStatus"] not in ("InService", "Updating"):
            return None  # SageMaker answers the same "not found" for a Creating endpoint
        config = self.sagemaker.describe_endpoint_config(
            EndpointConfigName=endpoint["EndpointConfigName"]
        )
        variant = config["ProductionVariants"][0]
        capture = CaptureSettings.from_config(config.get("DataCaptureConfig"))
        return partial(self._invoke, name, variant["VariantName"], variant["ModelName"], capture)

    def _invoke(
        self,
        endpoint: str,
        variant: str,
        model_name: str,
        capture: CaptureSettings | None,
        body: bytes,
        content_type: str,
        params: dict[str, Any],
    ) -> tuple[bytes, str]:
        model = self._model(model_name)
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
        if sampled:
            self._capture(endpoint, variant, capture, body, content_type, response, accept, params)
        return response, accept

    def _model(self, model_name: str) -> Any:
        from mlwf.offline.local_model import LocalModel, LocalModelError

        url = self.sagemaker.describe_model(ModelName=model_name)["PrimaryContainer"][
            "ModelDataUrl"
        ]
        with self._lock:
            if url in self._models:
                return self._models[url]
        bucket, _, key = url.removeprefix("s3://").partition("/")
        try:
            data = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            model = LocalModel.from_artifact(data)
        except (LocalModelError, Exception) as exc:
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
        key = "/".join(
            part
            for part in (
                capture.prefix,
                endpoint,
                variant,
                now.strftime("%Y/%m/%d/%H"),
                f"{now:%M-%S}-{now.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl",
            )
            if part
        )
        self.s3.put_object(
            Bucket=capture.bucket, Key=key, Body=(json.dumps(record) + "\n").encode()
        )
        with self._lock:
            self.captured += 1
