"""The offline stack end to end: template, definition and handlers with the local model.

One stack per module, staged with a small synthetic dataset, trained and deployed through
training_job's code; faults are injected per test and cleared after it.
"""

from __future__ import annotations

import gc
import json
import math
import time
from collections.abc import Iterator

import pytest

from mlwf.executions import ExecutionInput
from mlwf.offline.runtime import OfflineStack
from mlwf.offline.workflow import Deployment, deploy_model, split_inputs
from tests.helpers.training_jobs import job_log_events, local_time_zone, train_again

pytestmark = pytest.mark.offline


@pytest.fixture(scope="module")
def offline() -> Iterator[tuple[OfflineStack, Deployment]]:
    with OfflineStack.start(say=lambda _: None) as stack:
        deployment = deploy_model(stack, "synthetic", count=60, test_count=15, say=lambda _: None)
        yield stack, deployment


@pytest.fixture
def stack(offline) -> Iterator[OfflineStack]:
    stack, _ = offline
    yield stack
    stack.faults.clear()


@pytest.fixture(scope="module")
def test_inputs(offline) -> list[ExecutionInput]:
    stack, deployment = offline
    return split_inputs(stack, deployment.settings, "test")


@pytest.fixture(scope="module")
def baseline(offline, test_inputs):
    """Every test image through the workflow once, without faults."""
    stack, _ = offline
    return stack.run_executions(test_inputs, name_prefix="base")


def task_errors(stack: OfflineStack, name: str) -> list[str]:
    arn = stack.state_machine_arn().replace(":stateMachine:", ":execution:") + ":" + name
    events = stack.sfn.get_execution_history(executionArn=arn)["events"]
    return [e["taskFailedEventDetails"]["error"] for e in events if e["type"] == "TaskFailed"]


def confident_input(baseline, test_inputs) -> ExecutionInput:
    index = next(i for i, r in enumerate(baseline) if r.status == "SUCCEEDED")
    return test_inputs[index]


def test_the_workflow_succeeds_and_fails_by_the_threshold(stack, baseline):
    threshold = float(stack.spec.parameters["ConfidenceThreshold"])
    statuses = {r.status for r in baseline}
    # Both outcomes happen on the synthetic data, as on the real data
    assert statuses == {"SUCCEEDED", "FAILED"}
    for result in baseline:
        if result.status == "SUCCEEDED":
            assert max(result.inferences) >= threshold
        else:
            assert result.error == "ThresholdConfidenceNotMet"
            assert max(result.inferences) < threshold


def test_the_training_job_times_agree_with_its_seconds(offline):
    # SageMaker bills "the time interval between" TrainingStartTime and TrainingEndTime
    # (API_DescribeTrainingJob); offline, moto left both at the job's creation (0 s billed,
    # and `mlwf train` printed "0s in all, 1s training")
    stack, deployment = offline
    name = deployment.training.job_name
    job = stack.client("sagemaker").describe_training_job(TrainingJobName=name)
    billed = (job["TrainingEndTime"] - job["TrainingStartTime"]).total_seconds()
    assert billed == job["BillableTimeInSeconds"] == job["TrainingTimeInSeconds"] >= 1
    assert job["CreationTime"] <= job["TrainingStartTime"]
    assert deployment.training.total_seconds >= deployment.training.training_seconds
    # and its secondary statuses lead up to that end (API_SecondaryStatusTransition)
    transitions = job["SecondaryStatusTransitions"]
    assert [t["Status"] for t in transitions] == ["Starting", "Training", "Uploading", "Completed"]
    assert transitions[1]["StartTime"] == job["TrainingStartTime"]
    assert transitions[-1]["StartTime"] == job["TrainingEndTime"] == job["LastModifiedTime"]


