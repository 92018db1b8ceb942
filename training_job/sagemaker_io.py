"""What `mlwf train`, `mlwf deploy` and `mlwf teardown` share: the algorithm's image URI,
resource names, waiting on jobs and endpoints, and finding or deleting an endpoint's parts.

Every AWS call goes through a boto3 client passed in by the caller, never through a client
this module builds. Why boto3 and not sagemaker-core's resources (TrainingJob, Model,
EndpointConfig, Endpoint), although sagemaker-core is a dependency:

* Against moto (the tests and the offline mode) half of them fail *after* the create call has
  gone through: `Model.create` and `Endpoint.create` re-read the resource and validate the
  answer with pydantic, and moto's DescribeModel answers `"VpcConfig": {}` (Subnets and
  SecurityGroupIds are required by the shape) while its DescribeEndpoint has a
  DataCaptureConfig without CaptureStatus or CurrentSamplingPercentage (required too). The
  resource exists, the caller gets a ValidationError. (TrainingJob.create/get and
  EndpointConfig.create/get do validate against moto 5.2.5.)
* They take a boto3 Session, not a client, and build their own clients through a cache keyed
  by the session's id (sagemaker.core.utils.utils.SageMakerClient), so hooks or stubs
  registered on a client we were handed would be bypassed.
* Their `create` merges defaults from SageMaker config files (user, admin, even S3 via
  SAGEMAKER_*_CONFIG_OVERRIDE) into the request, so the request the tests check would not
  be, provably, the request that is sent.
* Their `wait` sleeps with `time.sleep` inside a rich Live panel: neither the clock nor the
  output can be injected.

So sagemaker-core is used for what it does well offline: the per-region image URI of the
built-in algorithm (`sagemaker.core.image_uris`), imported lazily (~3 s).
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import Any

from training_job.errors import MlwfError
from training_job.stack import StackSettings, aws_session, resolve
from training_job.training_log import TrainingLogTail

ALGORITHM = "image-classification"
# Jobs, models, configs and endpoints are named `<prefix>-<UTC timestamp>`. The prefix is the
# stack's EndpointNamePrefix (the classify function may only invoke endpoints with it); when
# no stack tells it, the template's default.
DEFAULT_NAME_PREFIX = "image-classification"
# SageMaker names: at most 63 characters of [a-zA-Z0-9-], no leading or trailing hyphen.
# Lower case only: SageMaker lower-cases endpoint names in ARNs, and IAM matches ARNs.
_NAME_PREFIX = re.compile(r"^[a-z0-9](-*[a-z0-9])*$")
_MAX_NAME = 63
_STAMP_LENGTH = len("20250101-000000-000")

Echo = Callable[[str], None]


def utcnow() -> datetime:
    """The clock that names resources (tests replace it to get distinct names)."""
    return datetime.now(UTC)


def timestamp(now: datetime | None = None) -> str:
    """`YYYYMMDD-HHMMSS-mmm` in UTC: sorts like time, fits SageMaker names."""
    now = now or utcnow()
    return now.astimezone(UTC).strftime("%Y%m%d-%H%M%S-") + f"{now.microsecond // 1000:03d}"


def name_prefix(settings: StackSettings) -> str:
    return (settings.endpoint_prefix or DEFAULT_NAME_PREFIX).rstrip("-")


def unique_name(prefix: str, now: datetime | None = None) -> str:
    """`<prefix>-<timestamp>`, or an MlwfError saying why the prefix cannot name resources."""
    prefix = prefix.rstrip("-")
    if not _NAME_PREFIX.match(prefix):
        raise MlwfError(
            f"name prefix {prefix!r} is not usable: lower-case letters, digits and hyphens only"
        )
    if len(prefix) + 1 + _STAMP_LENGTH > _MAX_NAME:
        raise MlwfError(
            f"name prefix {prefix!r} is too long: at most {_MAX_NAME - 1 - _STAMP_LENGTH} "
            "characters leave room for the timestamp"
        )
    return f"{prefix}-{timestamp(now)}"


@lru_cache(maxsize=16)
def training_image_uri(region: str) -> str:
    """The built-in image-classification algorithm's image in `region` (no network)."""
    from training_job import image_uris  # the SDK's answer, kept on disk per SDK release

    try:
        return image_uris.retrieve(ALGORITHM, region=region)
    except ValueError as exc:
        raise MlwfError(f"no {ALGORITHM} algorithm image for region {region!r}: {exc}") from exc


def is_algorithm_image(image: str | None) -> bool:
    """Whether an ECR image URI is the built-in image-classification algorithm's."""
    return bool(image) and f"/{ALGORITHM}:" in str(image)


# ---------------------------------------------------------------- settings and clients


def resolve_settings(
    args: argparse.Namespace, needed: tuple[str, ...], optional: tuple[str, ...] = ()
) -> StackSettings:
    """Like stack.resolve, but `optional` settings are taken from the stack when it can be
    read and left empty when it cannot (explicit flags alone are then enough)."""
    if optional:
        try:
            return resolve(args, *needed, *optional)
        except MlwfError:
            pass
    return resolve(args, *needed)


