"""Against a deployed stack: `AWS_SAM_STACK_NAME=<stack> make integration`.

Needs AWS credentials (or AWS_ENDPOINT_URL for an emulator), the stack deployed
(`sam deploy`), a dataset staged and an endpoint deployed (`mlwf stage && mlwf train &&
mlwf deploy`; set MLWF_DATA_PREFIX if the dataset is not under dataset/). Skipped when
AWS_SAM_STACK_NAME is unset. It reads which WorkflowType the stack was deployed with and
checks every behaviour the README promises for that type.

Objects are written under integration-tests/<run>/ and incoming/integration-<run>.png and
deleted after. test_missing_parameter_* deletes the endpoint's SSM parameter for up to two
minutes and puts it back as `mlwf deploy` wrote it: do not run it against a stack that
serves real traffic.
"""

from __future__ import annotations

import io
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mlwf.executions import ExecutionInput, run_executions, sync_client_config
from tests.helpers.paths import EVENTS_DIR

STACK = os.environ.get("AWS_SAM_STACK_NAME")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not STACK, reason="set AWS_SAM_STACK_NAME to test a deployed stack"),
]
# The classify function caches the endpoint name this long when the stack does not say
# (template.yaml's EndpointNameCacheSeconds).
NAME_CACHE_SECONDS = 60
# Where `mlwf stage` put the dataset (its --prefix), when not the default.
DATA_PREFIX = os.environ.get("MLWF_DATA_PREFIX", "dataset")


@pytest.fixture(autouse=True)
def aws_credentials() -> None:
    """Overrides the fake credentials of tests/conftest.py: these tests use the real ones."""


@pytest.fixture(scope="module")
def stack() -> dict[str, Any]:
    import boto3

    return boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]


@pytest.fixture(scope="module")
def outputs(stack) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


@pytest.fixture(scope="module")
def parameters(stack) -> dict[str, str]:
    """The parameters the stack was deployed with (absent: the template's default)."""
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}


@pytest.fixture(scope="module")
def workflow_type(parameters) -> str:
    return parameters.get("WorkflowType", "STANDARD")


@pytest.fixture(scope="module")
def clients() -> dict[str, Any]:
    import boto3

    return {
        "s3": boto3.client("s3"),
        "stepfunctions": boto3.client("stepfunctions", config=sync_client_config()),
        "logs": boto3.client("logs"),
        "lambda": boto3.client("lambda"),
        "ssm": boto3.client("ssm"),
    }


@pytest.fixture(scope="module")
def run_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="module")
def images(outputs, clients, run_id) -> Iterator[dict[str, list[str]]]:
    """Staged test images and deliberately ambiguous blends of them, uploaded for this run."""
    import numpy as np
    from PIL import Image

    from training_job.dataset.lst import read_s3_lst

    s3, bucket = clients["s3"], outputs["ImagesBucketName"]
    entries = read_s3_lst(s3, bucket, DATA_PREFIX, "test")
    by_label = {label: [e for e in entries if e.label == label] for label in (0, 1)}
    pixels = {}
    for entry in by_label[0][:5] + by_label[1][:5]:
        body = s3.get_object(Bucket=bucket, Key=f"{DATA_PREFIX}/test/{entry.path}")["Body"].read()
        pixels[entry.path] = np.asarray(Image.open(io.BytesIO(body)).convert("RGB"), float)
    clear = [f"{DATA_PREFIX}/test/{e.path}" for e in by_label[0][:5] + by_label[1][:5]]
    ambiguous = []
    for i, (a, b) in enumerate(zip(by_label[0][:5], by_label[1][:5], strict=True)):
        blend = ((pixels[a.path] + pixels[b.path]) / 2).astype("uint8")
        buffer = io.BytesIO()
        Image.fromarray(blend).save(buffer, format="PNG")
        key = f"integration-tests/{run_id}/blend-{i}.png"
        s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
        ambiguous.append(key)
    yield {"clear": clear, "ambiguous": ambiguous}
    for key in ambiguous:
        s3.delete_object(Bucket=bucket, Key=key)


