"""StopExecution at any moment of a RUNNING execution, as AWS honours it
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html),
even before moto's worker thread has made the environment its stop() needs: the patches of
mlwf.offline.moto_patches.stops_as_aws. The EXPRESS limit's stop (mlwf.offline.express)
goes through the same path. With a whole offline stack, over HTTP and with a Task that
fails after the stop: tests/offline/test_offline_stack_patches.py."""

from __future__ import annotations

import inspect
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import boto3
import pytest
from moto.stepfunctions.parser.asl.component.program.program import Program
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.responses import StepFunctionResponse

from mlwf.offline.moto_patches import Endings, execution_endings, stops_as_aws
from tests.helpers.paths import REGION

ROLE = "arn:aws:iam::123456789012:role/offline-test"
PASS = {"StartAt": "Work", "States": {"Work": {"Type": "Pass", "End": True}}}
WAIT = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 30, "End": True}}}


def test_the_pinned_moto_stops_only_an_execution_under_way():
    # What the patches rely on or replace; if moto changes any of it, they must change.
    assert "self.env.set_stop(" in inspect.getsource(ExecutionWorker.stop)
    assert "self.env = self._get_evaluation_environment()" in inspect.getsource(
        ExecutionWorker._execution_logic
    )
    # the program is set running before its body runs, and the body ends a stopped one
    program_eval = inspect.getsource(Program.eval)
    assert program_eval.index("env.next_state_name =") < program_eval.index(".start()")
    body = inspect.getsource(Program._eval_body)
    assert "while env.is_running():" in body and "ExecutionAborted" in body
    # moto's environment takes an error or a timeout even once stopped
    assert "ProgramRunning" not in inspect.getsource(Environment.set_error)
    assert "ProgramRunning" not in inspect.getsource(Environment.set_timed_out)
    # moto's StopExecution passes on neither the caller's error nor its cause
    assert "stop_execution(arn)" in inspect.getsource(StepFunctionResponse.stop_execution)
    # moto's end step reads the program's state and writes the execution's fields, status
    # first: stops_as_aws stages its writes and publishes the status last
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    reflect = inspect.getsource(BaseExecutionWorkerCommunication._reflect_execution_status)
    assert "self.execution.exec_worker.env.program_state()" in reflect
    assert reflect.index(".exec_status = ExecutionStatus.FAILED") < reflect.index(".error =")


@pytest.fixture
def held_parse(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Each execution's worker waits, before it parses the definition (and so before it
    has an environment), until the event is set: the stops below always come first."""
    release = threading.Event()
    parse = ExecutionWorker._get_evaluation_entrypoint

    def held(worker: ExecutionWorker):
        release.wait(10)
        return parse(worker)

    monkeypatch.setattr(ExecutionWorker, "_get_evaluation_entrypoint", held)
    yield release
    release.set()


@pytest.fixture
def endings() -> Iterator[Endings]:
    """moto's executions, each reporting its end (as in the offline stack)."""
    reported = Endings()
    with execution_endings(reported):
        yield reported


def start_one(sfn, definition: dict) -> str:
    machine = sfn.create_state_machine(
        name="stopped", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    return sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]


