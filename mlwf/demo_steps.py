"""The steps of `mlwf demo` after the model is deployed, over AWS clients only.

They run the same against a stack the demo started itself and against the one
`mlwf offline up` serves (AWS_ENDPOINT_URL): calibrate the threshold on the validation split,
run the test images through the workflow by uploading them, fetch the endpoint's captured
data and the functions' logs, and plot them.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlwf.executions import ExecutionInput, ExecutionResult
from mlwf.uploads import rule_prefix, run_by_uploads
from training_job.errors import MlwfError

if TYPE_CHECKING:
    from training_job.stack import StackSettings

Say = Callable[[str], None]
CALIBRATION_ID = "validation/"  # inference ids of the threshold calibration requests
TARGET_ACCURACY = 0.97  # the accuracy the suggested threshold keeps on the validation split


@dataclass
class Clients:
    """The AWS clients the steps use: of the demo's own stack, or of a running one."""

    s3: Any
    sfn: Any
    ssm: Any
    runtime: Any  # sagemaker-runtime
    events: Any


def upload_prefix(events: Any, state_machine_arn: str) -> str | None:
    """The key prefix of an enabled S3 upload rule that targets the state machine, read from
    EventBridge as on AWS (ListRuleNamesByTarget, DescribeRule)."""
    pages = events.get_paginator("list_rule_names_by_target").paginate(TargetArn=state_machine_arn)
    for name in (n for page in pages for n in page.get("RuleNames", [])):
        rule = events.describe_rule(Name=name)
        if rule.get("State") != "ENABLED" or not rule.get("EventPattern"):
            continue
        prefix = rule_prefix(json.loads(rule["EventPattern"]))
        if prefix:
            return prefix
    return None


def run_workflow(
    clients: Clients,
    state_machine_arn: str,
    inputs: Sequence[ExecutionInput],
    *,
    concurrency: int,
    run_directly: Callable[..., list[ExecutionResult]],
    say: Say,
) -> list[ExecutionResult]:
    """The test images through the workflow as production runs it: uploaded under the
    prefix the upload rule watches, the rule starting each execution. An EXPRESS machine's
    executions cannot be described, so those are started directly (StartSyncExecution), as
    are a machine's that no rule targets."""
    from mlwf.executions import state_machine_type

    workflow_type = state_machine_type(clients.sfn, state_machine_arn)
    prefix = upload_prefix(clients.events, state_machine_arn)
    if workflow_type == "STANDARD" and prefix is not None:
        say(
            f"\n== run: {len(inputs)} test images uploaded under {prefix}; the upload rule "
            f"starts one execution each ({concurrency} in flight)"
        )
        return run_by_uploads(
            clients.s3,
            clients.sfn,
            state_machine_arn,
            inputs,
            prefix=prefix,
            concurrency=concurrency,
            on_done=progress(len(inputs)),
        )
    why = "an EXPRESS machine" if prefix else "no upload rule targets the machine"
    say(f"\n== run: {len(inputs)} executions started directly ({why}), one per test image")
    return run_directly(
        inputs,
        name_prefix="demo",
        concurrency=concurrency,
        on_done=progress(len(inputs)),
        workflow_type=workflow_type,
    )


def progress(total: int) -> Callable[[ExecutionResult], None]:
    from tqdm import tqdm

    # disable=None: a bar on a terminal, nothing in a log file or CI
    bar = tqdm(total=total, unit="execution", file=sys.stderr, disable=None, leave=False)

    def on_done(result: ExecutionResult) -> None:
        bar.update()
        if bar.n == total:
            bar.close()

    return on_done


def calibrate(
    clients: Clients, parameter_name: str, inputs: Sequence[ExecutionInput], say: Say
) -> list[tuple[float, bool]]:
    """(confidence, correct) for each validation image sent straight to the endpoint."""
    endpoint = clients.ssm.get_parameter(Name=parameter_name)["Parameter"]["Value"]
    rows = []
    for item in inputs:
        body = clients.s3.get_object(Bucket=item.s3_bucket, Key=item.s3_key)["Body"].read()
        response = clients.runtime.invoke_endpoint(
            EndpointName=endpoint,
            ContentType="image/png",
            Body=body,
            InferenceId=(CALIBRATION_ID + item.s3_key.rsplit("/", 1)[-1])[:64],
        )
        probabilities = json.loads(response["Body"].read())
        predicted = max(range(len(probabilities)), key=probabilities.__getitem__)
        rows.append((max(probabilities), predicted == item.true_label))
    say(f"  {len(rows)} validation images classified")
    return rows