def session_and_region(settings: StackSettings) -> tuple[Any, str]:
    session = aws_session(settings)
    region = session.region_name
    if not region:
        raise MlwfError("no AWS region: pass --region or set AWS_REGION")
    settings.region = region
    return session, region


def is_not_found(exc: BaseException) -> bool:
    """SageMaker answers a missing model/config/endpoint with a ValidationException
    'Could not find ...' (moto does the same)."""
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return False
    error = exc.response.get("Error", {})
    code, message = error.get("Code", ""), error.get("Message", "")
    return code in ("ValidationException", "ResourceNotFound") and "ould not find" in message


def get_parameter_value(ssm: Any, name: str) -> str | None:
    """The SSM parameter's value, or None when it does not exist."""
    from botocore.exceptions import ClientError

    try:
        return str(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return None
        raise


# ---------------------------------------------------------------- waiting


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


TRAINING_TERMINAL = ("Completed", "Failed", "Stopped")
LOG_SETTLE_SECONDS = 10.0  # the SageMaker Python SDK's poll, which it waits once after the end


def status_text(status: str, secondary: str | None) -> str:
    """A job's status, with its secondary status where that says more."""
    return status + (f" ({secondary})" if secondary and secondary != status else "")


def seconds_between(start: Any, end: Any) -> float | None:
    """Seconds from one timestamp to another, or None when either is missing."""
    if isinstance(start, datetime) and isinstance(end, datetime):
        return max(0.0, (end - start).total_seconds())
    return None


def _at(created: Any, moment: Any, waited: float) -> str:
    """`moment` as time since `created` when both are timestamps, else `waited`."""
    own = seconds_between(created, moment)
    return format_duration(waited if own is None else own)


def wait_for_training_job(
    sm: Any,
    name: str,
    *,
    poll_interval: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    timeout: float | None = None,
    echo: Echo = print,
    log: TrainingLogTail | None = None,
) -> dict[str, Any]:
    """Poll DescribeTrainingJob until the job ends; print each status change, each new (or
    reworded) secondary status transition and, with `log`, each new line of the job's log,
    in the order they happened, at the time since the waiting began. A job that has ended
    by the first poll (offline, the local trainer runs within CreateTrainingJob) is printed
    at its own times since its creation instead, so that its steps do not all show 0 s.
    Returns the last description; the caller decides what a Failed or Stopped job means."""
    start = clock()
    printed: list[tuple[str, str]] = []
    last_status: tuple[str, str] | None = None
    while True:
        desc = sm.describe_training_job(TrainingJobName=name)
        status = (desc["TrainingJobStatus"], desc.get("SecondaryStatus", ""))
        waited = clock() - start
        ended_at_once = last_status is None and status[0] in TRAINING_TERMINAL
        created = desc.get("CreationTime") if ended_at_once else None
        happened: list[tuple[Any, str]] = []  # (when, line)
        for index, transition in enumerate(desc.get("SecondaryStatusTransitions") or []):
            key = (transition.get("Status", ""), transition.get("StatusMessage", ""))
            if index < len(printed) and printed[index] == key:
                continue
            # a reworded transition was reworded now, whatever its StartTime: no time, so
            # that it comes after the log lines of this poll
            reworded = index < len(printed) and printed[index][0] == key[0]
            moment = None if reworded else transition.get("StartTime")
            happened.append((moment, f"{key[0]}: {key[1]}".rstrip(": ")))
            printed[index:] = [key]
        happened += _log_lines(log)
        _echo_in_order(happened, created, waited, echo)
        _echo_problem(log, echo)
        if status != last_status:
            when = _at(created, desc.get("LastModifiedTime"), waited)
            echo(f"  [{when:>9}] status {status_text(*status)}")
            last_status = status
        if status[0] in TRAINING_TERMINAL:
            if log is not None and not ended_at_once:
                # CloudWatch Logs gets a container's last lines a little after they were
                # written: as the SageMaker Python SDK's logs_for_job does, the log is read
                # once more a poll after the end (at most LOG_SETTLE_SECONDS)
                sleep(min(poll_interval, LOG_SETTLE_SECONDS))
                _echo_in_order(_log_lines(log), None, clock() - start, echo)
                _echo_problem(log, echo)
            return desc
        if timeout is not None and clock() - start >= timeout:
            raise MlwfError(
                f"training job {name} is still {status[0]} after {format_duration(timeout)}; "
                "it keeps running in SageMaker"
            )
        sleep(poll_interval)


def _log_lines(log: TrainingLogTail | None) -> list[tuple[Any, str]]:
    return [(line.at, f"{line.host} | {line.message}") for line in log.new_lines()] if log else []


def _echo_in_order(
    happened: list[tuple[Any, str]], created: Any, waited: float, echo: Echo
) -> None:
    """Each line at its time, oldest first; lines without a time after those with one."""
    happened.sort(key=lambda item: _sort_time(item[0]))
    for moment, text in happened:
        echo(f"  [{_at(created, moment, waited):>9}] {text}")


def _echo_problem(log: TrainingLogTail | None, echo: Echo) -> None:
    problem = log.take_problem() if log is not None else None
    if problem is not None:
        echo(f"  (the job's log in CloudWatch Logs cannot be read: {problem})")


def _sort_time(moment: Any) -> datetime:
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.max.replace(tzinfo=UTC)


ENDPOINT_TERMINAL = ("InService", "Failed")
DEFAULT_ENDPOINT_TIMEOUT = 3600.0


def wait_for_endpoint(
    sm: Any,
    name: str,
    *,
    poll_interval: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    timeout: float | None = DEFAULT_ENDPOINT_TIMEOUT,
    echo: Echo = print,
) -> dict[str, Any]:
    """Poll DescribeEndpoint until it is InService or Failed, printing status changes.
    An update that fails is rolled back by SageMaker to InService with the old config and a
    FailureReason: callers that updated check EndpointConfigName themselves."""
    start = clock()
    last: str | None = None
    while True:
        desc = sm.describe_endpoint(EndpointName=name)
        status = desc["EndpointStatus"]
        if status != last:
            echo(f"  [{format_duration(clock() - start):>9}] endpoint {name}: {status}")
            last = status
        if status in ENDPOINT_TERMINAL:
            return desc
        if timeout is not None and clock() - start >= timeout:
            raise MlwfError(
                f"endpoint {name} is still {status} after {format_duration(timeout)}; "
                "SageMaker keeps working on it and the SSM parameter was not changed"
            )
        sleep(poll_interval)


# ---------------------------------------------------------------- an endpoint's parts


@dataclass
class EndpointResources:
    """An endpoint with the config it runs and that config's models; parts that no longer
    exist are None/absent, so a half-deleted endpoint can still be cleaned up."""

    endpoint_name: str
    status: str | None = None  # None: the endpoint does not exist
    config_name: str | None = None
    config_exists: bool = False
    model_names: list[str] = field(default_factory=list)
    failure_reason: str | None = None

    @property
    def exists(self) -> bool:
        return self.status is not None


def describe_endpoint_resources(sm: Any, endpoint_name: str) -> EndpointResources:
    resources = EndpointResources(endpoint_name)
    try:
        endpoint = sm.describe_endpoint(EndpointName=endpoint_name)
    except Exception as exc:
        if is_not_found(exc):
            return resources
        raise
    resources.status = endpoint["EndpointStatus"]
    resources.failure_reason = endpoint.get("FailureReason")
    resources.config_name = endpoint.get("EndpointConfigName")
    if resources.config_name:
        resources.config_exists, resources.model_names = config_models(sm, resources.config_name)
    return resources


def config_models(sm: Any, config_name: str) -> tuple[bool, list[str]]:
    """(whether the endpoint config exists, the models its variants use)."""
    try:
        config = sm.describe_endpoint_config(EndpointConfigName=config_name)
    except Exception as exc:
        if is_not_found(exc):
            return False, []
        raise
    variants = config.get("ProductionVariants", []) + config.get("ShadowProductionVariants", [])
    return True, list(dict.fromkeys(v["ModelName"] for v in variants if v.get("ModelName")))


def delete_quietly(delete: Callable[[], Any]) -> bool:
    """Run one Delete* call; False when the thing was already gone."""
    try:
        delete()
    except Exception as exc:
        if is_not_found(exc):
            return False
        raise
    return True


def delete_endpoint_config_and_models(
    sm: Any, config_name: str | None, model_names: list[str], keep: tuple[str, ...] = ()
) -> list[str]:
    """Delete a config and its models (not those in `keep`); what was deleted, for humans."""
    deleted = []
    if config_name and config_name not in keep:
        if delete_quietly(lambda: sm.delete_endpoint_config(EndpointConfigName=config_name)):
            deleted.append(f"endpoint config {config_name}")
    for model in model_names:
        if model in keep:
            continue
        if delete_quietly(partial(sm.delete_model, ModelName=model)):
            deleted.append(f"model {model}")
    return deleted


def delete_endpoint_resources(sm: Any, resources: EndpointResources) -> list[str]:
    """Delete the endpoint first (it is what costs money and what must stop serving), then its
    config and models. An endpoint already Deleting is not asked twice."""
    deleted = []
    if resources.exists and resources.status != "Deleting":
        if delete_quietly(lambda: sm.delete_endpoint(EndpointName=resources.endpoint_name)):
            deleted.append(f"endpoint {resources.endpoint_name}")
    deleted += delete_endpoint_config_and_models(
        sm, resources.config_name if resources.config_exists else None, resources.model_names
    )
    return deleted
