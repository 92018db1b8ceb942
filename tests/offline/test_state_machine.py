"""The state machine definition, run by moto's interpreter with the real handlers.

The offline stack creates the bucket and the state machine from template.yaml, and the
bridge answers lambda:Invoke with the real handlers; the endpoint here is a fake whose
answers each test sets.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mlwf.executions import ExecutionInput, inferences_from_cause, run_executions
from mlwf.offline.bridge import AwsErrorResponse
from mlwf.offline.runtime import OfflineStack
from tests.helpers.events import load_event, sample_png
from tests.helpers.fake_endpoint import FakeEndpoint

ENDPOINT = "image-classification-test"

pytestmark = pytest.mark.offline


@pytest.fixture
def stack() -> Iterator[OfflineStack]:
    with OfflineStack.start() as stack:
        # These tests start each execution themselves: the upload rule would start another
        # one for the image under incoming/.
        for rule in stack.spec.rules.values():
            stack.client("events").disable_rule(Name=rule.name)
        stack.s3.put_object(
            Bucket=stack.bucket_name(), Key="incoming/bicycle.png", Body=sample_png()
        )
        parameter = stack.spec.parameters["EndpointParameterName"]
        stack.client("ssm").put_parameter(Name=parameter, Value=ENDPOINT, Type="String")
        yield stack


@pytest.fixture
def endpoint(stack: OfflineStack) -> FakeEndpoint:
    fake = FakeEndpoint()
    stack.bridge.endpoints[ENDPOINT] = fake
    return fake


def workflow_input(stack: OfflineStack) -> dict[str, str]:
    """events/workflow_input.json, pointed at the offline stack's bucket."""
    return {**load_event("workflow_input.json"), "s3_bucket": stack.bucket_name()}


def task_failures(stack: OfflineStack, execution_arn: str) -> list[str]:
    history = stack.sfn.get_execution_history(executionArn=execution_arn)["events"]
    return [e["taskFailedEventDetails"]["error"] for e in history if e["type"] == "TaskFailed"]


def test_confident_image_succeeds(stack, endpoint):
    # Given an endpoint that is sure the image is a bicycle
    endpoint.body = b"[0.991, 0.009]"

    # When the workflow runs on it
    execution = stack.run_execution(workflow_input(stack), name="confident-bicycle")

    # Then it succeeds with the inferences, without the image in its output
    assert execution["status"] == "SUCCEEDED"
    output = json.loads(execution["output"])
    assert output["inferences"] == [0.991, 0.009]
    assert output["s3_key"] == "incoming/bicycle.png"
    assert "image_data" not in output
    # And the endpoint's inference id is the execution's name, to join captured data
    assert output["inference_id"] == "confident-bicycle"
    assert endpoint.calls[0]["InferenceId"] == "confident-bicycle"


def test_low_confidence_image_fails_with_threshold_confidence_not_met(stack, endpoint):
    endpoint.body = b"[0.61, 0.39]"

    execution = stack.run_execution(workflow_input(stack))

    assert execution["status"] == "FAILED"
    assert execution["error"] == "ThresholdConfidenceNotMet"
    cause = json.loads(execution["cause"])
    assert "incoming/bicycle.png" in cause["errorMessage"]
    assert "0.6100" in cause["errorMessage"]
    # A verdict is never retried: the filter ran once
    assert stack.functions["FilterInferencesFunction"].invocations == 1
    # And the verdict carries the inferences, for whoever reads the failed execution
    assert inferences_from_cause(execution["cause"]) == [0.61, 0.39]


def test_a_run_reads_rejected_inferences_without_the_history(stack, endpoint, monkeypatch):
    # Given an image the model is unsure of
    endpoint.body = b"[0.2, 0.8]"
    history_calls = []
    sfn = stack.sfn
    real_history = sfn.get_execution_history
    monkeypatch.setattr(
        sfn,
        "get_execution_history",
        lambda **kwargs: history_calls.append(kwargs) or real_history(**kwargs),
    )
    item = ExecutionInput(stack.bucket_name(), "incoming/bicycle.png", true_label=1)

    # When mlwf runs it and reports the result
    (result,) = run_executions(sfn, stack.state_machine_arn(), [item], name_prefix="unsure")

    # Then the rejected execution's inferences come from its cause, not its history
    assert (result.error, result.inferences, result.predicted) == (
        "ThresholdConfidenceNotMet",
        [0.2, 0.8],
        1,
    )
    assert history_calls == []


def test_transient_endpoint_failure_is_retried(stack, endpoint):
    # Given an endpoint throttled three times, then answering: the function's SDK retries
    # twice (standard mode), the third throttle is the function's EndpointUnavailable
    answers = iter([AwsErrorResponse("ThrottlingException", "Rate exceeded")] * 3)

    def flaky(body: bytes, content_type: str, params: dict) -> tuple[bytes, str]:
        failure = next(answers, None)
        if failure:
            raise failure
        return b"[0.02, 0.98]", "application/json"

    stack.bridge.endpoints[ENDPOINT] = flaky

    # When the workflow runs
    execution = stack.run_execution(workflow_input(stack))

    # Then the Retry on EndpointUnavailable carried it to success
    assert execution["status"] == "SUCCEEDED"
    assert task_failures(stack, execution["executionArn"]) == ["EndpointUnavailable"]


def test_missing_image_fails_with_its_named_error(stack, endpoint):
    execution = stack.run_execution({**workflow_input(stack), "s3_key": "incoming/missing.png"})
    assert execution["status"] == "FAILED"
    assert execution["error"] == "ImageNotFound"
    assert endpoint.calls == []


def test_missing_endpoint_fails_with_its_named_error(stack):
    execution = stack.run_execution(workflow_input(stack))  # nothing answers ENDPOINT
    assert execution["status"] == "FAILED"
    assert execution["error"] == "EndpointNotFound"
