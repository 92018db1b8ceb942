"""`mlwf batch`: classify every image under an S3 prefix with the batch state machine.

A Distributed Map lists the prefix (every page), classifies each .png/.jpg/.jpeg key in a
child execution of its own, and writes the verdicts to S3. Each image gets a verdict:
ACCEPTED (confident enough), LOW_CONFIDENCE, or ERROR with the named error; other keys are
SKIPPED without costing an invocation. Progress comes from the Map Run's counts; at the end
the verdicts are read back from S3 one file at a time and summarised, and with --out written
to verdicts.csv and summary.json. Against the deployed stack, or with --offline against the
offline stack: the one AWS_ENDPOINT_URL points at (`mlwf offline up`), else one it starts
(staged, trained and deployed there first), where the default prefix is the staged test
split. docs/batch.md tells more.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlwf.offline.options import (
    add_parameter_overrides,
    parse_parameter_overrides,
    running_stack,
)
from training_job.stack import add_stack_options

BATCH_MACHINE = "BatchClassificationStateMachine"
RUNNING = "RUNNING"


@dataclass
class BatchRun:
    """A finished batch execution and where its Map Run wrote the verdicts."""

    execution_arn: str
    status: str
    map_run_arn: str | None
    results_bucket: str
    manifest_key: str
    item_counts: dict[str, int]

    def details(self) -> dict[str, Any]:
        return {
            "execution_arn": self.execution_arn,
            "status": self.status,
            "map_run_arn": self.map_run_arn,
            "manifest": f"s3://{self.results_bucket}/{self.manifest_key}",
            "map_run_item_counts": self.item_counts,
        }


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
    parser.add_argument(
        "--out", type=Path, help="write verdicts.csv and summary.json (JSON) into this folder"
    )
    parser.add_argument(
        "--poll", type=float, default=2.0, help="seconds between progress reads (default 2)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from training_job.errors import MlwfError

    if args.parameter_overrides and not args.offline:
        raise MlwfError("--parameter-overrides is for --offline; a deployed stack has its own")
    if args.poll <= 0:
        raise MlwfError(f"--poll {args.poll}: must be a positive number of seconds")
    endpoint = running_stack(args.parameter_overrides) if args.offline else None
    if endpoint:
        print(f"using the offline stack at {endpoint} (AWS_ENDPOINT_URL)", file=sys.stderr)
    elif args.offline:
        return _offline(args)
    elif args.s3_prefix is None:  # (a running offline stack's default is its test split)
        raise MlwfError("--s3-prefix is needed, e.g. --s3-prefix incoming/")
    from training_job.stack import aws_session, resolve

    settings = resolve(args, "bucket", "batch_state_machine_arn")
    # (only a running offline stack comes here without a prefix: its staged test split)
    prefix = args.s3_prefix if args.s3_prefix is not None else f"{settings.prefix}/test/"
    session = aws_session(settings)
    batch = execute(
        session.client("stepfunctions"),
        str(settings.batch_state_machine_arn),
        str(settings.bucket),
        prefix,
        args.poll,
    )
    return report(session.client("s3"), batch, prefix, args.out)


def execute(
    sfn: Any,
    arn: str,
    bucket: str,
    prefix: str,
    poll: float,
    sleep: Callable[[float], None] = time.sleep,
    progress: bool = True,
) -> BatchRun:
    """Start the batch execution, show its Map Run's progress, and return where it wrote the
    verdicts once it has ended."""
    from training_job.errors import MlwfError

    started = sfn.start_execution(
        stateMachineArn=arn,
        name=f"mlwf-batch-{uuid.uuid4().hex[:12]}",
        input=json.dumps({"s3_bucket": bucket, "s3_prefix": prefix}),
    )
    execution_arn = started["executionArn"]
    print(f"batch execution {execution_arn}", file=sys.stderr)
    bar = _ProgressBar(enabled=progress)
    map_run_arn: str | None = None
    counts: dict[str, int] = {}
    try:
        while True:
            description = sfn.describe_execution(executionArn=execution_arn)
            if map_run_arn is None:
                map_run_arn = _map_run_arn(sfn, execution_arn)
            if map_run_arn is not None:
                counts = sfn.describe_map_run(mapRunArn=map_run_arn)["itemCounts"]
                bar.show(counts)
            if description["status"] != RUNNING:
                break
            sleep(poll)
    finally:
        bar.close()
    if description["status"] != "SUCCEEDED":
        raise MlwfError(
            f"batch execution {description['status']}: {description.get('error')}: "
            f"{(description.get('cause') or '')[:300]}"
        )
    output = json.loads(description.get("output") or "{}")
    details = output.get("ResultWriterDetails") or {}
    if not details.get("Bucket") or not details.get("Key"):
        raise MlwfError(
            "the batch execution's output names no result files (ResultWriterDetails): "
            "is the deployed batch state machine the Distributed Map of this version?"
        )
    return BatchRun(
        execution_arn=execution_arn,
        status=description["status"],
        map_run_arn=output.get("MapRunArn") or map_run_arn,
        results_bucket=details["Bucket"],
        manifest_key=details["Key"],
        item_counts={k: int(v) for k, v in counts.items()},
    )


def _map_run_arn(sfn: Any, execution_arn: str) -> str | None:
    """The batch's Map Run, once its Map state has started one (ListMapRuns)."""
    runs = sfn.list_map_runs(executionArn=execution_arn).get("mapRuns", [])
    return str(runs[0]["mapRunArn"]) if runs else None