def test_a_failed_training_job_ends_with_its_failure(offline):
    # Given the deployed job's request with a hyperparameter the local model refuses
    stack, deployment = offline
    sm = stack.client("sagemaker")
    done = sm.describe_training_job(TrainingJobName=deployment.training.job_name)
    request = {
        key: done[key]
        for key in (
            "AlgorithmSpecification",
            "RoleArn",
            "InputDataConfig",
            "OutputDataConfig",
            "ResourceConfig",
            "StoppingCondition",
        )
    }
    hyperparameters = {**done["HyperParameters"], "local_folds": "many"}
    # When it is created (offline, the local trainer runs within the call)
    sm.create_training_job(TrainingJobName="fails", HyperParameters=hyperparameters, **request)
    # Then it has failed, as SageMaker reports a failure (API_SecondaryStatusTransition;
    # TrainingEndTime: when the failure was detected), with the reason
    job = sm.describe_training_job(TrainingJobName="fails")
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Failed", "Failed")
    assert "local_folds" in job["FailureReason"]
    transitions = job["SecondaryStatusTransitions"]
    assert [t["Status"] for t in transitions] == ["Starting", "Training", "Failed"]
    assert transitions[-1]["StartTime"] == job["TrainingEndTime"] == job["LastModifiedTime"]
    assert job["TrainingEndTime"] >= job["TrainingStartTime"]
    # and the job's log says why, as the algorithm's output would
    *_, last = job_log_events(stack, "fails")
    assert last["message"].startswith("local training failed: ")
    assert "local_folds" in last["message"]
    assert last["timestamp"] <= job["TrainingEndTime"].timestamp() * 1000  # ended after it


def test_the_local_model_is_mostly_right(baseline):
    right = sum(r.predicted == r.true_label for r in baseline)
    assert right / len(baseline) >= 0.7


def test_what_the_deployed_stack_loaded_is_out_of_full_collections(stack, baseline):
    # Given a deployed stack that has run executions
    # Then the garbage collector's full collections walk only a small part of the heap:
    # what was loaded to serve (modules, service models, the model) is frozen
    gc.collect()  # what earlier tests left unreachable is not what was loaded
    frozen, walked = gc.get_freeze_count(), len(gc.get_objects())
    assert frozen > 5 * walked, (frozen, walked)


def test_each_endpoint_invocation_is_captured_once(stack, baseline):
    # Given every execution reached the endpoint (moto's SageMaker, data capture at 100%)
    config_name = stack.client("sagemaker").describe_endpoint(
        EndpointName=stack.client("ssm").get_parameter(
            Name=stack.spec.parameters["EndpointParameterName"]
        )["Parameter"]["Value"]
    )["EndpointConfigName"]
    capture = stack.client("sagemaker").describe_endpoint_config(EndpointConfigName=config_name)[
        "DataCaptureConfig"
    ]
    bucket, _, prefix = capture["DestinationS3Uri"].removeprefix("s3://").partition("/")

    # When the buffered records are written and the capture files listed
    stack.flush_capture()
    keys = []
    for page in stack.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [item["Key"] for item in page.get("Contents", [])]

    # Then there is one record per invocation, in Model Monitor's layout and format
    records = []
    for key in keys:
        parts = key.split("/")
        # <prefix>/<endpoint>/AllTraffic/YYYY/MM/DD/HH/<mm-ss-mmm>-<uuid>.jsonl
        assert parts[-6] == "AllTraffic", key
        assert len(parts[-5]) == 4 and all(p.isdigit() for p in parts[-5:-1]), key
        lines = stack.s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines()
        records += [json.loads(line) for line in lines]
    assert len(records) == stack.endpoints.invocations
    assert len(keys) < len(records)  # buffered: several records to a file, as SageMaker writes
    names = {r.execution_name for r in baseline}
    captured_ids = set()
    for record in records:
        assert record["captureData"]["endpointInput"]["encoding"] == "BASE64"
        assert record["captureData"]["endpointOutput"]["encoding"] == "JSON"
        captured_ids.add(record["eventMetadata"]["inferenceId"])
    assert names <= captured_ids


def test_transient_endpoint_throttling_is_retried(stack, baseline, test_inputs):
    # The function's SDK retries a throttled call twice (standard mode, 3 attempts, as on
    # AWS: https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html); the
    # third throttle reaches the workflow as EndpointUnavailable, which it retries.
    stack.inject("endpoint:throttle:3")
    (result,) = stack.run_executions([confident_input(baseline, test_inputs)])
    assert result.status == "SUCCEEDED"
    assert task_errors(stack, result.execution_name) == ["EndpointUnavailable"]


def test_transient_lambda_throttling_is_retried(stack, baseline, test_inputs):
    stack.inject("ClassifyImageFunction:throttle:1")
    (result,) = stack.run_executions([confident_input(baseline, test_inputs)])
    assert result.status == "SUCCEEDED"
    assert task_errors(stack, result.execution_name) == ["Lambda.TooManyRequestsException"]


def test_permanent_model_error_fails_with_its_name(stack, baseline, test_inputs):
    stack.inject("endpoint:model-error")
    (result,) = stack.run_executions([confident_input(baseline, test_inputs)])
    assert (result.status, result.error) == ("FAILED", "EndpointModelError")
    assert task_errors(stack, result.execution_name) == ["EndpointModelError"]  # not retried


