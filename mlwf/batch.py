"""`mlwf batch`: classify every image under an S3 prefix with the batch state machine.

Each image gets a verdict: ACCEPTED (confident enough), LOW_CONFIDENCE, or ERROR with the
named error. Against the deployed stack, or with --offline against the offline stack
(staged, trained and deployed there first; the default prefix is its test split).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlwf.offline.options import add_parameter_overrides, parse_parameter_overrides
from training_job.stack import add_stack_options

BATCH_MACHINE = "BatchClassificationStateMachine"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "batch",
        help="classify every image under an S3 prefix (the batch state machine)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_stack_options(parser, "bucket")
    parser.add_argument(
        "--s3-prefix", help="key prefix of the images (offline default: dataset/test/)"
    )
    parser.add_argument("--offline", action="store_true", help="run against the offline stack")
    parser.add_argument("--data", default="synthetic", help="with --offline: the data to stage")
    add_parameter_overrides(parser)
    parser.add_argument("--json", type=Path, help="also write the verdicts to this JSON file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from training_job.errors import MlwfError

    if args.parameter_overrides and not args.offline:
        raise MlwfError("--parameter-overrides is for --offline; a deployed stack has its own")
    if args.offline:
        output = _offline(args)
    else:
        if args.s3_prefix is None:
            raise MlwfError("--s3-prefix is needed, e.g. --s3-prefix incoming/")
        from training_job.stack import aws_session, resolve

        settings = resolve(args, "bucket", "batch_state_machine_arn")
        sfn = aws_session(settings).client("stepfunctions")
        output = execute(
            sfn, str(settings.batch_state_machine_arn), str(settings.bucket), args.s3_prefix, 2.0
        )
    verdicts = output["verdicts"]
    for verdict in verdicts:
        confidence = f"{max(verdict['inferences']):.3f}" if verdict.get("inferences") else "-"
        error = verdict.get("error") or ""
        print(f"{verdict['s3_key']:60} {verdict['verdict']:15} {confidence:>6} {error}")
    counts = Counter(v["verdict"] for v in verdicts)
    print(f"\n{len(verdicts)} images: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if output.get("truncated"):
        print(f"more images follow: run again with start_after {output['next_start_after']}")
    if args.json:
        args.json.write_text(json.dumps(output, indent=2) + "\n")
    return 0


def execute(
    sfn: Any,
    arn: str,
    bucket: str,
    prefix: str,
    poll: float,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Start the batch execution, wait for its end, and return its output."""
    import uuid

    from training_job.errors import MlwfError

    started = sfn.start_execution(
        stateMachineArn=arn,
        name=f"mlwf-batch-{uuid.uuid4().hex[:12]}",
        input=json.dumps({"s3_bucket": bucket, "s3_prefix": prefix}),
    )
    while True:
        description = sfn.describe_execution(executionArn=started["executionArn"])
        if description["status"] != "RUNNING":
            break
        sleep(poll)
    if description["status"] != "SUCCEEDED":
        raise MlwfError(
            f"batch execution {description['status']}: {description.get('error')}: "
            f"{(description.get('cause') or '')[:200]}"
        )
    return json.loads(description["output"])


def _offline(args: argparse.Namespace) -> dict[str, Any]:
    from mlwf.offline.runtime import OfflineStack
    from mlwf.offline.workflow import choose_source, deploy_model

    def say(text: str) -> None:
        print(text, file=sys.stderr)

    overrides = parse_parameter_overrides(args.parameter_overrides)
    source = choose_source(args.data, say)
    with OfflineStack.start(parameter_overrides=overrides, say=say) as stack:
        deployment = deploy_model(stack, source, say=say)
        prefix = (
            args.s3_prefix if args.s3_prefix is not None else f"{deployment.settings.prefix}/test/"
        )
        return execute(
            stack.sfn,
            stack.state_machine_arn(BATCH_MACHINE),
            stack.bucket_name(),
            prefix,
            poll=1.0,
            sleep=stack.wait_for_executions,  # woken when the execution ends
        )
