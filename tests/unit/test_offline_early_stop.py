"""StopExecution at any moment of a RUNNING execution, as AWS honours it
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html),
even before moto's worker thread has made the environment its stop() needs: the race
mlwf.offline.moto_patches.stops_as_aws removes. The EXPRESS limit's stop
(mlwf.offline.express) goes through the same path."""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import Iterator

import boto3
import pytest
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.responses import StepFunctionResponse

from mlwf.offline.moto_patches import stops_as_aws
from tests.helpers.paths import REGION

ROLE = "arn:aws:iam::123456789012:role/offline-test"
DEFINITION = {"StartAt": "Work", "States": {"Work": {"Type": "Pass", "End": True}}}
LAST_EVENTS = {"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"}


def test_the_pinned_moto_stops_only_an_execution_under_way():
    # What the patch wraps; if moto changes this, the patch must change too.
    assert "self.env.set_stop(" in inspect.getsource(ExecutionWorker.stop)
    assert "self.env = self._get_evaluation_environment()" in inspect.getsource(
        ExecutionWorker._execution_logic
    )
    # moto's environment takes an error even once stopped
    assert "ProgramRunning" not in inspect.getsource(Environment.set_error)
    # moto's StopExecution passes on neither the caller's error nor its cause
    assert "stop_execution(arn)" in inspect.getsource(StepFunctionResponse.stop_execution)


@pytest.fixture
def held_parse(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Each execution's worker waits, before it parses the definition (and so before it
    has an environment), until the event is set: the stop below always comes first."""
    release = threading.Event()
    parse = ExecutionWorker._get_evaluation_entrypoint

    def held(worker: ExecutionWorker):
        release.wait(10)
        return parse(worker)

    monkeypatch.setattr(ExecutionWorker, "_get_evaluation_entrypoint", held)
    yield release
    release.set()


def start_one(sfn) -> str:
    machine = sfn.create_state_machine(
        name="early-stop", definition=json.dumps(DEFINITION), roleArn=ROLE
    )["stateMachineArn"]
    return sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]


def wait_for_end(sfn, execution_arn: str) -> tuple[dict, list[dict]]:
    """The description and history once the history has its last event: moto shows the
    status a moment before its worker thread writes that event."""
    ended = threading.Event()
    while not ended.wait(0.01):  # moto runs the execution in a thread and signals nothing
        events = sfn.get_execution_history(executionArn=execution_arn)["events"]
        if events and events[-1]["type"] in LAST_EVENTS:
            return sfn.describe_execution(executionArn=execution_arn), events
    raise AssertionError("unreachable")


def test_unpatched_moto_fails_a_stop_that_comes_before_the_environment(aws, held_parse):
    # What the patch replaces; once moto answers this itself, the patch can go.
    sfn = boto3.client("stepfunctions", region_name=REGION)
    execution_arn = start_one(sfn)
    with pytest.raises(AttributeError, match="set_stop"):
        sfn.stop_execution(executionArn=execution_arn)


def test_a_stop_right_after_the_start_aborts_the_execution_before_its_first_state(aws, held_parse):
    sfn = boto3.client("stepfunctions", region_name=REGION)
    with stops_as_aws():
        # Given an execution whose worker has not yet made its environment
        execution_arn = start_one(sfn)
        # When it is stopped
        answer = sfn.stop_execution(executionArn=execution_arn, error="Halt", cause="by a test")
        held_parse.set()
        description, events = wait_for_end(sfn, execution_arn)
    # Then it ends ABORTED, as AWS ends it, and no state ran
    assert "stopDate" in answer
    assert description["status"] == "ABORTED"
    assert [e["type"] for e in events] == ["ExecutionStarted", "ExecutionAborted"]
    assert events[-1]["executionAbortedEventDetails"] == {"error": "Halt", "cause": "by a test"}


def test_a_stop_once_the_environment_exists_still_goes_to_moto(aws):
    sfn = boto3.client("stepfunctions", region_name=REGION)
    wait = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 30, "End": True}}}
    with stops_as_aws():
        machine = sfn.create_state_machine(
            name="late-stop", definition=json.dumps(wait), roleArn=ROLE
        )["stateMachineArn"]
        execution_arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        entered = threading.Event()
        while not entered.wait(0.01):  # until the Wait state is under way
            types = [
                e["type"] for e in sfn.get_execution_history(executionArn=execution_arn)["events"]
            ]
            if "WaitStateEntered" in types:
                break
        answer = sfn.stop_execution(executionArn=execution_arn, error="Late", cause="halted")
        description, events = wait_for_end(sfn, execution_arn)
    assert "stopDate" in answer
    assert description["status"] == "ABORTED"
    assert events[-1]["executionAbortedEventDetails"] == {"error": "Late", "cause": "halted"}
