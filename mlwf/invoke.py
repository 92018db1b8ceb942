"""`mlwf invoke`: the offline `sam local invoke`.

Runs one function of template.yaml with an event file, against a seeded offline stack:
the bucket holds a small synthetic dataset and the objects events/*.json name, a local
model is trained and deployed, and the endpoint's name is in the SSM parameter. Prints the
function's result, or its error as Lambda reports it (exit 1), and its log on stderr.
"""

from __future__ import annotations

import argparse
import json
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
    result = invoke(args.function, event, args.template, overrides, args.fault)
    print(json.dumps(result["payload"], indent=2))
    return 1 if result["function_error"] else 0


def invoke(
    function: str,
    event: Any,
    template: Path | None,
    overrides: dict[str, str],
    faults: list[str],
) -> dict[str, Any]:
    from mlwf.offline.runtime import OfflineStack

    with OfflineStack.start(
        template, parameter_overrides=overrides, faults=faults, say=_to_stderr
    ) as stack:
        stack.spec.function(function)  # fails early, naming the functions there are
        seed(stack)
        return invoke_seeded(stack, function, event)


def seed(stack: OfflineStack) -> None:
    """What a fresh stack gets before the invocation: a small synthetic dataset, a local
    model trained and deployed on the endpoint the SSM parameter names, and the objects
    events/*.json name."""
    from mlwf.offline.workflow import deploy_model, seed_event_objects

    _to_stderr("seeding the offline stack (synthetic data, local model, endpoint, parameter)")
    deploy_model(stack, "synthetic", count=SEED_COUNT, test_count=5, say=lambda _: None)
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
