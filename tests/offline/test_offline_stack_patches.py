"""What the offline stack changes around moto, seen while a whole stack runs (the patches
themselves, and the pins on moto they rely on, are in tests/unit/test_offline_moto_patches.py):
each ASL parse with its own scope stack, the loaded heap frozen out of the garbage
collector's full collections, each execution's end reported, and StopExecution honoured
at any moment, as AWS honours it."""

from __future__ import annotations

import gc
import json
import threading
import time

import pytest

from mlwf.executions import ExecutionInput
from mlwf.offline.runtime import OfflineStack
from mlwf.offline.template import load_template
from training_job.stack import PROJECT_ROOT

pytestmark = pytest.mark.offline


def test_two_parses_interleaved_as_racing_executions_do_both_succeed(monkeypatch):
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    definition = (
        load_template(PROJECT_ROOT / "template.yaml")
        .state_machines["ImageClassificationStateMachine"]
        .definition
    )
    read_top = Preprocessor._get_current_query_language
    first_paused = threading.Event()  # the first parse is inside its program scope
    second_reading = threading.Event()  # the second parse is about to read the stack's top
    first_done = threading.Event()

    def reading_the_top(preprocessor):
        # Given two executions' parses, paused where the race falls: the first inside its
        # program scope, the second between seeing a non-empty stack and reading its top
        if threading.current_thread().name == "first" and not first_paused.is_set():
            first_paused.set()
            assert second_reading.wait(10)
        elif threading.current_thread().name == "second" and not second_reading.is_set():
            second_reading.set()
            assert first_done.wait(10)
        return read_top(preprocessor)

    monkeypatch.setattr(Preprocessor, "_get_current_query_language", reading_the_top)
    outcomes: dict[str, str] = {}

    def parse(name: str, then: threading.Event | None = None) -> None:
        try:
            AmazonStateLanguageParser.parse(definition)
            outcomes[name] = "parsed"
        except Exception as exc:
            outcomes[name] = repr(exc)
        finally:
            if then:
                then.set()

    with OfflineStack.start(say=lambda _: None):
        first = threading.Thread(target=parse, args=("first", first_done), name="first")
        second = threading.Thread(target=parse, args=("second",), name="second")
        # When the first finishes (popping its scopes) while the second reads
        first.start()
        assert first_paused.wait(10)
        second.start()
        first.join(20)
        second.join(20)

    # Then both parse, as two executions starting together do in AWS (with one stack of
    # scopes shared, the second finds it emptied under it: IndexError)
    assert outcomes == {"first": "parsed", "second": "parsed"}
    # And afterwards moto is as it was
    assert "__init__" not in Preprocessor.__dict__


def test_a_running_stack_freezes_what_is_loaded_and_a_stopped_one_gives_it_back():
    assert gc.get_freeze_count() == 0
    with OfflineStack.start(say=lambda _: None) as stack:
        # moto's backends, the service models and the handlers: out of full collections
        assert gc.get_freeze_count() > len(gc.get_objects())
        # and what the stack still does is unaffected: a frozen client works
        stack.s3.put_object(Bucket=stack.bucket_name(), Key="k", Body=b"v")
        assert stack.s3.get_object(Bucket=stack.bucket_name(), Key="k")["Body"].read() == b"v"
        gc.collect()
    assert gc.get_freeze_count() == 0


def test_an_execution_whose_interpreter_crashes_fails_with_states_runtime(monkeypatch):
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    original_logic = ExecutionWorker.__dict__["_execution_logic"]
    real_entrypoint = ExecutionWorker._get_evaluation_entrypoint
    crashes = iter([RuntimeError("the parser tripped")])

    def entrypoint_that_crashes_once(worker):
        crash = next(crashes, None)
        if crash:
            raise crash
        return real_entrypoint(worker)

    monkeypatch.setattr(ExecutionWorker, "_get_evaluation_entrypoint", entrypoint_that_crashes_once)
    with OfflineStack.start(say=lambda _: None) as stack:
        for function in stack.bridge.functions:  # the handlers are beside the point here
            stack.bridge.functions[function] = lambda event, _: {
                **event,
                "image_data": "",
                "inferences": [1.0, 0.0],
            }
        payload = {"s3_bucket": stack.bucket_name(), "s3_key": "k.png"}

        # When the interpreter's thread dies before the execution could end
        crashed = stack.run_execution(payload)

        # Then the execution ends FAILED with AWS's error for internal failures, and why
        assert (crashed["status"], crashed["error"]) == ("FAILED", "States.Runtime")
        assert "RuntimeError: the parser tripped" in crashed["cause"]
        assert json.loads(crashed["input"]) == payload
        # And the next execution runs normally
        assert stack.run_execution(payload)["status"] == "SUCCEEDED"
    assert ExecutionWorker.__dict__["_execution_logic"] is original_logic


