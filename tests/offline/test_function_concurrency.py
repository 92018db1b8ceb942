"""A reserved concurrency set through Lambda's API takes effect on the running function, and
the account's quota holds (mlwf.offline.function_concurrency)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from mlwf.offline.runtime import OfflineStack
from tests.helpers.events import load_event

pytestmark = pytest.mark.offline


@pytest.fixture(scope="module")
def stack() -> Iterator[OfflineStack]:
    with OfflineStack.start(say=lambda _: None) as stack:
        yield stack


def invoke(stack: OfflineStack, name: str) -> dict:
    payload = json.dumps(load_event("filter_inferences_pass.json"))
    return stack.client("lambda").invoke(FunctionName=name, Payload=payload)


def test_a_reservation_of_zero_throttles_and_its_removal_lifts_it(stack):
    lam = stack.client("lambda")
    name = stack.spec.functions["FilterInferencesFunction"].name
    assert invoke(stack, name)["StatusCode"] == 200
    # Given the user stops the function, as Lambda's console does, with a reservation of 0
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    try:
        # Then every invocation is throttled (offline ran it: the template had no reservation)
        with pytest.raises(ClientError) as throttled:
            invoke(stack, name)
        assert throttled.value.response["Error"]["Code"] == "TooManyRequestsException"
    finally:
        lam.delete_function_concurrency(FunctionName=name)
    assert invoke(stack, name)["StatusCode"] == 200


def test_a_reservation_past_the_accounts_quota_is_refused_in_lambdas_words(stack):
    lam = stack.client("lambda")
    name = stack.spec.functions["FilterInferencesFunction"].name
    with pytest.raises(ClientError) as refused:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=901)
    assert refused.value.response["Error"] == {
        "Code": "InvalidParameterValueException",
        "Message": "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100].",
    }


def test_the_quota_is_set_for_the_stack_not_in_the_functions_environment(stack):
    # OFFLINE_ENVIRONMENT is also a function's environment when its role is not enforced
    import os

    from mlwf.offline.runtime import OFFLINE_ENVIRONMENT

    assert os.environ["MOTO_LAMBDA_CONCURRENCY_QUOTA"] == "1000"
    assert "MOTO_LAMBDA_CONCURRENCY_QUOTA" not in OFFLINE_ENVIRONMENT
