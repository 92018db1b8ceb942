"""What Lambda's CreateFunction refuses in a function's configuration, checked offline.

The offline stack makes no Lambda function through an API: it reads the template's and
runs the code. A configuration Lambda refuses, and `sam deploy` then fails on, would run
offline as if it were fine (a 1000 s timeout, an AWS_REGION of the function's own).
Lambda's limits, each on its AWS page:
- Timeout: 1 to 900 seconds
  (https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html);
- MemorySize: 128 to 10,240 MB
  (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html);
- an environment variable's name: [a-zA-Z]([a-zA-Z0-9_])+
  (https://docs.aws.amazon.com/lambda/latest/api/API_Environment.html), not one of the
  names Lambda reserves, and all of them 4 KB at most
  (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html), measured as
  Lambda measures them: the JSON text of the variables ("exceeded the 4KB limit. String
  measured: {"K":"V",...}", Lambda's answer quoted in
  github-aws-runners/terraform-aws-github-runner#3594). The reserved names are cfn-lint's
  list (rule E3663): tests/unit/test_function_limits.py keeps them equal;
- EphemeralStorage's Size: 512 to 10,240 MB
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-function-ephemeralstorage.html);
- Runtime: one of the Lambda API's runtimes, as the AWS SDK's model of the API lists them
  (botocore's `Runtime` shape; `python3.99` is none);
- Layers: five at most ("You can add up to five layers to a Lambda function",
  https://docs.aws.amazon.com/lambda/latest/dg/adding-layers.html);
- TracingConfig's Mode: Active or PassThrough
  (https://docs.aws.amazon.com/lambda/latest/api/API_TracingConfig.html; botocore's
  `TracingMode`; SAM passes `Tracing: Enabled` through as given);
- FunctionName, when the template names the function: letters, digits, `-` and `_`, 64
  characters at most ("If you specify only the function name, it is limited to 64
  characters in length", https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html).

A runtime Lambda offers but the offline stack cannot run (anything but OFFLINE_RUNTIME,
this project's, which runs the functions' worker processes) is refused too, in words of
its own (`offline_refusal`): run on python3.13, a python3.12 function would pass offline
what Python 3.12 refuses on AWS.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

TIMEOUT_SECONDS = (1, 900)
MEMORY_MB = (128, 10240)
EPHEMERAL_STORAGE_MB = (512, 10240)
OFFLINE_RUNTIME = "python3.13"
VARIABLE_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_]+")
VARIABLES_MAX_BYTES = 4096  # of the variables' JSON text
JSON_LOGGING = ("ApplicationLogLevel", "SystemLogLevel")  # LoggingConfig's, for JSON logs
MAX_LAYERS = 5
FUNCTION_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
RESERVED_VARIABLES = (
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
)


def refusals(
    timeout: int,
    memory_size: int,
    variables: dict[str, str],
    ephemeral_storage: int = EPHEMERAL_STORAGE_MB[0],
    runtime: str = OFFLINE_RUNTIME,
) -> list[str]:
    """Why Lambda would refuse this configuration; [] when it would not."""
    found = []
    if runtime not in lambda_runtimes():
        found.append(f"Runtime {runtime!r} is not one of Lambda's runtimes")
    for what, value, (low, high), unit in (
        ("Timeout", timeout, TIMEOUT_SECONDS, "seconds"),
        ("MemorySize", memory_size, MEMORY_MB, "MB"),
        ("EphemeralStorage Size", ephemeral_storage, EPHEMERAL_STORAGE_MB, "MB"),
    ):
        if not low <= value <= high:
            found.append(f"{what} {value} is outside Lambda's {low} to {high} {unit}")
    for name in variables:
        if name in RESERVED_VARIABLES:
            found.append(f"environment variable {name!r}: Lambda reserves the name")
        elif not VARIABLE_NAME.fullmatch(name):
            found.append(
                f"environment variable {name!r}: a name must match {VARIABLE_NAME.pattern}"
            )
    size = len(json.dumps(variables, separators=(",", ":"), ensure_ascii=False).encode())
    if variables and size > VARIABLES_MAX_BYTES:
        found.append(
            f"environment variables: {size} bytes as JSON, over Lambda's {VARIABLES_MAX_BYTES}"
        )
    return found


def check(logical_id: str, props: dict[str, Any], variables: dict[str, str]) -> list[str]:
    """`refusals` for a template's AWS::Lambda::Function, each naming the function."""
    storage = ephemeral_storage_mb(props)
    found = refusals(
        int(props.get("Timeout", 3)),
        int(props.get("MemorySize", 128)),
        variables,
        EPHEMERAL_STORAGE_MB[0] if storage is None else storage,
        str(props.get("Runtime", OFFLINE_RUNTIME)),
    )
    if storage is None:
        found.append("EphemeralStorage must be an object whose Size is a whole number of MB")
    layers = props.get("Layers") or []
    if len(layers) > MAX_LAYERS:
        found.append(f"{len(layers)} Layers: a function has {MAX_LAYERS} at most")
    mode = (props.get("TracingConfig") or {}).get("Mode", "PassThrough")
    if mode not in tracing_modes():
        found.append(f"TracingConfig Mode {mode!r} is not one of {', '.join(tracing_modes())}")
    found += _settings_refusals(props, EPHEMERAL_STORAGE_MB[0] if storage is None else storage)
    name = props.get("FunctionName")
    if name is not None and not FUNCTION_NAME.fullmatch(str(name)):
        found.append(
            f"FunctionName {name!r}: a name is 1 to 64 letters, digits, hyphens and underscores"
        )
    return [f"{logical_id}: {r}" for r in found]


