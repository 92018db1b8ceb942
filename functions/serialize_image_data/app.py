"""Serialize image data: read the image named by the state from S3 and add its base64 text.

Input state:  {"s3_bucket": str, "s3_key": str, ...}
Output state: the input plus {"image_data": "<base64 of the object's bytes>"}
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

# The clients' types come from the dev-only stubs (types-boto3): read by the type checker
# alone, never imported in Lambda.
if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

try:
    import aws_xray_sdk  # noqa: F401  (Tracer's: AWS's layer ships it with Powertools' extras)
    from aws_lambda_powertools import Logger, Tracer
    from aws_lambda_powertools.utilities.typing import LambdaContext
except ModuleNotFoundError as missing:  # no Powertools layer: PowertoolsLayerMissing below
    if not (missing.name or "").startswith(("aws_lambda_powertools", "aws_xray_sdk")):
        raise
    _powertools_missing: ModuleNotFoundError | None = missing
else:
    _powertools_missing = None

# Step Functions fails an execution whose state exceeds 256 KiB with States.DataLimitExceeded,
# which no Catch or Retry can handle. Refuse big images here instead, keeping room for the
# rest of the state and the classify task's parameters; base64 turns 3 bytes into 4 chars.
STATE_LIMIT_BYTES = 256 * 1024
STATE_HEADROOM_BYTES = 16 * 1024
MAX_IMAGE_BYTES = (STATE_LIMIT_BYTES - STATE_HEADROOM_BYTES) // 4 * 3

IMAGE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}


# Errors: Step Functions shows the class name as the execution's error.
class SerializeImageDataError(Exception):
    """Base class of this function's errors."""


class PowertoolsLayerMissing(SerializeImageDataError):
    """Powertools is not importable: the function's layer is missing or not for its runtime."""


class InvalidImageRequest(SerializeImageDataError):
    """The state lacks s3_bucket/s3_key, or they are not non-empty strings."""


class ImageNotFound(SerializeImageDataError):
    """The bucket or the object does not exist."""


class ImageAccessDenied(SerializeImageDataError):
    """The function may not read that object (it may only read the images bucket)."""


class EmptyImage(SerializeImageDataError):
    """The object has no bytes."""


class UnsupportedImageFormat(SerializeImageDataError):
    """The object is neither a PNG nor a JPEG."""


class ImageTooLarge(SerializeImageDataError):
    """The image's base64 would push the state past Step Functions' 256 KiB limit."""


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
s3_client = boto3.client("s3")


def parse_request(event: Any) -> tuple[str, str]:
    """The bucket and key the state names, or InvalidImageRequest."""
    if not isinstance(event, dict):
        raise InvalidImageRequest(
            f"expected a JSON object with s3_bucket and s3_key, got {type(event).__name__}"
        )
    fields = {}
    for name in ("s3_bucket", "s3_key"):
        value = event.get(name)
        if not isinstance(value, str) or not value.strip():
            problem = "is missing" if value is None else f"must be a non-empty string: {value!r}"
            raise InvalidImageRequest(f"{name} {problem}")
        fields[name] = value
    return fields["s3_bucket"], fields["s3_key"]


def read_image(client: S3Client, bucket: str, key: str, max_bytes: int = MAX_IMAGE_BYTES) -> bytes:
    """The object's bytes, checked to be a PNG or JPEG small enough for the state."""
    location = f"s3://{bucket}/{key}"
    try:
        response = client.get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "NoSuchBucket", "404"):
            raise ImageNotFound(f"{location} does not exist") from None
        if code in ("AccessDenied", "403"):
            raise ImageAccessDenied(f"not allowed to read {location}") from None
        raise
    body = response["Body"]
    size = response.get("ContentLength", 0)
    if size > max_bytes:
        body.close()
        raise ImageTooLarge(
            f"{location} is {size} bytes; at most {max_bytes} fit in the workflow's state"
        )
    data = body.read()
    check_image(data, location)
    return data


def check_image(data: bytes, location: str) -> str:
    """The image format, or the named error for empty or non-image bytes."""
    if not data:
        raise EmptyImage(f"{location} is empty")
    for signature, image_format in IMAGE_SIGNATURES.items():
        if data.startswith(signature):
            return image_format
    raise UnsupportedImageFormat(f"{location} is not a PNG or JPEG image")


@logger.inject_lambda_context(log_event=False)  # the event may carry image data: never log it
@tracer.capture_lambda_handler(capture_response=False)  # the response carries the image
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    bucket, key = parse_request(event)
    data = read_image(s3_client, bucket, key)
    logger.info("Serialized image", extra={"s3_bucket": bucket, "s3_key": key, "bytes": len(data)})
    return {**event, "image_data": base64.b64encode(data).decode("ascii")}
