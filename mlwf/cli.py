"""`mlwf`: the project's command line. Each command lives in its own module with a
`register(subparsers)` function; heavy imports stay inside the commands so that
`mlwf --help` answers at once."""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from typing import Any

from training_job.errors import MlwfError, client_error_message

# Each command and the module that registers it (tests/unit/test_cli.py keeps the two
# equal). A command line naming one imports that module alone: the others' imports cost
# every command ~0.15-0.2 s, a fifth of `mlwf invoke` against a running stack.
COMMANDS = {
    "stage": "training_job.stage",
    "train": "training_job.train",
    "deploy": "training_job.deploy",
    "teardown": "training_job.teardown",
    "demo": "mlwf.demo",
    "invoke": "mlwf.invoke",
    "run": "mlwf.run",
    "batch": "mlwf.batch",
    "monitor": "mlwf.monitor",
    "threshold": "mlwf.threshold",
    "cost": "mlwf.cost",
    "offline": "mlwf.offline_up",
    "console": "mlwf.console.command",
}
COMMAND_MODULES = tuple(COMMANDS.values())


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or with `command` only that command's parser (what parses
    a command line that names it)."""
    parser = argparse.ArgumentParser(
        prog="mlwf",
        description="Stage, train, deploy, run and monitor the image-classification workflow, "
        "in your AWS account or offline.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in [COMMANDS[command]] if command in COMMANDS else COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(subparsers)
    _name_each_parser(subparsers)
    return parser


def _name_each_parser(subparsers: Any) -> None:
    """A mistake in a command's options is shown with that command's usage: each parser,
    nested ones included (`mlwf offline up`), sets itself as the one to report with; the
    innermost parser's default wins."""
    for command in subparsers.choices.values():
        command.set_defaults(command_parser=command)
        for action in command._actions:  # argparse keeps nested commands only there
            if isinstance(action, argparse._SubParsersAction):
                _name_each_parser(action)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv[0] if argv else None)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        args.command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return int(args.func(args) or 0)
    except MlwfError as exc:
        print(f"mlwf {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"mlwf {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # AWS errors are user-facing, not bugs
        if not _is_aws_error(exc):
            raise
        print(f"mlwf {args.command}: error: {_aws_message(exc)}", file=sys.stderr)
        return 1


def script() -> int:
    """The `mlwf` command: main(), then the heap frozen for the exit. An offline command
    leaves a heap of millions of objects (moto, botocore's models, scikit-learn), and the
    interpreter's exit runs full garbage collections over it: ~2 s of `mlwf invoke`'s ~9 s.
    Frozen, they are skipped. Every atexit handler still runs and what reference counts
    free is still freed; only garbage held in cycles is left to the OS, with the rest of
    the process (the commands close their own files). Not in main(): the tests call main()
    in their own process, which goes on."""
    try:
        return main()
    finally:
        gc.freeze()


def _is_aws_error(exc: Exception) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(exc, BotoCoreError | ClientError)


def _aws_message(exc: Exception) -> str:
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
    )

    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if isinstance(exc, EndpointConnectionError) and endpoint:
        # an `mlwf offline up` that stopped since (training_job.local_endpoint says it
        # up front when it had stopped before)
        from training_job.local_endpoint import nothing_answers

        return f"{exc}: {nothing_answers(endpoint)}"
    if isinstance(exc, NoRegionError):
        return "no AWS region: pass --region, set AWS_REGION, or run `aws configure`"
    if isinstance(exc, NoCredentialsError):
        return (
            "no AWS credentials: run `aws configure` (or set AWS_PROFILE); "
            "to try the workflow without AWS, run `make demo`"
        )
    if isinstance(exc, ClientError):
        return client_error_message(exc.operation_name, exc.response)
    return str(exc)


if __name__ == "__main__":
    sys.exit(script())
