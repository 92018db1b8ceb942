"""`mlwf invoke`: the offline `sam local invoke`.

Runs one function of template.yaml with an event file, against a seeded offline stack.
As `sam local invoke` does, it runs with your credentials, not the function's role (the SAM
CLI reads them as the AWS CLI does:
https://github.com/aws/aws-sam-cli/commit/f700f680156d842c5ef5045107256d92b09c033a);
--as-role runs it as its role, with that role's policies enforced, as in the workflow.
The stack is seeded:
the bucket holds a small synthetic dataset and the objects events/*.json name, a local
model is trained and deployed, and the endpoint's name is in the SSM parameter. Prints the
function's result, or its error as Lambda reports it (exit 1), and its log on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlwf.offline.options import add_parameter_overrides, parse_parameter_overrides

if TYPE_CHECKING:
    from mlwf.offline.runtime import OfflineStack

SEED_COUNT = 40  # synthetic images per class: enough for a model that decides clearly


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "invoke",
        help="run one function offline with an event file (the offline sam local invoke)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("function", help="logical id in template.yaml, e.g. ClassifyImageFunction")
    parser.add_argument(
        "--event",
        "-e",
        type=Path,
        required=True,
        help="event file, e.g. events/classify_image.json",
    )
    parser.add_argument("--template", type=Path, help="template (default: the project's)")
    parser.add_argument(
        "--as-role",
        action="store_true",
        help="run as the function's role, its policies enforced (default: your credentials, "
        "as sam local invoke)",
    )
    add_parameter_overrides(parser)
    parser.add_argument(
        "--fault", action="append", default=[], metavar="TARGET:KIND[:COUNT]", help="inject a fault"
    )
    parser.add_argument(
        "--stack-name",
        help="with AWS_ENDPOINT_URL set: the running stack (default: samconfig.toml's)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from training_job.errors import MlwfError

    try:
        event = json.loads(args.event.read_text())
    except FileNotFoundError:
        raise MlwfError(f"event file not found: {args.event}") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise MlwfError(f"{args.event}: not a JSON event: {exc}") from None
    overrides = parse_parameter_overrides(args.parameter_overrides)
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        given = [
            flag
            for flag, value in (
                ("--template", args.template),
                ("--parameter-overrides", overrides),
                ("--fault", args.fault),
            )
            if value
        ]
        if given:
            raise MlwfError(
                f"{given[0]} configures a stack this command starts; AWS_ENDPOINT_URL "
                f"({endpoint}) points at a running one: unset it, or drop {given[0]}"
            )
        result = invoke_running(args.function, event, args.stack_name)
    else:
        result = invoke(
            args.function, event, args.template, overrides, args.fault, as_role=args.as_role
        )
    print(json.dumps(result["payload"], indent=2))
    return 1 if result["function_error"] else 0


def invoke_running(function: str, event: Any, stack_name: str | None) -> dict[str, Any]:
    """The function of the stack AWS_ENDPOINT_URL serves (`mlwf offline up`), invoked as
    `sam remote invoke` would: its name from the stack's `<LogicalId>Name` output, its log
    from Lambda's LogType=Tail. It runs as its role, as every function of that stack does."""
    import base64

    from botocore.exceptions import BotoCoreError

    from training_job.errors import MlwfError
    from training_job.stack import StackSettings, aws_session, default_stack_name, stack_outputs

    name = stack_name or default_stack_name()
    if not name:
        raise MlwfError("no stack name: pass --stack-name, or run from the project folder")
    session = aws_session(StackSettings())  # (refuses an endpoint that is not answering)
    outputs = stack_outputs(name, session)
    physical = outputs.get(f"{function}Name")
    if physical is None:  # in the words of a stack this command starts
        known = sorted(k.removesuffix("Name") for k in outputs if k.endswith("FunctionName"))
        raise MlwfError(
            f"no function {function!r} in stack {name} (no output {function}Name); "
            f"functions: {', '.join(known)}"
        )
    try:
        response = session.client("lambda").invoke(
            FunctionName=physical, Payload=json.dumps(event).encode(), LogType="Tail"
        )
    except BotoCoreError as exc:  # nothing listening there, or it went away
        raise MlwfError(f"cannot invoke {physical}: {exc}") from None
    if response.get("LogResult"):
        sys.stderr.write(base64.b64decode(response["LogResult"]).decode(errors="replace"))
    payload = json.loads(response["Payload"].read() or b"null")
    return {"payload": payload, "function_error": response.get("FunctionError")}


def invoke(
    function: str,
    event: Any,
    template: Path | None,
    overrides: dict[str, str],
    faults: list[str],
    *,
    as_role: bool = False,
) -> dict[str, Any]:
    from mlwf.offline.template import load_template
    from training_job.stack import PROJECT_ROOT

    # The function found in the template before anything starts: an unknown name (or a
    # template that cannot be read) is refused in about a second, not after the stack's
    # start (~8 s, as a README walk found).
    path = template or PROJECT_ROOT / "template.yaml"
    load_template(path, parameter_overrides=overrides).function(function)

    from mlwf.offline.runtime import OfflineStack

    with OfflineStack.start(
        template,
        parameter_overrides=overrides,
        faults=faults,
        say=_to_stderr,
        function_roles=as_role,
    ) as stack:
        seed(stack)
        return invoke_seeded(stack, function, event)


def seed(stack: OfflineStack) -> None:
    """What a fresh stack gets before the invocation: a small synthetic dataset, a local
    model trained and deployed on the endpoint the SSM parameter names, and the objects
    events/*.json name."""
    from mlwf.offline.workflow import deploy_model, seed_event_objects
    from training_job.training_log import TrainingLogTail

    _to_stderr("seeding the offline stack (synthetic data, local model, endpoint, parameter)")
    deployment = deploy_model(
        stack, "synthetic", count=SEED_COUNT, test_count=5, say=lambda _: None
    )
    # what the local trainer did (trained, or used the cache), from its job's log
    for line in TrainingLogTail(stack.client("logs"), deployment.training.job_name).new_lines():
        _to_stderr(f"  {line.message}")
    seed_event_objects(stack)


def invoke_seeded(stack: OfflineStack, function: str, event: Any) -> dict[str, Any]:
    """Invoke the function on a seeded stack; its log lines for the call go to stderr."""
    spec = stack.spec.function(function)
    log = stack.functions[spec.logical_id].log
    start = len(log.lines)
    response = stack.client("lambda").invoke(
        FunctionName=spec.name, Payload=json.dumps(event).encode()
    )
    payload = json.loads(response["Payload"].read() or b"null")
    for line in log.lines[start:]:
        print(line, file=sys.stderr)
    return {"payload": payload, "function_error": response.get("FunctionError")}


def _to_stderr(text: str) -> None:
    print(text, file=sys.stderr)