def poll(check: Callable[[], Any], timeout: float = 120.0, interval: float = 2.0) -> Any:
    """The first truthy result of check(), asked every `interval` s, or a failure after
    `timeout`: what is awaited (a log line, an expired cache) has no event to wait on."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"nothing after {timeout:.0f} s")


def test_the_state_machine_has_the_stacks_workflow_type(outputs, clients, workflow_type):
    sfn = clients["stepfunctions"]
    for key in ("StateMachineArn",):
        described = sfn.describe_state_machine(stateMachineArn=outputs[key])
        assert described["type"] == workflow_type
    # The batch machine is STANDARD whatever WorkflowType is (it may run past 5 minutes).
    batch = sfn.describe_state_machine(stateMachineArn=outputs["BatchStateMachineArn"])
    assert batch["type"] == "STANDARD"


def test_confident_images_succeed(outputs, clients, images):
    inputs = [ExecutionInput(outputs["ImagesBucketName"], key) for key in images["clear"]]
    results = run_executions(
        clients["stepfunctions"], outputs["StateMachineArn"], inputs, poll_interval=1.0
    )
    assert any(r.status == "SUCCEEDED" for r in results)
    threshold = float(outputs["Threshold"])
    for result in results:
        assert result.status == "SUCCEEDED" or result.error == "ThresholdConfidenceNotMet"
        assert (result.status == "SUCCEEDED") == (max(result.inferences) >= threshold)


def test_low_confidence_image_fails_with_threshold_confidence_not_met(outputs, clients, images):
    inputs = [ExecutionInput(outputs["ImagesBucketName"], key) for key in images["ambiguous"]]
    results = run_executions(
        clients["stepfunctions"], outputs["StateMachineArn"], inputs, poll_interval=1.0
    )
    failed = [r for r in results if r.status == "FAILED"]
    assert failed, "no blend of a bicycle and a motorcycle fell below the threshold"
    assert {r.error for r in failed} == {"ThresholdConfidenceNotMet"}


def test_a_missing_image_fails_with_image_not_found(outputs, clients, run_id):
    missing = ExecutionInput(outputs["ImagesBucketName"], f"integration-tests/{run_id}/none.png")
    (result,) = run_executions(
        clients["stepfunctions"], outputs["StateMachineArn"], [missing], poll_interval=1.0
    )
    assert (result.status, result.error) == ("FAILED", "ImageNotFound")


def serializer_log(outputs, clients, key: str) -> dict[str, Any] | None:
    """The serializer's "Serialized image" line for `key`: it logs the execution's input,
    whatever the workflow type (EXPRESS executions cannot be listed)."""
    group = f"/aws/lambda/{outputs['SerializeImageDataFunctionName']}"
    pages = (
        clients["logs"]
        .get_paginator("filter_log_events")
        .paginate(logGroupName=group, filterPattern=f'"{key}"')
    )
    for page in pages:
        for event in page["events"]:
            try:
                line = json.loads(event["message"])
            except json.JSONDecodeError:
                continue
            if line.get("message") == "Serialized image" and line.get("s3_key") == key:
                return line
    return None


def test_upload_under_incoming_starts_an_execution_with_the_right_input(
    outputs, clients, images, run_id, workflow_type
):
    # Given an image uploaded under incoming/
    s3, bucket = clients["s3"], outputs["ImagesBucketName"]
    body = s3.get_object(Bucket=bucket, Key=images["clear"][0])["Body"].read()
    key = f"incoming/integration-{run_id}.png"
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    try:
        # Then the rule starts the workflow with {s3_bucket, s3_key}: its first function
        # read that very object
        line = poll(lambda: serializer_log(outputs, clients, key), timeout=180, interval=5)
        assert (line["s3_bucket"], line["s3_key"]) == (bucket, key)
        if workflow_type == "STANDARD":  # and, where AWS lists executions, its input
            sfn = clients["stepfunctions"]

            def started() -> dict | None:
                pages = sfn.get_paginator("list_executions").paginate(
                    stateMachineArn=outputs["StateMachineArn"]
                )
                for execution in next(iter(pages))["executions"]:  # newest first
                    described = sfn.describe_execution(executionArn=execution["executionArn"])
                    if json.loads(described.get("input") or "{}").get("s3_key") == key:
                        return described
                return None

            execution = poll(started)
            assert json.loads(execution["input"]) == {"s3_bucket": bucket, "s3_key": key}
    finally:
        s3.delete_object(Bucket=bucket, Key=key)


def test_batch_classifies_a_prefix(outputs, clients, images, run_id):
    from mlwf.batch import execute
    from mlwf.batch_results import iter_verdicts

    batch = execute(
        clients["stepfunctions"],
        outputs["BatchStateMachineArn"],
        outputs["ImagesBucketName"],
        f"integration-tests/{run_id}/",
        2.0,
        progress=False,
    )
    # The verdicts as the ResultWriter wrote them, read back from S3
    verdicts = list(iter_verdicts(clients["s3"], batch.results_bucket, batch.manifest_key))
    assert len(verdicts) == len(images["ambiguous"]) == batch.item_counts["succeeded"]
    assert {v.verdict for v in verdicts} <= {"ACCEPTED", "LOW_CONFIDENCE"}


def test_missing_parameter_fails_with_endpoint_parameter_not_found(outputs, clients, parameters):
    # Last in this module: it takes the endpoint's parameter away for a while.
    from training_job.rollout import put_endpoint_parameter

    ssm, name = clients["ssm"], outputs["EndpointNameParameter"]
    saved = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    event = json.loads((EVENTS_DIR / "classify_image.json").read_text())

    def classify_error() -> str | None:
        answer = clients["lambda"].invoke(
            FunctionName=outputs["ClassifyImageFunctionName"], Payload=json.dumps(event)
        )
        payload = json.loads(answer["Payload"].read() or b"null")
        return payload.get("errorType") if answer.get("FunctionError") else None

    ssm.delete_parameter(Name=name)
    try:
        # Warm environments keep the name they read for NAME_CACHE_SECONDS; then they ask
        # SSM again and name what is missing.
        error = poll(
            lambda: classify_error() == "EndpointParameterNotFound" and "EndpointParameterNotFound",
            timeout=int(parameters.get("EndpointNameCacheSeconds", NAME_CACHE_SECONDS)) + 60,
            interval=2,
        )
        assert error == "EndpointParameterNotFound"
    finally:
        put_endpoint_parameter(ssm, name, saved)


def test_the_state_machines_log_to_their_group_without_execution_data_and_are_traced(
    outputs, clients
):
    # The execution data holds the base64 image: template.yaml logs events, never data.
    sfn = clients["stepfunctions"]
    for key in ("StateMachineArn", "BatchStateMachineArn"):
        described = sfn.describe_state_machine(stateMachineArn=outputs[key])
        logging = described["loggingConfiguration"]
        assert logging["level"] != "OFF"
        assert logging["includeExecutionData"] is False
        (destination,) = logging["destinations"]
        assert ":log-group:" in destination["cloudWatchLogsLogGroup"]["logGroupArn"]
        assert described["tracingConfiguration"]["enabled"] is True
