"""The classify task absorbs the throttling that protects the endpoint.

With ClassifyReservedConcurrency set, Lambda refuses invocations past the reservation and
Step Functions reports them as Lambda.TooManyRequestsException ("When Lambda hits the maximum
number of invocations, the error is Lambda.TooManyRequestsException"):
https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
A burst of uploads therefore has to wait its turn rather than fail after the 7 s the general
Lambda retrier waits (1 + 2 + 4). The throttle gets a retrier of its own: longer, capped by
MaxDelaySeconds, and with JitterStrategy FULL ("a random number between 0 and the computed
backoff"), so that executions throttled together do not come back together:
https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_stepfunctions.JitterType.html
It must still fit an EXPRESS execution's five minutes (WorkflowType=EXPRESS):
https://docs.amazonaws.cn/en_us/step-functions/latest/dg/cost-opt-exp-workflows.html
"""

from __future__ import annotations

import json
from typing import Any

from tests.helpers.paths import PROJECT_ROOT

DEFINITION = PROJECT_ROOT / "statemachine" / "image_classification.asl.json"
THROTTLE = "Lambda.TooManyRequestsException"
EXPRESS_LIMIT_SECONDS = 5 * 60


def retriers(state: str) -> list[dict[str, Any]]:
    return list(json.loads(DEFINITION.read_text())["States"][state]["Retry"])


def waits(retrier: dict[str, Any]) -> list[float]:
    """The delay before each retry, without jitter (jitter only shortens them)."""
    interval = float(retrier.get("IntervalSeconds", 1))
    rate = float(retrier.get("BackoffRate", 2.0))
    cap = float(retrier.get("MaxDelaySeconds", float("inf")))
    return [min(interval * rate**n, cap) for n in range(int(retrier.get("MaxAttempts", 3)))]


def throttle_retrier() -> dict[str, Any]:
    matching = [r for r in retriers("Classify image") if THROTTLE in r["ErrorEquals"]]
    assert len(matching) == 1
    return matching[0]


def test_classify_retries_throttling_with_a_retrier_of_its_own() -> None:
    assert throttle_retrier()["ErrorEquals"] == [THROTTLE]


def test_throttled_executions_wait_long_enough_for_a_burst_to_drain() -> None:
    # A reservation of 10 at ~0.2 s a call serves ~50 a second: a burst of a few
    # thousand uploads needs about a minute, not the general retrier's 7 s.
    assert sum(waits(throttle_retrier())) >= 60


def test_throttle_retries_are_jittered_and_capped() -> None:
    retrier = throttle_retrier()
    assert retrier["JitterStrategy"] == "FULL"
    assert 0 < retrier["MaxDelaySeconds"] <= 60
    assert retrier["BackoffRate"] > 1


def test_the_throttle_waits_fit_an_express_execution() -> None:
    # Throttled attempts are refused at once, so the waits plus one full attempt of each
    # task (its TimeoutSeconds) bound the execution.
    states = json.loads(DEFINITION.read_text())["States"]
    one_attempt_each = sum(state["TimeoutSeconds"] for state in states.values())
    assert sum(waits(throttle_retrier())) + one_attempt_each < EXPRESS_LIMIT_SECONDS
