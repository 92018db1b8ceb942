"""List images: the keys of the PNG/JPEG objects under a prefix, for the batch workflow.

Input:  {"s3_bucket": str, "s3_prefix": str, "start_after"?: str}
Output: {"s3_bucket", "s3_prefix", "images": [key, ...], "truncated": bool,
         "next_start_after": str | None}  (at most MAX_BATCH_IMAGES keys, in key order)
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.exceptions import ClientError

try:
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.utilities.typing import LambdaContext
except ModuleNotFoundError as missing:  # no Powertools layer: PowertoolsLayerMissing below
    if not (missing.name or "").startswith("aws_lambda_powertools"):
        raise
    _powertools_missing: ModuleNotFoundError | None = missing
else:
    _powertools_missing = None

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# The Map's results stay in the state (256 KiB): a verdict is ~200 bytes, so a few hundred
# images per execution; a larger prefix is done in several executions with start_after.
MAX_BATCH_IMAGES = int(os.environ.get("MAX_BATCH_IMAGES", "500"))


# Errors: Step Functions shows the class name as the execution's error.
class ListImagesError(Exception):
    """Base class of this function's errors."""


class PowertoolsLayerMissing(ListImagesError):
    """Powertools is not importable: the function's layer is missing or not for its runtime."""


class InvalidBatchRequest(ListImagesError):
    """s3_bucket/s3_prefix are missing or not strings."""


class BatchBucketNotFound(ListImagesError):
    """The bucket does not exist."""


class BatchAccessDenied(ListImagesError):
    """The function may not list that bucket (it may only list the images bucket)."""


class NoImagesFound(ListImagesError):
    """No PNG or JPEG object under the prefix: most likely a mistyped prefix."""


# Lambda reports an error raised while the module loads under the exception's class name:
# say which layer is missing rather than "No module named 'aws_lambda_powertools'".
POWERTOOLS_LAYER_HINT = (
    "Powertools for AWS Lambda is not importable: this function needs AWS's Powertools layer "
    "for python3.13 arm64. Check the function's Layers; template.yaml takes another layer "
    "through its PowertoolsLayerArn parameter (docs/deploy.md: First deploy)."
)
if _powertools_missing is not None:
    raise PowertoolsLayerMissing(POWERTOOLS_LAYER_HINT) from _powertools_missing


logger = Logger()
s3_client = boto3.client("s3")


def parse_request(event: Any) -> tuple[str, str, str]:
    if not isinstance(event, dict):
        raise InvalidBatchRequest(f"expected a JSON object, got {type(event).__name__}")
    bucket, prefix = event.get("s3_bucket"), event.get("s3_prefix")
    start_after = event.get("start_after", "")
    if not isinstance(bucket, str) or not bucket.strip():
        raise InvalidBatchRequest("s3_bucket must be a non-empty string")
    if not isinstance(prefix, str):
        raise InvalidBatchRequest('s3_prefix must be a string ("" for the whole bucket)')
    if not isinstance(start_after, str):
        raise InvalidBatchRequest("start_after must be a string")
    return bucket, prefix, start_after


def list_images(
    client: Any, bucket: str, prefix: str, start_after: str, limit: int
) -> tuple[list[str], bool]:
    """Up to `limit` image keys under the prefix after `start_after`, and whether more exist."""
    keys: list[str] = []
    kwargs = {"Bucket": bucket, "Prefix": prefix}
    if start_after:
        kwargs["StartAfter"] = start_after
    try:
        for page in client.get_paginator("list_objects_v2").paginate(**kwargs):
            for item in page.get("Contents", []):
                if item["Key"].lower().endswith(IMAGE_SUFFIXES) and item.get("Size", 1) > 0:
                    if len(keys) == limit:
                        return keys, True
                    keys.append(item["Key"])
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "NoSuchBucket":
            raise BatchBucketNotFound(f"bucket {bucket} does not exist") from None
        if code in ("AccessDenied", "403"):
            raise BatchAccessDenied(f"not allowed to list s3://{bucket}/{prefix}") from None
        raise
    return keys, False


@logger.inject_lambda_context(log_event=True)  # bucket and prefix only
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    bucket, prefix, start_after = parse_request(event)
    images, truncated = list_images(s3_client, bucket, prefix, start_after, MAX_BATCH_IMAGES)
    if not images:
        raise NoImagesFound(f"no PNG or JPEG object under s3://{bucket}/{prefix}")
    result = {
        "s3_bucket": bucket,
        "s3_prefix": prefix,
        "images": images,
        "truncated": truncated,
        "next_start_after": images[-1] if truncated else None,  # for the next execution
    }
    logger.info("Listed images", extra={"count": len(images), "truncated": truncated})
    return result