def test_offline_runs_list_executions_only_when_one_ends(monkeypatch):
    import mlwf.executions

    listings = []
    real_listing = mlwf.executions._running_arns
    monkeypatch.setattr(
        mlwf.executions,
        "_running_arns",
        lambda *args: listings.append(1) or real_listing(*args),
    )
    with OfflineStack.start(say=lambda _: None) as stack:
        for function in stack.bridge.functions:
            stack.bridge.functions[function] = lambda event, _: {
                **event,
                "image_data": "",
                "inferences": [1.0, 0.0],
            }
        items = [ExecutionInput(stack.bucket_name(), f"k{i}.png") for i in range(9)]

        # With a polling interval far longer than the executions take
        started = time.monotonic()
        results = stack.run_executions(items, poll_interval=60, concurrency=1)

        # Then each end was seen when it happened, not a minute later, and executions
        # were listed about once per end rather than in a busy loop
        assert [r.status for r in results] == ["SUCCEEDED"] * 9
        assert time.monotonic() - started < 30
        assert len(listings) <= 2 * len(items) + 1
        # And moto's list of its interpreter's threads (4 per execution here) kept only
        # threads of the last execution or so, not those of all nine
        from moto.stepfunctions.parser.utils import TMP_THREADS

        assert len([thread for thread in TMP_THREADS if not thread.is_alive()]) <= 5


def test_a_stack_leaves_a_heap_frozen_by_someone_else_as_it_was():
    gc.freeze()  # e.g. a host process that froze its own heap before starting a stack
    frozen = gc.get_freeze_count()
    try:
        with OfflineStack.start(say=lambda _: None):
            # not the stack's to freeze (frozen objects can still be freed, never added)
            assert gc.get_freeze_count() <= frozen
        assert 0 < gc.get_freeze_count() <= frozen  # nor to unfreeze
    finally:
        gc.unfreeze()


def test_a_stop_right_after_the_start_over_http_aborts_the_execution(monkeypatch):
    # The AWS CLI's `stop-execution` just after `start-execution`: the call that failed
    # with AttributeError (an HTTP 500) before the worker had its
    # environment. Here every stop comes first: the worker's parse waits for it.
    import boto3
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    original_stop = ExecutionWorker.__dict__["stop"]
    stopped = threading.Event()
    parse = ExecutionWorker._get_evaluation_entrypoint
    monkeypatch.setattr(
        ExecutionWorker, "_get_evaluation_entrypoint", lambda w: stopped.wait(10) and parse(w)
    )
    with OfflineStack.start(say=lambda _: None) as stack:
        sfn = boto3.client(
            "stepfunctions", endpoint_url=stack.endpoint_url, region_name=stack.spec.region
        )
        started = sfn.start_execution(stateMachineArn=stack.state_machine_arn(), input="{}")
        answer = sfn.stop_execution(executionArn=started["executionArn"], error="Halt")
        stopped.set()
        ended = stack.wait_for_execution(started["executionArn"])
        events = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    assert "stopDate" in answer
    assert ended["status"] == "ABORTED"
    assert [e["type"] for e in events] == ["ExecutionStarted", "ExecutionAborted"]
    assert ExecutionWorker.__dict__["stop"] is original_stop


def test_a_stop_during_a_task_that_then_fails_leaves_the_execution_aborted():
    # AWS ends a stopped execution ABORTED whatever its running Task does next; moto let
    # the Task's failure turn it into FAILED.
    from mlwf.offline.bridge import FunctionError

    entered, release = threading.Event(), threading.Event()

    def fails_once_released(event, invocation):
        entered.set()
        release.wait(10)
        raise FunctionError({"errorType": "Boom", "errorMessage": "too late to matter"})

    with OfflineStack.start(say=lambda _: None) as stack:
        stack.bridge.functions = dict.fromkeys(stack.bridge.functions, fails_once_released)
        started = stack.sfn.start_execution(stateMachineArn=stack.state_machine_arn(), input="{}")
        # Given an execution whose first Task is running
        assert entered.wait(10)
        # When it is stopped, and the Task then fails
        stack.sfn.stop_execution(executionArn=started["executionArn"], error="Halt")
        release.set()
        ended = stack.wait_for_execution(started["executionArn"])
        events = stack.sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    # Then the execution stays ABORTED, with the caller's error in its last event
    assert ended["status"] == "ABORTED"
    assert events[-1]["type"] == "ExecutionAborted"
    assert events[-1]["executionAbortedEventDetails"]["error"] == "Halt"


def test_executions_started_without_a_name_are_named_by_uuid_over_http():
    # `aws stepfunctions start-execution` without --name, twice: AWS names each by a UUID
    # (API_StartExecution); moto's interpreter named both "None", so the second failed.
    import uuid

    import boto3

    with OfflineStack.start(say=lambda _: None) as stack:
        sfn = boto3.client(
            "stepfunctions", endpoint_url=stack.endpoint_url, region_name=stack.spec.region
        )
        arns = [
            sfn.start_execution(stateMachineArn=stack.state_machine_arn(), input="{}")[
                "executionArn"
            ]
            for _ in range(2)
        ]
        for arn in arns:
            stack.wait_for_execution(arn)
    names = [arn.rsplit(":", 1)[1] for arn in arns]
    assert len(set(names)) == 2
    assert all(str(uuid.UUID(name)) == name for name in names)


