"""Command-line options shared by the commands that start an offline stack."""

from __future__ import annotations

import argparse

from training_job.errors import MlwfError
from training_job.local_endpoint import check_local_endpoint


def add_parameter_overrides(parser: argparse.ArgumentParser) -> None:
    """`--parameter-overrides`, as `sam deploy` takes it."""
    parser.add_argument(
        "--parameter-overrides",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="template parameters for the offline stack, as sam deploy takes them, "
        "e.g. WorkflowType=EXPRESS ConfidenceThreshold=0.8",
    )


def parse_parameter_overrides(items: list[str]) -> dict[str, str]:
    """`Key=Value` items (several may share one quoted string, as with sam deploy), or
    `ParameterKey=Key,ParameterValue=Value`."""
    overrides: dict[str, str] = {}
    for item in (word for text in items for word in text.split()):
        if item.startswith("ParameterKey="):
            key_part, sep, value_part = item.partition(",ParameterValue=")
            key, value = key_part.removeprefix("ParameterKey="), value_part
        else:
            key, sep, value = item.partition("=")
        if not sep or not key:
            raise MlwfError(f"--parameter-overrides takes KEY=VALUE, got {item!r}")
        overrides[key] = value
    return overrides


def running_stack(parameter_overrides: list[str]) -> str | None:
    """The offline stack AWS_ENDPOINT_URL points at (`mlwf offline up`), for an --offline
    command to use rather than start one; its parameters are its own."""
    import os

    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint and parameter_overrides:
        raise MlwfError(
            f"--parameter-overrides configures a stack this command starts; AWS_ENDPOINT_URL "
            f"({endpoint}) points at a running one: unset it, or drop --parameter-overrides"
        )
    if endpoint:
        check_local_endpoint()  # before the command says it uses that stack
    return endpoint or None
