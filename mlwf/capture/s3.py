"""S3 locations as `mlwf monitor` and `mlwf threshold` take them, and the AWS errors of
reading them, as one-line MlwfErrors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training_job.errors import MlwfError

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def is_s3_url(value: str | Path) -> bool:
    """Whether the user meant S3 (anything starting ``s3:``, well formed or not)."""
    return isinstance(value, str) and value[:3].lower() == "s3:"


def parse_s3_url(url: str) -> S3Location:
    """``s3://BUCKET/PREFIX`` -> S3Location; a one-line MlwfError for anything else."""
    match = re.match(r"^s3://([^/]*)/?(.*)$", url)
    if not match or not _BUCKET_RE.match(match.group(1)):
        raise MlwfError(f"not an S3 URL: {url!r}; expected s3://BUCKET/PREFIX")
    return S3Location(match.group(1), match.group(2))


def client_or_default(s3_client: Any) -> Any:
    """`s3_client`, else boto3's default S3 client."""
    if s3_client is not None:
        return s3_client
    import boto3  # lazy: keeps `mlwf --help` fast

    return boto3.client("s3")


def aws_error(exc: Exception, what: str) -> MlwfError:
    response = getattr(exc, "response", None) or {}
    error = response.get("Error", {})
    detail = f"{error.get('Code', 'Error')}: {error.get('Message', exc)}" if error else str(exc)
    return MlwfError(f"cannot {what}: {detail}")


def is_client_error(exc: Exception) -> bool:
    """Whether `exc` is botocore's (an AWS answer or a transport failure)."""
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(exc, ClientError | BotoCoreError)
