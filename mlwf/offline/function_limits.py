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
  list (rule E3663): tests/unit/test_function_limits.py keeps them equal.
"""

from __future__ import annotations

import json
import re
from typing import Any

TIMEOUT_SECONDS = (1, 900)
MEMORY_MB = (128, 10240)
VARIABLE_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_]+")
VARIABLES_MAX_BYTES = 4096  # of the variables' JSON text
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


def refusals(timeout: int, memory_size: int, variables: dict[str, str]) -> list[str]:
    """Why Lambda would refuse this configuration; [] when it would not."""
    found = []
    for what, value, (low, high), unit in (
        ("Timeout", timeout, TIMEOUT_SECONDS, "seconds"),
        ("MemorySize", memory_size, MEMORY_MB, "MB"),
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
    timeout = int(props.get("Timeout", 3))
    memory_size = int(props.get("MemorySize", 128))
    return [f"{logical_id}: {r}" for r in refusals(timeout, memory_size, variables)]
