"""What `mlwf monitor`, `mlwf threshold` and their plots (mlwf/plots/) share: where the
capture is, which confidence threshold applies (--threshold, else the deployed stack's
output), the S3 client for either, and the row type of the threshold sweep.

Its own module so that monitor, threshold and plots all import it and none of them imports
another's command module (they formed an import cycle when this lived in monitor.py).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlwf.capture import is_s3_url, parse_s3_url
from training_job.errors import MlwfError
from training_job.stack import (
    CAPTURE_PREFIX,
    OUTPUT_FIELDS,
    StackSettings,
    aws_session,
    resolve,
)

CAPTURE_HELP = (
    "data capture location: s3://BUCKET/PREFIX (every .jsonl key starting with PREFIX; end "
    "it with / to mean one folder) or a local folder searched recursively for *.jsonl "
    f"(default: s3://<stack output ImagesBucketName>/{CAPTURE_PREFIX}/)"
)
THRESHOLD_RANGE = (0.5, 1.0)  # template.yaml's ConfidenceThreshold range (test_function_copies.py)


@dataclass(frozen=True)
class ThresholdRow:
    threshold: float
    accepted: int  # records with top confidence >= threshold
    rejected: int
    correct_accepted: int
    coverage: float  # accepted / all
    accuracy: float | None  # correct_accepted / accepted; None when nothing is accepted


def capture_location(value: str) -> str:
    """Validate --capture early: a well-formed S3 URL or an existing local path."""
    if is_s3_url(value):
        return parse_s3_url(value).url
    path = Path(value).expanduser()
    if not path.exists():
        raise MlwfError(f"capture folder not found: {path}")
    return str(path)


def default_capture(args: argparse.Namespace) -> str:
    """s3://<stack bucket>/data_capture/: where `mlwf deploy` sends the data capture."""
    settings = _from_stack(args, "bucket", "--capture")
    return f"s3://{settings.bucket}/{CAPTURE_PREFIX}/"


def _from_stack(args: argparse.Namespace, name: str, flag: str) -> StackSettings:
    """resolve(args, name), with every failure a one-line error naming `flag`."""
    namespace = argparse.Namespace(
        stack_name=getattr(args, "stack_name", None),
        region=getattr(args, "region", None),
        threshold=getattr(args, "threshold", None),
    )
    try:
        return resolve(namespace, name)
    except MlwfError as exc:
        if flag in str(exc):  # resolve's message already names the flag
            raise
        if str(exc).startswith("missing "):  # it names resolve's flag, not this command's
            from training_job import stack as stack_module

            stack = namespace.stack_name or stack_module.default_stack_name()
            output = next((k for k, v in OUTPUT_FIELDS.items() if v == name), name)
            reason = (
                f"stack {stack!r} has no {output} output"
                if stack
                else "no stack name was given and samconfig.toml names none"
            )
            raise MlwfError(
                f"missing {flag}: {reason}; pass {flag} or deploy the stack first"
            ) from exc
        raise MlwfError(f"{exc}; pass {flag} to set it explicitly") from exc
    except Exception as exc:  # no region, no credentials, no network: still one line
        from botocore.exceptions import BotoCoreError

        if not isinstance(exc, BotoCoreError):
            raise
        raise MlwfError(
            f"cannot read the deployed stack: {_botocore_message(exc)}; "
            f"pass {flag} to set it explicitly"
        ) from exc


def parse_threshold(value: Any, source: str) -> float:
    """A threshold the template accepts (0.5..1.0), else a one-line MlwfError."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MlwfError(f"threshold {value!r} from {source} is not a number") from None
    low, high = THRESHOLD_RANGE
    if not math.isfinite(number) or not low <= number <= high:
        raise MlwfError(
            f"threshold {value} from {source} is out of range: the template allows {low} to {high}"
        )
    return number


def threshold_output_key() -> str:
    """The stack output that holds the threshold (training_job.stack's mapping)."""
    return next((k for k, v in OUTPUT_FIELDS.items() if v == "threshold"), "ConfidenceThreshold")


def resolve_threshold(args: argparse.Namespace) -> tuple[float, str]:
    """(threshold, where it came from): --threshold, else the stack's output, else an
    error asking for --threshold."""
    if getattr(args, "threshold", None) not in (None, ""):
        return parse_threshold(args.threshold, "--threshold"), "--threshold"
    settings = _from_stack(args, "threshold", "--threshold")
    source = f"stack {settings.stack_name} output {threshold_output_key()}"
    return parse_threshold(settings.threshold, source), source


def deployed_threshold(args: argparse.Namespace) -> float:
    """The deployed stack's threshold output (for comparison in `mlwf threshold`)."""
    from botocore.exceptions import BotoCoreError

    from training_job.stack import stack_outputs

    name, key = args.stack_name, threshold_output_key()
    try:
        outputs = stack_outputs(name, aws_session(StackSettings(region=args.region)))
    except BotoCoreError as exc:
        raise MlwfError(
            f"cannot read stack {name!r}: {_botocore_message(exc)}; pass --region, or leave "
            "out --stack-name"
        ) from exc
    if key not in outputs:
        raise MlwfError(f"stack {name!r} has no {key} output; leave out --stack-name")
    return parse_threshold(outputs[key], f"stack {name} output {key}")


def _botocore_message(exc: Exception) -> str:
    return str(exc).rstrip(".")


def s3_client_for(args: argparse.Namespace, *locations: Any) -> Any:
    """An S3 client when any location is an s3:// URL, else None."""
    if not any(is_s3_url(str(x)) for x in locations if x is not None):
        return None
    return aws_session(StackSettings(region=getattr(args, "region", None))).client("s3")