def until(condition: Callable[[], bool], what: str, within: float = 10.0) -> None:
    """For what moto signals nowhere: look every 10 ms, fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {within} s"
        time.sleep(0.01)


def in_the_wait_state(sfn, execution_arn: str) -> None:
    until(
        lambda: any(
            e["type"] == "WaitStateEntered"
            for e in sfn.get_execution_history(executionArn=execution_arn)["events"]
        ),
        "the Wait state",
    )


def ended(sfn, endings: Endings, execution_arn: str) -> tuple[dict, list[dict]]:
    """The description and history of the test's one execution once its worker has ended
    (its history is whole by then)."""
    endings.wait(10)
    description = sfn.describe_execution(executionArn=execution_arn)
    assert description["status"] != "RUNNING", "the execution did not end within 10 s"
    return description, sfn.get_execution_history(executionArn=execution_arn)["events"]


def test_unpatched_moto_fails_a_stop_that_comes_before_the_environment(aws, held_parse):
    # What the patch replaces; once moto answers this itself, the patch can go.
    sfn = boto3.client("stepfunctions", region_name=REGION)
    execution_arn = start_one(sfn, PASS)
    with pytest.raises(AttributeError, match="set_stop"):
        sfn.stop_execution(executionArn=execution_arn)


def test_a_stop_right_after_the_start_aborts_the_execution_before_its_first_state(
    aws, held_parse, endings
):
    sfn = boto3.client("stepfunctions", region_name=REGION)
    with stops_as_aws():
        # Given an execution whose worker has not yet made its environment
        execution_arn = start_one(sfn, PASS)
        # When it is stopped, twice
        answer = sfn.stop_execution(executionArn=execution_arn, error="Halt", cause="first")
        sfn.stop_execution(executionArn=execution_arn, error="Again", cause="second")
        held_parse.set()
        description, events = ended(sfn, endings, execution_arn)
    # Then it ends ABORTED, as AWS ends it, no state ran, and the first stop holds
    assert description["status"] == "ABORTED"
    assert description["stopDate"] == answer["stopDate"]
    assert [e["type"] for e in events] == ["ExecutionStarted", "ExecutionAborted"]
    assert events[-1]["executionAbortedEventDetails"] == {"error": "Halt", "cause": "first"}


def test_a_stop_once_the_execution_is_under_way_keeps_its_own_date(aws, endings):
    sfn = boto3.client("stepfunctions", region_name=REGION)
    with stops_as_aws():
        execution_arn = start_one(sfn, WAIT)
        in_the_wait_state(sfn, execution_arn)
        answer = sfn.stop_execution(executionArn=execution_arn, error="Late", cause="halted")
        description, events = ended(sfn, endings, execution_arn)
    assert description["status"] == "ABORTED"
    assert description["stopDate"] == answer["stopDate"]
    assert (description["error"], description["cause"]) == ("Late", "halted")
    assert events[-1]["executionAbortedEventDetails"] == {"error": "Late", "cause": "halted"}


def test_a_stop_holds_when_the_machine_times_out_while_a_state_still_runs(aws, monkeypatch):
    # Given a machine with a 1 s TimeoutSeconds whose one state runs on past a stop (as a
    # Task does: moto lets it finish)
    from moto.stepfunctions.parser.asl.component.state.state_pass.state_pass import StatePass

    entered, release = threading.Event(), threading.Event()
    run_pass = StatePass._eval_state

    def slow_pass(state, env):
        entered.set()
        release.wait(10)
        run_pass(state, env)

    monkeypatch.setattr(StatePass, "_eval_state", slow_pass)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    reported = Endings()
    with stops_as_aws(), execution_endings(reported):
        execution_arn = start_one(sfn, {**PASS, "TimeoutSeconds": 1})
        assert entered.wait(10)
        # When it is stopped, and the machine's timeout passes before the state ends
        sfn.stop_execution(executionArn=execution_arn, error="Halt")
        description, _ = ended(sfn, reported, execution_arn)
        release.set()
    # Then it stays ABORTED, as AWS leaves a stopped execution
    assert description["status"] == "ABORTED"


@pytest.fixture
def at_the_status(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """moto's description of each execution at the moment its status turns terminal: what a
    DescribeExecution (or the EXPRESS wait) racing the end would answer."""
    from moto.stepfunctions.parser.backend.execution import Execution

    seen: list[dict] = []

    def status_spy(execution: Execution, name: str, value: object) -> None:
        object.__setattr__(execution, name, value)
        if name == "exec_status" and getattr(value, "value", "RUNNING") != "RUNNING":
            seen.append(dict(execution.to_describe_output()))

    monkeypatch.setattr(Execution, "__setattr__", status_spy, raising=False)
    return seen


def described(execution_arn: str) -> dict:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    backend = stepfunctions_parser_backends["123456789012"][REGION]
    return dict(backend.describe_execution(execution_arn).to_describe_output())


def test_no_reader_sees_a_stopped_execution_aborted_without_its_error_or_date(
    aws, endings, at_the_status
):
    sfn = boto3.client("stepfunctions", region_name=REGION)
    with stops_as_aws():
        execution_arn = start_one(sfn, WAIT)
        in_the_wait_state(sfn, execution_arn)
        answer = sfn.stop_execution(executionArn=execution_arn, error="Late", cause="halted")
        ended(sfn, endings, execution_arn)
    final = described(execution_arn)
    assert (final["status"].value, final["error"]) == ("ABORTED", "Late")
    assert abs(final["stopDate"] - answer["stopDate"]) < timedelta(milliseconds=1)  # the stop's
    assert at_the_status == [final]


FAIL = {"StartAt": "No", "States": {"No": {"Type": "Fail", "Error": "Why", "Cause": "because"}}}
RESULT = {"StartAt": "Yes", "States": {"Yes": {"Type": "Pass", "Result": "done", "End": True}}}


@pytest.mark.parametrize(
    ("definition", "expected"),
    [(FAIL, {"error": "Why", "cause": "because"}), (RESULT, {"output": '"done"'})],
    ids=["FAILED", "SUCCEEDED"],
)
def test_no_reader_sees_an_ended_execution_without_its_answer(
    aws, endings, at_the_status, definition, expected
):
    # (CI caught a DescribeExecution that answered FAILED with no error: moto set the
    # status before the error, and the output after the status)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    with stops_as_aws():
        execution_arn = start_one(sfn, definition)
        ended(sfn, endings, execution_arn)
    final = described(execution_arn)
    assert {key: final.get(key) for key in expected} == expected
    assert at_the_status == [final]


def test_no_reader_sees_a_running_execution_with_an_error(aws, endings, monkeypatch):
    # While the end's fields are written, another thread describes the execution: it gets
    # the description before them (RUNNING, no error) or after (FAILED, with it), never
    # RUNNING with an error beside it, which AWS never answers
    from moto.stepfunctions.parser.backend.execution import Execution

    seen: list[tuple[str, bool]] = []
    readers: list[threading.Thread] = []

    def racing_reader(execution: Execution, name: str, value: object) -> None:
        object.__setattr__(execution, name, value)
        if name == "error" and value is not None and not readers:

            def read() -> None:
                answer = execution.to_describe_output()
                seen.append((answer["status"].value, "error" in answer))

            readers.append(threading.Thread(target=read))
            readers[0].start()
            readers[0].join(timeout=0.5)  # as long as the reader may need; it may be held

    monkeypatch.setattr(Execution, "__setattr__", racing_reader, raising=False)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    with stops_as_aws():
        execution_arn = start_one(sfn, FAIL)
        ended(sfn, endings, execution_arn)
    readers[0].join(10)
    assert seen == [("FAILED", True)]
