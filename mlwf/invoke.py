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
import sys
from pathlib import Path
from typing import Any

from mlwf.offline.options import add_parameter_overrides, parse_parameter_overrides

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
    result = invoke(
        args.function, event, args.template, overrides, args.fault, as_role=args.as_role
    )
    print(json.dumps(result["payload"], indent=2))
    return 1 if result["function_error"] else 0


def invoke(
    function: str,
    event: Any,
    template: Path | None,
    overrides: dict[str, str],
    faults: list[str],
    *,
    as_role: bool = False,
) -> dict[str, Any]:
    from mlwf.offline.runtime import OfflineStack
    from mlwf.offline.workflow import deploy_model, seed_event_objects

    def quiet(text: str) -> None:
        print(text, file=sys.stderr)

    with OfflineStack.start(
        template,
        parameter_overrides=overrides,
        faults=faults,
        say=quiet,
        function_roles=as_role,
    ) as stack:
        spec = stack.spec.function(function)  # fails early, naming the functions there are
        quiet("seeding the offline stack (synthetic data, local model, endpoint, parameter)")
        deploy_model(stack, "synthetic", count=SEED_COUNT, test_count=5, say=lambda _: None)
        seed_event_objects(stack)
        log = stack.functions[spec.logical_id].log
        start = len(log.lines)
        response = stack.client("lambda").invoke(
            FunctionName=spec.name, Payload=json.dumps(event).encode()
        )
        payload = json.loads(response["Payload"].read() or b"null")
        for line in log.lines[start:]:
            print(line, file=sys.stderr)
        return {"payload": payload, "function_error": response.get("FunctionError")}
