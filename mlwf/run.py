"""`mlwf run`: test executions of the workflow on random images of a staged split.

Against the deployed stack (its state machine, bucket and staged dataset come from the
stack's outputs) or, with --offline, against the offline stack: the one AWS_ENDPOINT_URL
points at (`mlwf offline up`), else one it starts, stages, trains and deploys.
Low-confidence failures are expected outcomes, not command errors: the command exits 1
only when an execution failed for another reason.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mlwf.offline.options import (
    add_parameter_overrides,
    parse_parameter_overrides,
    running_stack,
)
from training_job.argtypes import positive_int
from training_job.stack import add_stack_options


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="start test executions on random test images and report them",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_stack_options(parser, "bucket", "prefix")
    parser.add_argument(
        "--offline", action="store_true", help="run against the offline stack (no AWS)"
    )
    parser.add_argument(
        "--data", default="synthetic", help="with --offline: the data to stage (as mlwf demo)"
    )
    add_parameter_overrides(parser)
    parser.add_argument("--count", type=positive_int, default=20, help="executions (default 20)")
    parser.add_argument(
        "--split",
        choices=("test", "validation"),
        default="test",
        help="staged split to sample (validation: labelled traffic for `mlwf threshold`)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the image sample (default: 0, the same images each run)",
    )
    parser.add_argument("--concurrency", type=positive_int, default=10, help="executions in flight")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from training_job.errors import MlwfError

    if args.parameter_overrides and not args.offline:
        raise MlwfError("--parameter-overrides is for --offline; a deployed stack has its own")
    endpoint = running_stack(args.parameter_overrides) if args.offline else None
    if endpoint:
        print(f"using the offline stack at {endpoint} (AWS_ENDPOINT_URL)", file=sys.stderr)
        results, threshold = _run_deployed(args)
    elif args.offline:
        results, threshold = _run_offline(args)
    else:
        results, threshold = _run_deployed(args)
    return report(results, threshold, args.json)


def report(results: list, threshold: float | None, json_path: Path | None) -> int:
    from mlwf.executions import format_summary, format_table, summarize, unexpected_failures

    summary = summarize(results, threshold)
    print(format_table(results))
    print()
    print(format_summary(summary))
    if json_path:
        data = {"summary": summary, "executions": [r.as_dict() for r in results]}
        json_path.write_text(json.dumps(data, indent=2) + "\n")
    failures = unexpected_failures(summary)
    if failures:
        print(
            f"{failures} execution(s) failed for a reason other than low confidence",
            file=sys.stderr,
        )
    return 1 if failures else 0


def _run_deployed(args: argparse.Namespace):
    from mlwf.executions import run_executions, sample, staged_inputs, sync_client_config
    from training_job.stack import aws_session, resolve

    settings = resolve(args, "bucket", "state_machine_arn")
    session = aws_session(settings)
    inputs = staged_inputs(session.client("s3"), str(settings.bucket), settings.prefix, args.split)
    chosen = sample(inputs, args.count, args.seed)
    print(f"starting {len(chosen)} executions of {settings.state_machine_arn}", file=sys.stderr)
    # An EXPRESS machine's executions are run with StartSyncExecution, which answers at
    # their end: give it the time an execution may take.
    sfn = session.client("stepfunctions", config=sync_client_config())
    results = run_executions(
        sfn,
        str(settings.state_machine_arn),
        chosen,
        name_prefix="mlwf-run",
        concurrency=args.concurrency,
        poll_interval=1.0,
    )
    threshold = float(settings.threshold) if settings.threshold else None
    return results, threshold


def _run_offline(args: argparse.Namespace):
    from mlwf.executions import sample
    from mlwf.offline.runtime import OfflineStack
    from mlwf.offline.workflow import choose_source, deploy_model, split_inputs

    def say(text: str) -> None:
        print(text, file=sys.stderr)

    overrides = parse_parameter_overrides(args.parameter_overrides)
    source = choose_source(args.data, say)
    with OfflineStack.start(parameter_overrides=overrides, say=say, seed=args.seed) as stack:
        deployment = deploy_model(stack, source, seed=args.seed, say=say)
        inputs = split_inputs(stack, deployment.settings, args.split)
        inputs = sample(inputs, args.count, args.seed)
        say(f"starting {len(inputs)} executions offline")
        results = stack.run_executions(inputs, name_prefix="mlwf-run", concurrency=args.concurrency)
        return results, float(stack.spec.parameters["ConfidenceThreshold"])