def test_a_definite_path_after_an_index_gives_its_value_in_the_stack():
    # A Parallel's result is an array: "$[0].inferences" read its first branch's value
    # wrapped in a list, which the next state refused (mlwf/offline/json_paths.py)
    from tests.helpers.executions import run_to_end

    parallel = {
        "Type": "Parallel",
        "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}],
        "ResultSelector": {"inferences.$": "$[0].inferences", "all.$": "$[*].inferences"},
        "End": True,
    }
    definition = {"StartAt": "P", "States": {"P": parallel}}
    with OfflineStack.start(say=lambda _: None) as stack:
        ended = run_to_end(stack.sfn, definition, json.dumps({"inferences": [0.9, 0.1]}))
    assert ended["status"] == "SUCCEEDED", ended
    assert json.loads(ended["output"]) == {"inferences": [0.9, 0.1], "all": [[0.9, 0.1]]}


def test_a_lambda_invoke_field_the_api_lacks_fails_in_the_stack():
    # moto dropped it and invoked the function: a misspelt "payload.$" sent an empty event
    # (mlwf/offline/integration_fields.py)
    from tests.helpers.executions import wait_until_ended

    with OfflineStack.start(say=lambda _: None) as stack:
        machine = stack.spec.state_machines["ImageClassificationStateMachine"]
        function = stack.spec.functions["FilterInferencesFunction"]
        event = {"s3_key": "k.png", "inferences": [0.99, 0.01]}
        ended = {}
        for spelling in ("Payload.$", "payload.$"):
            task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
            task["Parameters"] = {"FunctionName": function.arn, spelling: "$"}
            arn = stack.sfn.create_state_machine(
                name=f"fields-{spelling[0]}",
                definition=json.dumps({"StartAt": "T", "States": {"T": task}}),
                roleArn=machine.role_arn,  # which may invoke the project's functions
            )["stateMachineArn"]
            started = stack.sfn.start_execution(stateMachineArn=arn, input=json.dumps(event))
            ended[spelling] = wait_until_ended(stack.sfn, started["executionArn"])
    assert ended["Payload.$"]["status"] == "SUCCEEDED", ended["Payload.$"]
    assert json.loads(ended["Payload.$"]["output"])["Payload"] == event
    assert (ended["payload.$"]["status"], ended["payload.$"]["error"]) == (
        "FAILED",
        "States.Runtime",
    )
    assert ended["payload.$"]["cause"].endswith(
        'The field "payload" is not supported by Step Functions'
    )


def test_an_event_invocation_is_answered_at_once_and_a_dry_run_runs_nothing():
    # moto's lambda:invoke dropped InvocationType (its list of Invoke's fields lacks it), so
    # both ran the function and waited for it: StatusCode 200 and its result
    import time

    from tests.helpers.executions import run_to_end

    with OfflineStack.start(say=lambda _: None) as stack:
        function = stack.spec.functions["FilterInferencesFunction"]
        log = stack.functions["FilterInferencesFunction"].log

        def reports() -> int:
            return sum("REPORT RequestId" in line for line in log.lines)

        ended = {}
        for kind in ("DryRun", "Event"):
            parameters = {
                "FunctionName": function.arn,
                "Payload": {"s3_key": "k.png", "inferences": [0.99, 0.01]},
                "InvocationType": kind,
            }
            task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
            definition = {"StartAt": "T", "States": {"T": {**task, "Parameters": parameters}}}
            before = reports()
            ended[kind] = run_to_end(stack.sfn, definition)
            if kind == "DryRun":  # answered without running it (nothing is queued)
                assert reports() == before
        # the Event's run comes after its answer: wait for its REPORT, with a deadline
        deadline = time.monotonic() + 30
        while reports() == before:
            assert time.monotonic() < deadline, "the Event invocation never ran"
            time.sleep(0.05)  # a poll with a deadline
    # Then each answered as Invoke answers (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html)
    # (with the answer's metadata, as every lambda:invoke result: mlwf/offline/sdk_metadata.py)
    for kind, status in (("DryRun", 204), ("Event", 202)):
        result = json.loads(ended[kind]["output"])
        assert result.pop("SdkHttpMetadata")["HttpStatusCode"] == status
        assert set(result.pop("SdkResponseMetadata")) == {"RequestId"}
        assert result == {"StatusCode": status, "Payload": ""}


def test_a_result_path_into_a_string_fails_as_aws_fails_it_in_the_stack():
    # moto failed it with States.Runtime and a Python TypeError (mlwf/offline/result_paths.py)
    from tests.helpers.executions import run_to_end

    state = {"Type": "Pass", "Result": 1, "ResultPath": "$.r", "End": True}
    with OfflineStack.start(say=lambda _: None) as stack:
        ended = run_to_end(stack.sfn, {"StartAt": "P", "States": {"P": state}}, '"abc"')
    assert (ended["status"], ended["error"]) == ("FAILED", "States.ResultPathMatchFailure")
    assert ended["cause"] == 'Unable to apply ReferencePath $.r to input "abc"'
