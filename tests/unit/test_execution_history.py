"""GetExecutionHistory in pages and in either order, as AWS answers it
(mlwf.offline.execution_history, API_GetExecutionHistory.html)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from mlwf.offline.execution_history import InvalidToken, TokenSigner, histories_paged, page_of
from mlwf.offline.request_constraints import step_functions_requests_checked
from tests.helpers.executions import counting_loop, run_to_end
from tests.helpers.paths import REGION

EVENTS = [
    {"id": i, "type": "E", "stateEnteredEventDetails": {"input": "{}"}} for i in range(1, 251)
]


SIGNER = TokenSigner(b"a fixed test key")
ARN = "arn:aws:states:us-east-1:123456789012:execution:m:one"


def page(events: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    return page_of(events, signer=SIGNER, execution_arn=options.pop("arn", ARN), **options)


def ids(page: dict[str, Any]) -> list[int]:
    return [event["id"] for event in page["events"]]


def test_a_page_is_100_events_oldest_first_by_default():
    first = page(EVENTS)
    assert ids(first) == list(range(1, 101)) and "nextToken" in first
    assert ids(page(EVENTS, size=0)) == list(range(1, 101))  # 0: the default


def test_the_tokens_walk_every_event_once_in_either_order():
    for reverse, expected in ((False, list(range(1, 251))), (True, list(range(250, 0, -1)))):
        seen, token = [], None
        while True:
            answer = page(EVENTS, reverse=reverse, size=60, token=token)
            seen += ids(answer)
            token = answer.get("nextToken")
            if token is None:
                break
        assert seen == expected


def test_a_reversed_read_continues_where_it_stopped_while_the_history_grows():
    first = page(EVENTS[:100], reverse=True, size=10)
    grown = EVENTS[:150]  # the execution went on between the two calls
    assert ids(page(grown, reverse=True, size=10, token=first["nextToken"])) == list(
        range(90, 80, -1)
    )


@pytest.mark.parametrize("token", ["not-a-token", "W10=", "WzEsIDJd"])
def test_a_token_it_did_not_give_is_invalid(token):
    with pytest.raises(InvalidToken):
        page(EVENTS, token=token)


def test_a_token_of_the_other_order_or_another_execution_or_made_up_is_invalid():
    token = page(EVENTS)["nextToken"]
    with pytest.raises(InvalidToken):
        page(EVENTS, reverse=True, token=token)
    with pytest.raises(InvalidToken):
        page(EVENTS, token=token, arn=ARN.replace("one", "two"))
    for mark in ("0" * 32, "é"):  # a non-ASCII mark once broke the comparison: a 500
        made_up = base64.urlsafe_b64encode(json.dumps([101, False, mark]).encode()).decode()
        with pytest.raises(InvalidToken):
            page(EVENTS, token=made_up)
    assert ids(page(EVENTS, token=token))[0] == 101  # and the real one still reads on


def test_without_execution_data_the_events_keep_all_but_input_and_output():
    event = {
        "id": 1,
        "type": "TaskStateExited",
        "stateExitedEventDetails": {"name": "S", "output": "{}", "outputDetails": {}},
    }
    (trimmed,) = page([event], include_data=False)["events"]
    assert trimmed == {"id": 1, "type": "TaskStateExited", "stateExitedEventDetails": {"name": "S"}}


@pytest.fixture
def execution(aws: None) -> Iterator[tuple[Any, str]]:
    """A finished execution of 124 events, read through moto's response (as over HTTP)."""
    sfn = boto3.client("stepfunctions", region_name=REGION)
    # with the API model's checks too, as the offline stack has them (a page past 1000)
    with histories_paged(), step_functions_requests_checked():
        ended = run_to_end(sfn, counting_loop(30), '{"n": 0}', name="loop")
        yield sfn, ended["executionArn"]


def test_the_api_answers_the_latest_event_first_when_asked(execution):
    sfn, arn = execution
    last = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=1)
    assert [(e["id"], e["type"]) for e in last["events"]] == [(124, "ExecutionSucceeded")]
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
    assert [len(page["events"]) for page in pages] == [100, 24]


def test_the_api_leaves_out_inputs_and_outputs_when_asked(execution):
    sfn, arn = execution
    full = sfn.get_execution_history(executionArn=arn, maxResults=2)["events"]
    bare = sfn.get_execution_history(executionArn=arn, maxResults=2, includeExecutionData=False)
    assert "input" in full[0]["executionStartedEventDetails"]
    started = bare["events"][0]["executionStartedEventDetails"]
    assert "input" not in started and "inputDetails" not in started and "roleArn" in started


def test_the_api_refuses_a_page_over_1000_and_a_foreign_token(execution):
    sfn, arn = execution
    with pytest.raises(ClientError) as too_big:
        sfn.get_execution_history(executionArn=arn, maxResults=1001)
    assert too_big.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as foreign:
        sfn.get_execution_history(executionArn=arn, nextToken="not-a-token")
    assert foreign.value.response["Error"]["Code"] == "InvalidToken"


def test_the_pinned_moto_answers_every_event_oldest_first_whatever_is_asked(aws):
    # What histories_paged replaces; once moto pages and orders, it can go
    sfn = boto3.client("stepfunctions", region_name=REGION)
    ended = run_to_end(sfn, counting_loop(30), '{"n": 0}', name="loop")
    answer = sfn.get_execution_history(
        executionArn=ended["executionArn"], reverseOrder=True, maxResults=1
    )
    assert ids(answer)[:2] == [1, 2] and len(answer["events"]) == 124
    assert "nextToken" not in answer