def test_permanent_lambda_failure_fails_after_the_retries(stack, baseline, test_inputs):
    stack.inject("FilterInferencesFunction:service-error")
    (result,) = stack.run_executions([confident_input(baseline, test_inputs)])
    assert (result.status, result.error) == ("FAILED", "Lambda.ServiceException")
    assert task_errors(stack, result.execution_name) == ["Lambda.ServiceException"] * 4


def test_batch_gives_every_image_a_verdict_and_never_fails_for_one(stack, baseline, test_inputs):
    # Given a prefix with three test images, a broken image and a key that is not an image
    bucket = stack.bucket_name()
    for item in test_inputs[:3]:
        body = stack.s3.get_object(Bucket=bucket, Key=item.s3_key)["Body"].read()
        stack.s3.put_object(
            Bucket=bucket, Key="batch-check/" + item.s3_key.rsplit("/")[-1], Body=body
        )
    stack.s3.put_object(Bucket=bucket, Key="batch-check/zz-broken.png", Body=b"not an image")
    stack.s3.put_object(Bucket=bucket, Key="batch-check/notes.txt", Body=b"a note")

    # When the batch state machine runs on the prefix
    from mlwf.batch import BATCH_MACHINE, execute
    from mlwf.batch_results import iter_verdicts

    batch = execute(
        stack.sfn,
        stack.state_machine_arn(BATCH_MACHINE),
        bucket,
        "batch-check/",
        poll=1.0,
        sleep=stack.wait_for_executions,
        progress=False,
    )

    # Then every key has a verdict in the result files: the broken image an ERROR with its
    # named error, the note SKIPPED without any invocation
    verdicts = {
        v.s3_key.rsplit("/")[-1]: v for v in iter_verdicts(stack.s3, bucket, batch.manifest_key)
    }
    assert len(verdicts) == 5 == batch.item_counts["total"] == batch.item_counts["succeeded"]
    assert (verdicts["zz-broken.png"].verdict, verdicts["zz-broken.png"].error) == (
        "ERROR",
        "UnsupportedImageFormat",
    )
    assert (verdicts["notes.txt"].verdict, verdicts["notes.txt"].error) == ("SKIPPED", "NotAnImage")
    threshold = float(stack.spec.parameters["ConfidenceThreshold"])
    by_key = {r.s3_key.rsplit("/")[-1]: r for r in baseline}
    for name, verdict in verdicts.items():
        if name in ("zz-broken.png", "notes.txt"):
            continue
        # decided by the threshold, as in the single-image workflow
        assert verdict.verdict in ("ACCEPTED", "LOW_CONFIDENCE"), verdict
        accepted = verdict.verdict == "ACCEPTED"
        assert (max(verdict.inferences) >= threshold) == accepted
        single = by_key[name]
        if single.inferences:  # and the same decision (unless the single run failed anew)
            assert (single.status == "SUCCEEDED") == accepted, (verdict, single)