def _settings_refusals(props: dict[str, Any], storage: int) -> list[str]:
    """SnapStart's and RuntimeManagementConfig's values, which Lambda checks and the offline
    stack otherwise takes without effect (found by a user-edit walk)."""
    found = []
    snap_start, management = (
        props.get("SnapStart") or {},
        props.get("RuntimeManagementConfig") or {},
    )
    for what, given in (("SnapStart", snap_start), ("RuntimeManagementConfig", management)):
        if not isinstance(given, dict):
            return [f"{what} must be an object"]
    apply_on = snap_start.get("ApplyOn", "None")
    applies = _lambda_enum("SnapStartApplyOn")
    if apply_on not in applies:
        found.append(f"SnapStart ApplyOn {apply_on!r} is not one of {', '.join(applies)}")
    elif apply_on != "None" and storage > EPHEMERAL_STORAGE_MB[0]:
        # "SnapStart does not support ... ephemeral storage greater than 512 MB"
        # (https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html)
        found.append(f"SnapStart does not support EphemeralStorage over 512 MB ({storage})")
    update_on = management.get("UpdateRuntimeOn", "Auto")
    if update_on not in _lambda_enum("UpdateRuntimeOn"):
        found.append(
            f"RuntimeManagementConfig UpdateRuntimeOn {update_on!r} is not one of "
            f"{', '.join(_lambda_enum('UpdateRuntimeOn'))}"
        )
    elif update_on == "Manual" and not management.get("RuntimeVersionArn"):
        # the ARN "is only required if you're using the Manual runtime update mode"
        # (https://docs.aws.amazon.com/lambda/latest/api/API_PutRuntimeManagementConfig.html)
        found.append("RuntimeManagementConfig UpdateRuntimeOn Manual needs a RuntimeVersionArn")
    return found


# Lambda keeps 100 concurrent executions of the account unreserved, and an account has
# 1,000 by default (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html):
# the offline stack's account is such an account. (A new account may have 10, and then can
# reserve none: docs/deploy.md, First deploy.)
ACCOUNT_CONCURRENCY = 1000
MIN_UNRESERVED = 100


def account_refusal(functions: dict[str, Any]) -> str | None:
    """Why Lambda would refuse the functions' (FunctionSpec's) reserved concurrency in the
    account: Lambda's words for it, as quoted from its answer in localstack/localstack's
    Lambda tests and in many deploy logs; None when it would not."""
    reserved = {k: f.reserved_concurrency for k, f in functions.items()}
    total = sum(n for n in reserved.values() if n)
    if ACCOUNT_CONCURRENCY - total >= MIN_UNRESERVED:
        return None
    names = ", ".join(k for k, n in reserved.items() if n)
    return (
        f"Lambda's PutFunctionConcurrency would refuse {names} ({total} reserved of the "
        f"account's {ACCOUNT_CONCURRENCY}): Specified ReservedConcurrentExecutions for "
        "function decreases account's UnreservedConcurrentExecution below its minimum value "
        f"of [{MIN_UNRESERVED}]."
    )


def offline_refusal(logical_id: str, props: dict[str, Any]) -> str | None:
    """Why the offline stack cannot run a function Lambda would run; None when it can."""
    runtime = str(props.get("Runtime", OFFLINE_RUNTIME))
    if runtime != OFFLINE_RUNTIME:
        return (
            f"{logical_id}: Runtime {runtime}: the offline stack runs {OFFLINE_RUNTIME} "
            "functions only (this project's runtime)"
        )
    logging = props.get("LoggingConfig") or {}
    if not isinstance(logging, dict):
        return f"{logical_id}: LoggingConfig must be an object (LogFormat, LogGroup, ...)"
    formats = [k for k in JSON_LOGGING if k in logging] + (
        ["LogFormat JSON"] if str(logging.get("LogFormat", "Text")) == "JSON" else []
    )
    if formats:  # monitoring-cloudwatchlogs-advanced.html: JSON records, filtered by level
        return (
            f"{logical_id}: LoggingConfig {', '.join(formats)}: the offline stack writes a "
            "function's log as text, every level of it (only LoggingConfig's LogGroup is applied)"
        )
    return None


def ephemeral_storage_mb(props: dict[str, Any]) -> int | None:
    """The function's /tmp size in MB; None when the template's is not an object with a
    whole-number Size."""
    storage = props.get("EphemeralStorage") or {}
    size = storage.get("Size", EPHEMERAL_STORAGE_MB[0]) if isinstance(storage, dict) else None
    try:
        return int(str(size))
    except ValueError:
        return None


def tracing_modes() -> tuple[str, ...]:
    """The TracingConfig modes of the Lambda API, from the AWS SDK's model of it."""
    return _lambda_enum("TracingMode")


def lambda_runtimes() -> frozenset[str]:
    """The Runtime values of the Lambda API, from the AWS SDK's model of it."""
    return frozenset(_lambda_enum("Runtime"))


@functools.cache
def _lambda_enum(shape_name: str) -> tuple[str, ...]:
    import botocore.model
    import botocore.session

    shape = botocore.session.get_session().get_service_model("lambda").shape_for(shape_name)
    assert isinstance(shape, botocore.model.StringShape)  # its values are an enum
    return tuple(shape.enum)
