"""Where each command's settings come from: explicit flags first, then the deployed
SAM stack's outputs, so a user who ran `sam deploy` needs no other flag."""

from __future__ import annotations

import argparse
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training_job.errors import MlwfError, client_error_message
from training_job.local_endpoint import check_local_endpoint

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_PREFIX = "dataset"
CAPTURE_PREFIX = "data_capture"
MODELS_PREFIX = "models"

# Stack output key -> StackSettings field. The keys are template.yaml's Outputs.
OUTPUT_FIELDS = {
    "ImagesBucketName": "bucket",
    "SageMakerExecutionRoleArn": "role_arn",
    "EndpointNameParameter": "parameter_name",
    "EndpointPrefix": "endpoint_prefix",
    "Threshold": "threshold",
    "StateMachineArn": "state_machine_arn",
    "BatchStateMachineArn": "batch_state_machine_arn",
}


@dataclass
class StackSettings:
    stack_name: str | None = None
    region: str | None = None
    bucket: str | None = None
    prefix: str = DEFAULT_DATA_PREFIX
    role_arn: str | None = None
    parameter_name: str | None = None
    endpoint_prefix: str | None = None
    threshold: str | None = None
    state_machine_arn: str | None = None
    batch_state_machine_arn: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)

    def require(self, *names: str) -> None:
        """Fail with the flag to pass when a setting is neither given nor in the stack."""
        missing = [n for n in names if getattr(self, n) in (None, "")]
        if missing:
            flags = ", ".join("--" + n.replace("_", "-") for n in missing)
            where = (
                f"stack {self.stack_name!r} has no such output"
                if self.stack_name
                else "no stack name was given and samconfig.toml names none"
            )
            raise MlwfError(f"missing {flags}: {where}; pass {flags} or deploy the stack first")


def default_stack_name(start: Path | None = None) -> str | None:
    """The stack name in samconfig.toml (the current directory's, else the project's)."""
    for folder in (start or Path.cwd(), PROJECT_ROOT):
        path = folder / "samconfig.toml"
        if not path.is_file():
            continue
        try:
            config = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise MlwfError(f"{path}: not valid TOML: {exc}") from exc
        default = config.get("default", {})
        for command in ("global", "deploy"):
            name = default.get(command, {}).get("parameters", {}).get("stack_name")
            if name:
                return str(name)
    return None


def add_stack_options(parser: argparse.ArgumentParser, *fields: str) -> None:
    """Add --stack-name, --region and the explicit overrides a command uses."""
    group = parser.add_argument_group("stack (defaults come from the deployed SAM stack)")
    group.add_argument(
        "--stack-name",
        help="SAM stack to read outputs from (default: the stack name in samconfig.toml)",
    )
    group.add_argument("--region", help="AWS region (default: your AWS config)")
    helps = {
        "bucket": "S3 bucket (default: stack output ImagesBucketName)",
        "prefix": f"key prefix of the staged dataset (default: {DEFAULT_DATA_PREFIX})",
        "role_arn": "SageMaker execution role (default: stack output SageMakerExecutionRoleArn)",
        "parameter_name": "SSM parameter holding the endpoint name "
        "(default: stack output EndpointNameParameter)",
        "endpoint_prefix": "endpoint name prefix (default: stack output EndpointPrefix)",
    }
    for name in fields:
        flag = "--" + name.replace("_", "-")
        group.add_argument(flag, dest=name, help=helps[name])


def resolve(args: argparse.Namespace, *needed: str, session: Any = None) -> StackSettings:
    """Settings from the flags, completed from the stack's outputs when one is missing."""
    settings = StackSettings(
        stack_name=getattr(args, "stack_name", None) or default_stack_name(),
        region=getattr(args, "region", None),
    )
    for name in (
        "bucket",
        "prefix",
        "role_arn",
        "parameter_name",
        "endpoint_prefix",
        "threshold",
    ):
        value = getattr(args, name, None)
        if value not in (None, ""):
            setattr(settings, name, str(value).strip("/") if name == "prefix" else value)
    if any(getattr(settings, n) in (None, "") for n in needed) and settings.stack_name:
        fill_from_outputs(
            settings, stack_outputs(settings.stack_name, session or aws_session(settings))
        )
    settings.require(*needed)
    return settings


def fill_from_outputs(settings: StackSettings, outputs: dict[str, str]) -> StackSettings:
    """Complete the settings not given explicitly from a stack's outputs."""
    settings.outputs = dict(outputs)
    for key, name in OUTPUT_FIELDS.items():
        if getattr(settings, name) in (None, "") and key in outputs:
            setattr(settings, name, outputs[key])
    return settings


def aws_session(settings: StackSettings) -> Any:
    """A boto3 session for the settings' region; EndpointNotAnswering first if
    AWS_ENDPOINT_URL names a port of this machine that nothing listens on."""
    import boto3  # lazy: keeps `mlwf --help` fast

    check_local_endpoint()
    return boto3.Session(region_name=settings.region or os.environ.get("AWS_REGION") or None)


def stack_outputs(stack_name: str, session: Any) -> dict[str, str]:
    from botocore.exceptions import ClientError

    try:
        stacks = session.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        message = client_error_message(exc.operation_name, exc.response)
        raise MlwfError(f"cannot read stack {stack_name!r}: {message}") from exc
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