def test_batch_definition_tolerates_every_child_failure(stack):
    # Offline, a Map Run never fails for its children's failures (not modelled); AWS fails
    # it past ToleratedFailurePercentage. At 100 both behave alike: keep it so.
    definition = json.loads(stack.spec.state_machines["BatchClassificationStateMachine"].definition)
    (map_state,) = [s for s in definition["States"].values() if s["Type"] == "Map"]
    assert map_state["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert map_state["ToleratedFailurePercentage"] == 100
    assert "ToleratedFailureCount" not in map_state
    for name, state in map_state["ItemProcessor"]["States"].items():
        if state["Type"] == "Task":
            assert any("States.ALL" in c["ErrorEquals"] for c in state["Catch"]), name


def test_one_training_job_trains_once_and_a_second_one_uses_the_cache(offline):
    # Given the module's stack, which staged, trained and deployed once
    stack, deployment = offline
    assert len(stack.trainer.reports) == 1  # (an in-process hook once trained it twice)

    # When the same data is trained on again, as `mlwf train` trains, reading the job's log
    said: list[str] = []
    read: list[str] = []  # what the trainer reads from S3

    def record(params, **_):
        read.append(params["Key"])

    events, event = stack.trainer.s3.meta.events, "provide-client-params.s3.GetObject"
    events.register(event, record)
    try:
        again = train_again(stack, deployment, said)
    finally:
        events.unregister(event, record)

    # Then the model comes from the cache, the wait says so from the job's log, and the job
    # still completes with its metrics
    cache_lines = [line for line in said if "algo-1 | local model: cache used" in line]
    assert len(cache_lines) == 1, said
    # having read the .lst files alone: the cache is keyed by the images' ETags, listed
    assert read and all(key.endswith(".lst") for key in read), read
    assert len(stack.trainer.reports) == 2
    assert again.validation_accuracy == deployment.training.validation_accuracy


def test_the_training_log_is_in_cloudwatch_as_sagemaker_names_it(offline):
    # Given a training job run on the offline stack
    stack, deployment = offline
    logs, name = stack.client("logs"), deployment.training.job_name

    # When its log is read as the AWS CLI and `mlwf train` read it
    streams = logs.describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=f"{name}/"
    )["logStreams"]

    # Then it is one stream, [job]/algo-1-[epoch seconds] (logging-cloudwatch.html), in
    # which the trainer said what it did, in the order it did it
    assert [s["logStreamName"].rpartition("-")[0] for s in streams] == [f"{name}/algo-1"]
    assert streams[0]["logStreamName"].rpartition("-")[2].isdigit()
    events = logs.get_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs",
        logStreamName=streams[0]["logStreamName"],
        startFromHead=True,
    )["events"]
    messages = [e["message"] for e in events]
    assert messages[-1].startswith("model artifact written to s3://"), messages
    assert any(m.startswith("validation accuracy ") for m in messages), messages


def test_a_slow_training_jobs_log_comes_before_its_end(offline, monkeypatch):
    # Given a local training that takes over a second, by a little (a slow disk under the
    # model cache: the delay under test, not a wait); its end was once rounded to the
    # nearest second, down to before its last lines
    stack, deployment = offline
    from mlwf.offline import model_cache

    load = model_cache.load

    def slow_load(key):
        time.sleep(1.05)
        return load(key)

    monkeypatch.setattr(model_cache, "load", slow_load)
    said: list[str] = []
    # on a machine west of UTC (moto keeps naive UTC times: read as local time, they once
    # put the end before the log's lines, or billed hours east of UTC)
    with local_time_zone("America/New_York"):
        started = time.monotonic()
        summary = train_again(stack, deployment, said)
        took = time.monotonic() - started
    # Then every line of its log is at or before its end, and prints before "Uploading"
    job = stack.client("sagemaker").describe_training_job(TrainingJobName=summary.job_name)
    events = job_log_events(stack, summary.job_name)
    assert len(events) == 3, events
    ended_ms = job["TrainingEndTime"].timestamp() * 1000
    assert all(e["timestamp"] <= ended_ms for e in events), (events, job["TrainingEndTime"])
    steps = [line.split("] ", 1)[1] for line in said if line.startswith("  [")]
    uploading = next(i for i, s in enumerate(steps) if s.startswith("Uploading"))
    assert all(not s.startswith("algo-1") for s in steps[uploading:]), steps
    # and the seconds it bills are the time it took, rounded up: not hours off (measured
    # around the call, since a busy machine stretches it: 6 s once under a load of 7)
    assert 1 <= job["BillableTimeInSeconds"] <= math.ceil(took), (job, took)


def test_each_execution_is_in_the_machines_log_group_without_its_data(stack, baseline):
    # The template logs every event (Level: ALL) and no data (IncludeExecutionData: false);
    # EXPRESS executions keep no other history. moto logged nothing (execution_logs.py).
    machine = next(iter(stack.spec.state_machines.values()))
    group_arn = machine.logging["destinations"][0]["cloudWatchLogsLogGroup"]["logGroupArn"]
    group = group_arn.split(":log-group:")[1].removesuffix(":*")
    logs = stack.client("logs")
    records = []
    for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group):
        records += [json.loads(event["message"]) for event in page["events"]]
    by_execution: dict[str, list[str]] = {}
    for record in records:
        by_execution.setdefault(record["execution_arn"], []).append(record["type"])
    ends = {"SUCCEEDED": "ExecutionSucceeded", "FAILED": "ExecutionFailed"}
    executions = stack.state_machine_arn().replace(":stateMachine:", ":execution:")
    for result in baseline:
        types = by_execution[f"{executions}:{result.execution_name}"]
        assert types[0] == "ExecutionStarted" and types[-1] == ends[result.status]
    assert not any(
        "input" in r.get("details", {}) or "output" in r.get("details", {}) for r in records
    )
