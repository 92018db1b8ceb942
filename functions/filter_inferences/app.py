"""Filter inferences: pass the state on when the model is confident enough, else fail.

Input state:  {"s3_key", "inferences": [p_bicycle, p_motorcycle], ...}
Output state: the input, unchanged, when max(inferences) >= THRESHOLD.
Otherwise it raises ThresholdConfidenceNotMet, so the execution ends FAILED with that error.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

try:
    import aws_xray_sdk  # noqa: F401  (Tracer's: AWS's layer ships it with Powertools' extras)
    from aws_lambda_powertools import Logger, Metrics, Tracer
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.typing import LambdaContext
except ModuleNotFoundError as missing:  # no Powertools layer: PowertoolsLayerMissing below
    if not (missing.name or "").startswith(("aws_lambda_powertools", "aws_xray_sdk")):
        raise
    _powertools_missing: ModuleNotFoundError | None = missing
else:
    _powertools_missing = None

THRESHOLD_BOUNDS = (0.5, 1.0)  # the template's ConfidenceThreshold allows the same range
INFERENCES_MARKER = "inferences: "  # mlwf reads what follows it in a failed execution


# Errors: Step Functions shows the class name as the execution's error.
class FilterInferencesError(Exception):
    """Base class of this function's errors."""


class PowertoolsLayerMissing(FilterInferencesError):
    """Powertools is not importable: the function's layer is missing or not for its runtime."""


class InvalidThresholdConfiguration(FilterInferencesError):
    """THRESHOLD is missing, not a number, or outside [0.5, 1.0]."""


class InvalidInferences(FilterInferencesError):
    """inferences is missing, empty, non-numeric, or has values outside [0, 1]."""


class ThresholdConfidenceNotMet(FilterInferencesError):
    """The model's top confidence is below the threshold: a verdict, never retried."""


def parse_threshold(raw: str | None) -> float:
    """The configured threshold, or InvalidThresholdConfiguration."""
    low, high = THRESHOLD_BOUNDS
    try:
        threshold = float(raw) if raw is not None else math.nan
    except ValueError:
        raise InvalidThresholdConfiguration(f"THRESHOLD must be a number, got {raw!r}") from None
    if not low <= threshold <= high:  # also rejects NaN
        raise InvalidThresholdConfiguration(f"THRESHOLD must be in [{low}, {high}], got {raw!r}")
    return threshold


def check_inferences(event: Any) -> list[float]:
    """The state's inferences as floats in [0, 1], or InvalidInferences."""
    if not isinstance(event, dict):
        raise InvalidInferences(f"expected a JSON object, got {type(event).__name__}")
    inferences = event.get("inferences")
    if not isinstance(inferences, list) or not inferences:
        problem = "is missing" if inferences is None else "must be a non-empty list"
        raise InvalidInferences(f"inferences {problem}")
    for value in inferences:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInferences(f"inferences must be numbers, got {value!r}")
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise InvalidInferences(f"inferences must be in [0, 1], got {value!r}")
    return [float(v) for v in inferences]


def filter_inferences(event: dict[str, Any], threshold: float) -> dict[str, Any]:
    """The state unchanged when confident enough, else ThresholdConfidenceNotMet.

    The error's message ends with the inferences as JSON, so whoever reads the failed
    execution (the console, `mlwf run`) has them without fetching its history.
    """
    inferences = check_inferences(event)
    confidence = max(inferences)
    if confidence < threshold:
        raise ThresholdConfidenceNotMet(
            f"{event.get('s3_key', '<unknown key>')}: top confidence {confidence:.4f} "
            f"is below the threshold {threshold}; {INFERENCES_MARKER}{json.dumps(inferences)}"
        )
    return event


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
metrics = Metrics()  # namespace from POWERTOOLS_METRICS_NAMESPACE, set in template.yaml
# Read once per execution environment; a bad value fails every invocation with its own
# named error rather than an import error Step Functions would show as Runtime.ImportModuleError.
try:
    THRESHOLD: float | InvalidThresholdConfiguration = parse_threshold(os.environ.get("THRESHOLD"))
except InvalidThresholdConfiguration as exc:
    THRESHOLD = exc


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)  # states are small here, but never log images
@tracer.capture_lambda_handler  # no AWS call: the trace shows the verdict's time and error
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        if isinstance(THRESHOLD, InvalidThresholdConfiguration):
            raise THRESHOLD
        state = filter_inferences(event, THRESHOLD)
    except ThresholdConfidenceNotMet as exc:
        metrics.add_metric(name="LowConfidenceInferences", unit=MetricUnit.Count, value=1)
        logger.info("Rejected inference", extra={"reason": str(exc)})
        raise
    except FilterInferencesError:
        metrics.add_metric(name="FilterErrors", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name="ConfidentInferences", unit=MetricUnit.Count, value=1)
    logger.info("Accepted inference", extra={"s3_key": event.get("s3_key"), "threshold": THRESHOLD})
    return state