def download_capture(s3: Any, bucket: str, folder: Path, fetched: set[str] | None = None) -> int:
    """Every capture file of the bucket into `folder`, as the bucket lays them out: the
    number of files. Keys in `fetched` are not downloaded again (SageMaker writes each
    capture file once and never rewrites it); each key downloaded is added to it."""
    from training_job.stack import CAPTURE_PREFIX

    fetched = set() if fetched is None else fetched
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=CAPTURE_PREFIX + "/"
    ):
        for item in page.get("Contents", []):
            count += 1
            if item["Key"] in fetched:
                continue
            target = folder / item["Key"].removeprefix(CAPTURE_PREFIX + "/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
            fetched.add(item["Key"])
    return count


def wait_for_capture(
    s3: Any,
    bucket: str,
    folder: Path,
    inference_ids: set[str],
    *,
    timeout: float,
    say: Say,
    poll_interval: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Download the capture files until they hold a record of every inference id, as
    SageMaker writes them some time after the requests
    (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture.html):
    the number of files. Past `timeout`, what is there is kept and the gap said."""
    from mlwf.capture import read_capture

    deadline = clock() + timeout
    fetched: set[str] = set()  # each poll downloads only the files written since the last
    while True:
        count = download_capture(s3, bucket, folder, fetched)
        captured = {r.inference_id for r in read_capture(folder).records} if count else set()
        missing = inference_ids - captured
        if not missing:
            return count
        if clock() > deadline:
            say(
                f"  {len(missing)} of {len(inference_ids)} inferences not captured after "
                f"{timeout:.0f} s: plotting what was"
            )
            return count
        sleep(poll_interval)


def write_function_logs(logs: Any, outputs: dict[str, str], folder: Path, since_ms: int) -> int:
    """Each function's CloudWatch log since `since_ms` into folder/<LogicalId>.log (the
    offline `sam logs`); functions come from the stack's `<LogicalId>Name` outputs."""
    from botocore.exceptions import ClientError

    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for key, name in sorted(outputs.items()):
        if not key.endswith("FunctionName"):
            continue
        lines = []
        try:
            pages = logs.get_paginator("filter_log_events").paginate(
                logGroupName=f"/aws/lambda/{name}", startTime=since_ms
            )
            lines = [e["message"].rstrip("\n") for page in pages for e in page["events"]]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise MlwfError(f"the log of {name} cannot be read: {exc}") from None
        (folder / f"{key.removesuffix('Name')}.log").write_text("".join(f"{x}\n" for x in lines))
        written += 1
    return written


def monitor(
    out: Path,
    threshold: float,
    results: Sequence[ExecutionResult],
    calibration: Sequence[tuple[float, bool]],
    say: Say,
) -> dict[str, Any]:
    """The monitoring plots, the summary and the threshold table of the captured data."""
    from mlwf.capture import read_capture
    from mlwf.monitor import summarize
    from mlwf.plots.monitor import plot_all
    from mlwf.plots.sweep import plot_threshold_sweep
    from mlwf.threshold import choose_threshold, threshold_table, write_table

    read = read_capture(out / "data_capture")
    labels_by_id = {r.execution_name: r.true_label for r in results}
    # This run's executions only: a running stack's bucket holds earlier runs' records too.
    records = [r for r in read.records if (r.inference_id or "") in labels_by_id]
    labels = [labels_by_id.get(r.inference_id or "") for r in records]
    plots_dir = out / "plots"
    plots_dir.mkdir(parents=True, exist_ok=True)
    plots = plot_all(records, threshold, plots_dir, labels=labels)
    if not records:  # e.g. every endpoint call failed: nothing was captured to plot
        say("  no workflow traffic was captured: no monitor plots")
    monitor_summary = summarize(records, threshold, labels)
    (plots_dir / "summary.json").write_text(json.dumps(monitor_summary, indent=2) + "\n")

    rows = threshold_table([c for c, _ in calibration], [ok for _, ok in calibration])
    chosen = choose_threshold(rows, TARGET_ACCURACY)
    write_table(rows, plots_dir / "thresholds.csv")
    plots.append(
        plot_threshold_sweep(
            rows,
            TARGET_ACCURACY,
            plots_dir / "threshold_sweep.png",
            chosen=chosen,
            deployed=threshold,
        )
    )
    for path in plots:
        say(f"  plot: {path}")
    if chosen is not None:
        say(
            f"  lowest threshold with >= {TARGET_ACCURACY:.0%} accuracy on the validation "
            f"split: {chosen.threshold:.2f} (coverage {chosen.coverage:.0%}); "
            f"deployed: {threshold}"
        )
    return {
        "records": len(records),
        "target_accuracy": TARGET_ACCURACY,
        "chosen_threshold": chosen.threshold if chosen else None,
        "deployed_threshold": threshold,
    }


def run_steps(
    say: Say,
    clients: Clients,
    settings: StackSettings,
    *,
    out: Path,
    count: int | None,
    seed: int,
    concurrency: int,
    run_directly: Callable[..., list[ExecutionResult]],
    fetch_capture: Callable[[list[ExecutionResult]], None],
    before_run: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Calibrate, run the test images, then monitor what the endpoint captured."""
    from mlwf.executions import format_summary, format_table, sample, staged_inputs, summarize

    threshold = float(str(settings.threshold))
    bucket = str(settings.bucket)
    say("\n== calibrate: the validation split through the endpoint")
    validation = staged_inputs(clients.s3, bucket, settings.prefix, "validation")
    calibration = calibrate(clients, str(settings.parameter_name), validation, say)

    inputs = staged_inputs(clients.s3, bucket, settings.prefix, "test")
    if count is not None:
        inputs = sample(inputs, count, seed)
    if before_run is not None:
        before_run()
    results = run_workflow(
        clients,
        str(settings.state_machine_arn),
        inputs,
        concurrency=concurrency,
        run_directly=run_directly,
        say=say,
    )
    summary = summarize(results, threshold)
    summary["unexpected_failures"] = sum(summary["other_failures"].values())
    say("\n" + format_table(results, limit=20))
    say("\n" + format_summary(summary))

    say("\n== monitor: captured data, plots, threshold")
    fetch_capture(results)
    monitoring = monitor(out, threshold, results, calibration, say)
    return {
        "summary": summary,
        "threshold_analysis": monitoring,
        "executions": [r.as_dict() for r in results],
    }
