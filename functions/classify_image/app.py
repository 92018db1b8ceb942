"""Classify image: send the state's image to the SageMaker endpoint and add its inferences.

Input state:  {"s3_bucket", "s3_key", "image_data": base64 str, "inference_id"?: str, ...}
Output state: the input without "image_data" (keeps the state small) plus
              {"inferences": [p_bicycle, p_motorcycle], "inference_id": str}

The endpoint's name is read from the SSM parameter named by ENDPOINT_PARAMETER_NAME and
cached for ENDPOINT_NAME_CACHE_SECONDS, so a redeployed endpoint is picked up within that time.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# The clients' types come from the dev-only stubs (types-boto3): read by the type checker
# alone, never imported in Lambda.
if TYPE_CHECKING:
    from mypy_boto3_sagemaker_runtime import SageMakerRuntimeClient

try:
    import aws_xray_sdk  # noqa: F401  (Tracer's: AWS's layer ships it with Powertools' extras)
    from aws_lambda_powertools import Logger, Tracer
    from aws_lambda_powertools.utilities.parameters import SSMProvider
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
    from aws_lambda_powertools.utilities.typing import LambdaContext
except ModuleNotFoundError as missing:  # no Powertools layer: PowertoolsLayerMissing below
    if not (missing.name or "").startswith(("aws_lambda_powertools", "aws_xray_sdk")):
        raise
    _powertools_missing: ModuleNotFoundError | None = missing
else:
    _powertools_missing = None

ENDPOINT_PARAMETER_NAME = os.environ.get("ENDPOINT_PARAMETER_NAME", "")
ENDPOINT_NAME_CACHE_SECONDS = int(os.environ.get("ENDPOINT_NAME_CACHE_SECONDS", "60"))
CLASS_COUNT = 2  # [p_bicycle, p_motorcycle]
PROBABILITY_SUM_TOLERANCE = 1e-3
INFERENCE_ID_MAX_LENGTH = 64  # SageMaker's limit for InferenceId
CONTENT_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
# InvokeEndpoint errors worth retrying: the endpoint is busy or briefly unavailable.
TRANSIENT_ERROR_CODES = {
    "ThrottlingException",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalDependencyException",
    "ModelNotReadyException",
}


# Errors: Step Functions shows the class name as the execution's error.
class ClassifyImageError(Exception):
    """Base class of this function's errors."""


class PowertoolsLayerMissing(ClassifyImageError):
    """Powertools is not importable: the function's layer is missing or not for its runtime."""


class InvalidClassifyInput(ClassifyImageError):
    """image_data is missing, not a string, not base64, or not a PNG/JPEG."""


class EndpointParameterNotFound(ClassifyImageError):
    """The SSM parameter naming the endpoint is not configured or does not exist."""


class EndpointParameterUnreadable(ClassifyImageError):
    """The SSM parameter exists but could not be read (permissions, throttling)."""


class EndpointNotFound(ClassifyImageError):
    """The endpoint named by the parameter does not exist (deleted or not yet deployed)."""


class EndpointUnavailable(ClassifyImageError):
    """A transient endpoint failure (throttled, not ready, 5xx, timeout): worth a retry."""


class EndpointModelError(ClassifyImageError):
    """The endpoint's model container failed on this input."""


class EndpointInvocationFailed(ClassifyImageError):
    """SageMaker rejected the request for another reason (permissions, validation)."""


class InvalidInferenceResponse(ClassifyImageError):
    """The endpoint's response is not a JSON list of two probabilities."""


# Lambda reports an error raised while the module loads under the exception's class name:
# say which layer is missing rather than "No module named 'aws_lambda_powertools'".
POWERTOOLS_LAYER_HINT = (
    "Powertools for AWS Lambda (or aws-xray-sdk, which its Tracer needs) is not importable: "
    "this function needs AWS's Powertools layer for python3.13 arm64, which ships both. Check "
    "the function's Layers; template.yaml takes another layer through its PowertoolsLayerArn "
    "parameter (docs/deploy.md: First deploy)."
)
if _powertools_missing is not None:
    raise PowertoolsLayerMissing(POWERTOOLS_LAYER_HINT) from _powertools_missing


logger = Logger()
# X-Ray subsegments for the handler and, through the botocore patch Tracer() applies
# (auto_patch), for each AWS call: made before the clients below. Tracer disables itself
# outside Lambda and where POWERTOOLS_TRACE_DISABLED is true (the offline runtime sets it).
# https://docs.aws.amazon.com/powertools/python/latest/core/tracer/
tracer = Tracer()
# Long reads fail the Lambda well before its own timeout, as EndpointUnavailable.
runtime_client = boto3.client(
    "sagemaker-runtime", config=Config(read_timeout=20, retries={"mode": "standard"})
)
ssm_provider = SSMProvider(boto3_client=boto3.client("ssm"))