class _ProgressBar:
    """A tqdm bar over the Map Run's items: done = succeeded + failed + timed out + aborted."""

    disable: bool | None = None  # tqdm's: None hides the bar when stderr is not a terminal

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar: Any = None  # a tqdm bar, once the first counts arrive

    def show(self, counts: dict[str, Any]) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        total = int(counts.get("total", 0))
        done = sum(int(counts.get(k, 0)) for k in ("succeeded", "failed", "timedOut", "aborted"))
        if self.bar is None:
            self.bar = tqdm(total=total, unit="image", file=sys.stderr, disable=self.disable)
        self.bar.total = total
        self.bar.n = done
        self.bar.set_postfix(
            succeeded=counts.get("succeeded", 0),
            failed=counts.get("failed", 0),
            pending=counts.get("pending", 0),
            refresh=False,
        )
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def report(s3: Any, batch: BatchRun, prefix: str, out: Path | None) -> int:
    """Read the verdicts back from S3, print the summary, write --out; the exit code."""
    from mlwf.batch_results import collect, iter_verdicts, write_outputs
    from training_job.errors import MlwfError

    verdicts = iter_verdicts(s3, batch.results_bucket, batch.manifest_key)
    if out is not None:
        summary, csv_path, json_path = write_outputs(out, verdicts, batch.details())
    else:
        summary = collect(verdicts)
    for verdict in summary.problems:
        print(f"{verdict.s3_key:60} {verdict.verdict:15} {verdict.error or ''}")
    if summary.problems and sum(summary.errors.values()) > len(summary.problems):
        print(f"... and {sum(summary.errors.values()) - len(summary.problems)} more")
    for line in summary.lines():
        print(line)
    print(f"verdicts: s3://{batch.results_bucket}/{batch.manifest_key}")
    if out is not None:
        print(f"wrote {csv_path} and {json_path}")
    if summary.images == 0:
        raise MlwfError(
            f"no .png/.jpg/.jpeg object under the prefix {prefix!r} "
            f"({summary.keys} keys listed): most likely a mistyped prefix"
        )
    return 0


def _offline(args: argparse.Namespace) -> int:
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
        batch = execute(
            stack.sfn,
            stack.state_machine_arn(BATCH_MACHINE),
            stack.bucket_name(),
            prefix,
            poll=min(args.poll, 0.5),
            sleep=stack.wait_for_executions,  # woken early when the execution ends
        )
        return report(stack.s3, batch, prefix, args.out)
