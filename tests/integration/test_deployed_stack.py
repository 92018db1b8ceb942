"""Against a deployed stack: `AWS_SAM_STACK_NAME=<stack> pytest tests/integration`.

Needs AWS credentials, the stack deployed (`sam deploy`), a dataset staged and an endpoint
deployed (`mlwf stage && mlwf train && mlwf deploy`). Skipped when the variable is unset.
Objects are written under integration-tests/ and incoming/integration-*, and deleted after.
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

from mlwf.executions import ExecutionInput, run_executions

STACK = os.environ.get("AWS_SAM_STACK_NAME")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not STACK, reason="set AWS_SAM_STACK_NAME to test a deployed stack"),
]


@pytest.fixture(autouse=True)
def aws_credentials() -> None:
    """Overrides the fake credentials of tests/conftest.py: these tests use the real ones."""


@pytest.fixture(scope="module")
def outputs() -> dict[str, str]:
    import boto3

    stack = boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


@pytest.fixture(scope="module")
def clients() -> dict[str, Any]:
    import boto3

    return {name: boto3.client(name) for name in ("s3", "stepfunctions")}


@pytest.fixture(scope="module")
def run_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="module")
def images(outputs, clients, run_id) -> Iterator[dict[str, list[str]]]:
    """Staged test images and deliberately ambiguous blends of them, uploaded for this run."""
    import numpy as np
    from PIL import Image

    from training_job.stage import read_s3_lst

    s3, bucket = clients["s3"], outputs["ImagesBucketName"]
    entries = read_s3_lst(s3, bucket, "dataset", "test")
    by_label = {label: [e for e in entries if e.label == label] for label in (0, 1)}
    pixels = {}
    for entry in by_label[0][:5] + by_label[1][:5]:
        body = s3.get_object(Bucket=bucket, Key=f"dataset/test/{entry.path}")["Body"].read()
        pixels[entry.path] = np.asarray(Image.open(io.BytesIO(body)).convert("RGB"), float)
    clear = [f"dataset/test/{e.path}" for e in by_label[0][:5] + by_label[1][:5]]
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
    """The first truthy result of check(), or a failure after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"nothing after {timeout:.0f} s")


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


def test_upload_under_incoming_starts_an_execution(outputs, clients, images, run_id):
    s3, sfn, bucket = clients["s3"], clients["stepfunctions"], outputs["ImagesBucketName"]
    body = s3.get_object(Bucket=bucket, Key=images["clear"][0])["Body"].read()
    key = f"incoming/integration-{run_id}.png"
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    try:

        def started() -> dict | None:
            for page in sfn.get_paginator("list_executions").paginate(
                stateMachineArn=outputs["StateMachineArn"]
            ):
                for execution in page["executions"]:
                    described = sfn.describe_execution(executionArn=execution["executionArn"])
                    if json.loads(described.get("input") or "{}").get("s3_key") == key:
                        return described
                break  # newest first: one page is enough
            return None

        execution = poll(started)
        assert json.loads(execution["input"]) == {"s3_bucket": bucket, "s3_key": key}
    finally:
        s3.delete_object(Bucket=bucket, Key=key)


def test_batch_classifies_a_prefix(outputs, clients, images, run_id):
    from mlwf.batch import execute

    output = execute(
        clients["stepfunctions"],
        outputs["BatchStateMachineArn"],
        outputs["ImagesBucketName"],
        f"integration-tests/{run_id}/",
        2.0,
    )
    assert output["image_count"] == len(images["ambiguous"]) == len(output["verdicts"])
    assert {v["verdict"] for v in output["verdicts"]} <= {"ACCEPTED", "LOW_CONFIDENCE"}