def decode_image(event: Any) -> tuple[bytes, str]:
    """The image bytes and their content type, or InvalidClassifyInput."""
    if not isinstance(event, dict):
        raise InvalidClassifyInput(f"expected a JSON object, got {type(event).__name__}")
    image_data = event.get("image_data")
    if not isinstance(image_data, str) or not image_data:
        problem = "is missing" if image_data is None else "must be a non-empty base64 string"
        raise InvalidClassifyInput(f"image_data {problem}")
    try:
        image = base64.b64decode(image_data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidClassifyInput("image_data is not valid base64") from None
    for signature, content_type in CONTENT_TYPES.items():
        if image.startswith(signature):
            return image, content_type
    raise InvalidClassifyInput("image_data is not a PNG or JPEG image")


def resolve_endpoint_name(provider: SSMProvider, parameter_name: str, max_age: int) -> str:
    """The endpoint name from SSM, cached for max_age seconds across warm invocations."""
    if not parameter_name:
        raise EndpointParameterNotFound("ENDPOINT_PARAMETER_NAME is not set on the function")
    try:
        value = provider.get(parameter_name, max_age=max_age)
    except GetParameterError as exc:
        cause = exc.__context__  # Powertools wraps the SDK's error without chaining it
        code = cause.response["Error"]["Code"] if isinstance(cause, ClientError) else ""
        if code == "ParameterNotFound":
            raise EndpointParameterNotFound(
                f"SSM parameter {parameter_name} does not exist: deploy an endpoint with "
                "`mlwf deploy` first"
            ) from None
        raise EndpointParameterUnreadable(f"SSM parameter {parameter_name}: {exc}") from None
    name = str(value).strip()
    if not name:
        raise EndpointParameterNotFound(f"SSM parameter {parameter_name} is empty")
    return name


def invoke_endpoint(
    client: SageMakerRuntimeClient,
    endpoint_name: str,
    image: bytes,
    content_type: str,
    inference_id: str,
) -> bytes:
    """The endpoint's raw response body, with its failures mapped to named errors."""
    try:
        response = client.invoke_endpoint(
            EndpointName=endpoint_name,
            ContentType=content_type,
            Accept="application/json",
            Body=image,
            InferenceId=inference_id,
        )
        return response["Body"].read()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", str(exc))
        if code == "ValidationError" and "not found" in message.lower():
            raise EndpointNotFound(f"endpoint {endpoint_name}: {message}") from None
        if code == "ModelError":
            raise EndpointModelError(f"endpoint {endpoint_name}: {message}") from None
        if (
            code in TRANSIENT_ERROR_CODES
            or exc.response["ResponseMetadata"].get("HTTPStatusCode", 0) >= 500
        ):
            raise EndpointUnavailable(f"endpoint {endpoint_name}: {code}: {message}") from None
        raise EndpointInvocationFailed(f"endpoint {endpoint_name}: {code}: {message}") from None
    except BotoCoreError as exc:  # timeouts and connection errors
        raise EndpointUnavailable(f"endpoint {endpoint_name}: {exc}") from None


def parse_inferences(body: bytes) -> list[float]:
    """The response as [p_bicycle, p_motorcycle], or InvalidInferenceResponse."""
    try:
        inferences = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidInferenceResponse(f"response is not JSON: {body[:100]!r}") from None
    if (
        not isinstance(inferences, list)
        or len(inferences) != CLASS_COUNT
        or not all(_is_probability(p) for p in inferences)
    ):
        raise InvalidInferenceResponse(
            f"expected a list of {CLASS_COUNT} probabilities, got {str(inferences)[:100]}"
        )
    if abs(sum(inferences) - 1.0) > PROBABILITY_SUM_TOLERANCE:
        raise InvalidInferenceResponse(f"probabilities {inferences} do not sum to 1")
    return [float(p) for p in inferences]


def _is_probability(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0.0 <= value <= 1.0
    )


def inference_id_for(event: dict[str, Any], context: LambdaContext) -> str:
    """The id that joins the endpoint's captured record to this execution."""
    given = event.get("inference_id")
    if isinstance(given, str) and given.strip():
        return given.strip()[:INFERENCE_ID_MAX_LENGTH]
    return context.aws_request_id[:INFERENCE_ID_MAX_LENGTH]


@logger.inject_lambda_context(log_event=False)  # the event carries the image: never log it
# The response is small (the image is dropped), so it goes into the trace as metadata.
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    image, content_type = decode_image(event)
    endpoint_name = resolve_endpoint_name(
        ssm_provider, ENDPOINT_PARAMETER_NAME, ENDPOINT_NAME_CACHE_SECONDS
    )
    inference_id = inference_id_for(event, context)
    body = invoke_endpoint(runtime_client, endpoint_name, image, content_type, inference_id)
    inferences = parse_inferences(body)
    logger.info(
        "Classified image",
        extra={
            "s3_key": event.get("s3_key"),
            "endpoint": endpoint_name,
            "inference_id": inference_id,
            "inferences": inferences,
        },
    )
    state = {k: v for k, v in event.items() if k != "image_data"}
    return {**state, "inferences": inferences, "inference_id": inference_id}
