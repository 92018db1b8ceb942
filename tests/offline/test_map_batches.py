"""A Distributed Map with an ItemBatcher offline: moto's grammar refused it; AWS passes each
child an `Items` array (mlwf.offline.map_batches,
https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

import pytest

from mlwf.offline.runtime import OfflineStack
from tests.helpers.executions import history_events

pytestmark = pytest.mark.offline

ROLE = "arn:aws:iam::123456789012:role/batch-test"


# EXPRESS children that hand their input back
ECHO_CHILDREN = {
    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
    "StartAt": "Echo",
    "States": {"Echo": {"Type": "Pass", "End": True}},
}


def batched_map(batcher: dict) -> dict:
    state = {
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemSelector": {"n.$": "$$.Map.Item.Value", "at.$": "$$.Map.Item.Index"},
        "ItemBatcher": batcher,
        "ItemProcessor": ECHO_CHILDREN,
        "End": True,
    }
    return {"StartAt": "Batches", "States": {"Batches": state}}


@pytest.fixture(scope="module")
def stack() -> Iterator[OfflineStack]:
    with OfflineStack.start(say=lambda _: None) as stack:
        stack.client("iam").create_role(
            RoleName="batch-test",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )
        yield stack


def run(stack: OfflineStack, name: str, batcher: dict, given: dict) -> dict:
    arn = stack.sfn.create_state_machine(
        name=name, definition=json.dumps(batched_map(batcher)), roleArn=ROLE
    )["stateMachineArn"]
    started = stack.sfn.start_execution(stateMachineArn=arn, input=json.dumps(given))
    return stack.wait_for_execution(started["executionArn"])


def test_each_child_gets_a_batch_of_selected_items_and_the_batch_input(stack):
    batcher = {"MaxItemsPerBatch": 3, "BatchInput": {"model": "m1"}}
    ended = run(stack, "batches-of-three", batcher, {"items": list(range(7))})
    assert ended["status"] == "SUCCEEDED", ended
    # the ItemSelector shaped each item (its index in the whole list), then 3 to a child
    assert json.loads(ended["output"]) == [
        {"BatchInput": {"model": "m1"}, "Items": [{"n": n, "at": n} for n in chunk]}
        for chunk in ([0, 1, 2], [3, 4, 5], [6])
    ]


def test_a_batch_size_may_be_read_from_the_input(stack):
    ended = run(
        stack,
        "batches-by-path",
        {"MaxItemsPerBatchPath": "$.size"},
        {"items": [1, 2, 3], "size": 2},
    )
    assert [len(child["Items"]) for child in json.loads(ended["output"])] == [2, 1]


def test_the_map_run_counts_items_and_child_executions_apart(stack):
    ended = run(stack, "batches-counted", {"MaxItemsPerBatch": 4}, {"items": list(range(10))})
    (map_run,) = stack.sfn.list_map_runs(executionArn=ended["executionArn"])["mapRuns"]
    described = stack.sfn.describe_map_run(mapRunArn=map_run["mapRunArn"])
    assert (described["itemCounts"]["total"], described["itemCounts"]["succeeded"]) == (10, 10)
    assert described["executionCounts"]["total"] == described["executionCounts"]["succeeded"] == 3


def run_jsonata(stack: OfflineStack, name: str, state: dict, given: dict) -> dict:
    """One execution of a JSONata machine of that one Map state, once it has ended."""
    definition = {"QueryLanguage": "JSONata", "StartAt": "Batches", "States": {"Batches": state}}
    arn = stack.sfn.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    started = stack.sfn.start_execution(stateMachineArn=arn, input=json.dumps(given))
    return stack.wait_for_execution(started["executionArn"])


def test_a_jsonata_map_reads_its_batch_size_and_batch_input_from_expressions(stack):
    # Given a JSONata machine whose ItemBatcher's fields are expressions on the state's
    # input (moto passed the text on, and int() failed on it in Python's words)
    state = {
        "Type": "Map",
        "Items": "{% $states.input.items %}",
        "ItemBatcher": {
            "MaxItemsPerBatch": "{% $states.input.size %}",
            "BatchInput": "{% {'model': $states.input.model} %}",
        },
        "ItemProcessor": ECHO_CHILDREN,
        "End": True,
    }
    given = {"items": [1, 2, 3], "size": 2, "model": "m2"}
    ended = run_jsonata(stack, "batches-jsonata", state, given)
    # Then each child got at most that many items, and the evaluated BatchInput
    assert ended["status"] == "SUCCEEDED", ended
    assert json.loads(ended["output"]) == [
        {"BatchInput": {"model": "m2"}, "Items": [1, 2]},
        {"BatchInput": {"model": "m2"}, "Items": [3]},
    ]


def test_a_batch_input_s_nested_expressions_read_the_state_s_context(stack):
    # Given the BatchInput of AWS's recorded run (LocalStack's
    # test_map_item_batching_base_json_max_per_batch_jsonata), an expression inside an object
    state = {
        "Type": "Map",
        "Items": "{% $states.input.items %}",
        "ItemBatcher": {
            "MaxItemsPerBatch": 2,
            "BatchInput": {
                "BatchTimestamp": "{% $states.context.State.EnteredTime %}",
                "Tags": ["{% $states.input.tag %}", "fixed"],
            },
        },
        "ItemProcessor": ECHO_CHILDREN,
        "End": True,
    }
    ended = run_jsonata(stack, "batches-jsonata-context", state, {"items": [1, 2], "tag": "t1"})
    # Then the child's BatchInput holds the values (moto passed the text on)
    assert ended["status"] == "SUCCEEDED", ended
    (batch,) = json.loads(ended["output"])
    assert batch["BatchInput"]["Tags"] == ["t1", "fixed"]
    history = history_events(stack.sfn, ended)
    entered = next(e for e in history if e["type"] == "MapStateEntered")["timestamp"]
    stamp = datetime.fromisoformat(batch["BatchInput"]["BatchTimestamp"].replace("Z", "+00:00"))
    assert abs((stamp - entered).total_seconds()) < 1
