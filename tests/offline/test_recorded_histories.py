"""More of AWS's recorded runs (LocalStack's snapshot tests, recorded against AWS) replayed
offline, their histories compared event for event (tests/offline/test_recorded_runs.py has
the others):

- A Wait whose Timestamp is 24,856 days ahead fails with States.Runtime, "Wait state delay
  is too long." (test_wait.py::test_timestamp_too_far_in_future_boundary[24856], recorded
  2023-12-13); moto waited (mlwf.offline.wait_timestamps).
- A JSONata expression's EvaluationFailed event follows what its state's entered event
  followed (test_assign_reference_variables.py::test_undefined_reference, recorded
  2024-11-21); offline it followed the entered event itself (mlwf.offline.jsonata_states).
- A Distributed Map's ItemBatcher reads `"MaxItemsPerBatchPath": "$maxItemsPerBatch"` from a
  workflow variable (test_reference_in_map_state_max_items_path, recorded 2024-11-14);
  offline the Map Run failed, "Parse error at 1:1 near token ..." (mlwf.offline.map_batches).
- A Lambda task that fails its Parallel branch is aborted (TaskStateAborted) before the
  Parallel fails, with and without the Parallel's Retry (test_error_output.py::
  test_parallel_catch_error[PARALLEL_CATCH_ERROR_OUTPUT] and [..._WITH_RETRY], recorded
  2024-11); moto wrote no such event (mlwf.offline.aborted_states).
- A callback step failed with no error and no cause is caught as `{"Error": null, "Cause":
  null}`, at itself or at the Parallel around it (test_callback.py::
  test_sqs_failure_in_wait_for_task_tok_no_error_field, recorded 2024-04-29); the
  Parallel's catch bound "" (mlwf.offline.error_outputs).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator

import pytest

from mlwf.offline.runtime import OfflineStack
from tests.helpers.executions import history_events, run_to_end, wait_until_ended

pytestmark = pytest.mark.offline


@pytest.fixture(scope="module")
def stack() -> Iterator[OfflineStack]:
    with OfflineStack.start(say=lambda _: None) as stack:
        yield stack


def history(stack: OfflineStack, ended: dict) -> list[tuple[int, str, int]]:
    events = history_events(stack.sfn, ended)
    return [(e["id"], e["type"], e["previousEventId"]) for e in events]


def test_a_wait_past_the_longest_delay_fails_as_recorded(stack):
    # Given the recorded machine (wait_timestamp_path.json5) and a time 24,856 days ahead
    wait = {"Type": "Wait", "TimestampPath": "$.start_at", "End": True}
    ahead = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(days=24856)
    given = json.dumps({"start_at": f"{ahead:%Y-%m-%dT%H:%M:%S}.000Z"})
    # When it runs
    ended = run_to_end(stack.sfn, {"StartAt": "State_1", "States": {"State_1": wait}}, given)
    # Then it fails at once, event for event as AWS's did
    assert (ended["status"], ended["error"]) == ("FAILED", "States.Runtime")
    assert ended["cause"] == (
        "An error occurred while executing the state 'State_1' (entered at the event id #2). "
        "Wait state delay is too long."
    )
    assert history(stack, ended) == [
        (1, "ExecutionStarted", 0),
        (2, "WaitStateEntered", 0),
        (3, "ExecutionFailed", 2),
    ]


def test_an_evaluation_failed_event_follows_what_its_state_followed(stack):
    # Given the recorded machine (BASE_UNDEFINED_OUTPUT_MULTIPLE_STATES)
    states = {
        "State0": {"Type": "Pass", "Next": "State1"},
        "State1": {"Type": "Pass", "Next": "State2"},
        "State2": {"Type": "Pass", "Output": {"result": "{% $doesNotExist %}"}, "End": True},
    }
    definition = {"StartAt": "State0", "QueryLanguage": "JSONata", "States": states}
    # When it runs
    ended = run_to_end(stack.sfn, definition, "{}")
    # Then its history is AWS's, ids and previous ids alike
    assert history(stack, ended) == [
        (1, "ExecutionStarted", 0),
        (2, "PassStateEntered", 0),
        (3, "PassStateExited", 2),
        (4, "PassStateEntered", 3),
        (5, "PassStateExited", 4),
        (6, "PassStateEntered", 5),
        (7, "EvaluationFailed", 5),
        (8, "ExecutionFailed", 7),
    ]


STATEMENTS = [
    {"verdict": "true", "statement_date": "6/11/2008", "statement_source": "speech"},
    {"verdict": "false", "statement_date": "6/7/2022", "statement_source": "television"},
    {"verdict": "mostly-true", "statement_date": "5/18/2016", "statement_source": "news"},
    {"verdict": "false", "statement_date": "5/18/2024", "statement_source": "x"},
]


def test_an_item_batchers_paths_read_workflow_variables(stack):
    # Given the recorded machine (map_state_reference_in_max_per_batch_path.json5) and file
    bucket = stack.bucket_name()
    stack.s3.put_object(Bucket=bucket, Key="recorded/file.json", Body=json.dumps(STATEMENTS))
    reader = {
        "ReaderConfig": {"InputType": "JSON", "MaxItems": 4},
        "Resource": "arn:aws:states:::s3:getObject",
        "Parameters": {"Bucket.$": "$.Bucket", "Key.$": "$.Key"},
    }
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "ProcessBatch",
        "States": {"ProcessBatch": {"Type": "Pass", "End": True}},
    }
    batcher = {
        "MaxItemsPerBatchPath": "$maxItemsPerBatch",
        "MaxInputBytesPerBatchPath": "$maxBytesPerBatch",
    }
    states = {
        "Start": {
            "Type": "Pass",
            "Assign": {"maxItemsPerBatch": "2", "maxBytesPerBatch": "15000"},
            "Next": "BatchMapState",
        },
        "BatchMapState": {
            "Type": "Map",
            "MaxConcurrency": 1,
            "ItemReader": reader,
            "ItemBatcher": batcher,
            "ItemProcessor": processor,
            "End": True,
        },
    }
    given = json.dumps({"Bucket": bucket, "Key": "recorded/file.json"})
    # When it runs
    ended = run_to_end(stack.sfn, {"StartAt": "Start", "States": states}, given)
    # Then it succeeds with batches of two, as AWS's did
    assert ended["status"] == "SUCCEEDED", ended
    assert json.loads(ended["output"]) == [{"Items": STATEMENTS[:2]}, {"Items": STATEMENTS[2:]}]


def raising(event: object, invocation: object) -> None:
    raise Exception("Some exception was raised.")  # the recorded function's handler


@pytest.mark.parametrize("retried", [False, True], ids=["caught", "retried-then-caught"])
def test_a_task_that_fails_its_parallel_branch_is_aborted_as_recorded(stack, retried):
    # Given the recorded machine (parallel_catch_error_output[_with_retry].json5)
    stack.bridge.functions["raising"] = raising
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "raising", "Payload": {"foo": "foobar"}},
        "Output": {
            "InnerStateInput": "{% $states.input %}",
            "InnerStateResult": "{% $states.result %}",
        },
        "End": True,
    }
    catch = {
        "ErrorEquals": ["States.ALL"],
        "Output": {"stateInput": "{% $states.input %}", "stateError": "{% $states.errorOutput %}"},
        "Next": "Fallback",
    }
    parallel = {
        "Type": "Parallel",
        "Next": "Finish",
        "Branches": [{"StartAt": "ExecuteLambdaTask", "States": {"ExecuteLambdaTask": task}}],
        "Catch": [catch],
    }
    if retried:
        parallel["Retry"] = [
            {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 1}
        ]
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "ParallelState",
        "States": {
            "ParallelState": parallel,
            "Fallback": {"Type": "Pass", "Output": {"result": "{% $states.input %}"}, "End": True},
            "Finish": {"Type": "Pass", "End": True},
        },
    }
    # When it runs
    ended = run_to_end(stack.sfn, definition, json.dumps({"inputData": "dummy"}))
    # Then its history is AWS's, event for event (the ids and previous ids recorded)
    assert history(stack, ended) == (RETRIED_HISTORY if retried else CAUGHT_HISTORY)


# the branch's task, one event after the other (the SQS_PARALLEL_WAIT_FOR_TASK_TOKEN run has
# these ids; the Lambda runs' were replaced by LocalStack's snapshot)
BRANCH = ["TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed"]
CAUGHT_HISTORY = [
    (1, "ExecutionStarted", 0),
    (2, "ParallelStateEntered", 0),
    (3, "ParallelStateStarted", 2),
    *[(4 + i, name, 3 + i) for i, name in enumerate(BRANCH)],
    (8, "TaskStateAborted", 7),
    (9, "ParallelStateFailed", 7),
    (10, "ParallelStateExited", 9),
    (11, "PassStateEntered", 10),
    (12, "PassStateExited", 11),
    (13, "ExecutionSucceeded", 12),
]
RETRIED_HISTORY = [
    *CAUGHT_HISTORY[:8],
    (9, "ParallelStateStarted", 7),  # the retry follows the first failure
    *[(10 + i, name, 9 + i) for i, name in enumerate(BRANCH)],
    (14, "TaskStateAborted", 13),
    (15, "ParallelStateFailed", 13),
    (16, "ParallelStateExited", 15),
    (17, "PassStateEntered", 16),
    (18, "PassStateExited", 17),
    (19, "ExecutionSucceeded", 18),
]


@pytest.mark.parametrize("in_parallel", [True, False], ids=["parallel", "task"])
def test_a_failure_with_no_error_is_caught_as_nulls_as_recorded(stack, in_parallel):
    # Given the recorded machines (SQS_PARALLEL_WAIT_FOR_TASK_TOKEN and
    # SQS_WAIT_FOR_TASK_TOKEN_CATCH): a callback step, failed by SendTaskFailure with
    # neither error nor cause, caught by States.ALL at the Parallel around it or at itself
    sqs = stack.client("sqs")
    queue = sqs.create_queue(QueueName=f"no-error-{in_parallel}")["QueueUrl"]
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {
            "QueueUrl.$": "$.QueueUrl",
            "MessageBody": {"Context.$": "$", "TaskToken.$": "$$.Task.Token"},
        },
    }
    catch = [
        {
            "ErrorEquals": ["States.ALL"],
            "ResultPath": "$.states_all_error",
            "Next": "CaughtStatesALL",
        }
    ]
    caught = {"Type": "Pass", "End": True}
    if in_parallel:
        inner = {"SendMessageWithWait": {**task, "End": True}}
        branch = {"StartAt": "SendMessageWithWait", "States": inner}
        first = {"Type": "Parallel", "Branches": [branch], "Catch": catch}
        first["Next"] = "CaughtStatesALL"
        states = {"ParallelJob": first, "CaughtStatesALL": caught}
    else:
        first = {**task, "Catch": catch, "Next": "CaughtStatesALL"}
        states = {"SendMessageWithWait": first, "CaughtStatesALL": caught}
    definition = {"StartAt": next(iter(states)), "States": states}
    arn = stack.sfn.create_state_machine(
        name=f"no-error-{in_parallel}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/no-error",
    )["stateMachineArn"]
    given = {"QueueUrl": queue, "Message": "test_message_txt"}
    started = stack.sfn.start_execution(stateMachineArn=arn, input=json.dumps(given))
    # When the task is failed with no error and no cause
    message = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=10)["Messages"][0]
    stack.sfn.send_task_failure(taskToken=json.loads(message["Body"])["TaskToken"])
    ended = wait_until_ended(stack.sfn, started["executionArn"])
    # Then the catch binds null to both, as AWS's runs did ("" in the Parallel's, before)
    assert ended["status"] == "SUCCEEDED"
    nulls = {"Error": None, "Cause": None}
    assert json.loads(ended["output"]) == {**given, "states_all_error": nulls}
    if in_parallel:  # and the history is the recorded one, event for event
        assert history(stack, ended) == CAUGHT_HISTORY[:3] + [
            (4, "TaskStateEntered", 3),
            (5, "TaskScheduled", 4),
            (6, "TaskStarted", 5),
            (7, "TaskSubmitted", 6),
            (8, "TaskFailed", 7),
            (9, "TaskStateAborted", 8),
            (10, "ParallelStateFailed", 8),
            (11, "ParallelStateExited", 10),
            (12, "PassStateEntered", 11),
            (13, "PassStateExited", 12),
            (14, "ExecutionSucceeded", 13),
        ]
