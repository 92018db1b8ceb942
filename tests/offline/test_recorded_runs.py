"""Runs AWS has been recorded making (LocalStack's snapshot tests, recorded against AWS),
replayed offline with the same definitions and inputs: the same status, error, cause and
events.

- A Task whose result passes Step Functions' size quota fails with States.DataLimitExceeded,
  and a Catch on States.ALL takes it (test_states_errors.py::test_*_catch_state_all_data_
  limit_exceeded_on_large_utf8_response, recorded 2024-03-21); moto's Catch passed over it,
  as the error-handling page says States.ALL does for a state's own terminal
  DataLimitExceeded (mlwf.offline.state_errors).
- A Task whose OutputPath names a property missing before its end fails with States.Runtime,
  its cause naming the state's entered event and the missing property in Jayway's words
  (test_base_scenarios.py::test_catch_states_runtime); moto named its latest event and the
  whole path as one name (mlwf.offline.path_failures).
- A lambda:invoke step naming no function fails with Lambda.ResourceNotFoundException,
  "Function not found: <the function's ARN>:$LATEST (Service: AWSLambda; ...)"
  (test_task_service_lambda.py::test_no_such_function); offline named the bare name
  (mlwf.offline.bridge).
- A function's error reaches a Lambda ARN Task's cause as Python's runtime wrote it, with
  json.dumps's spacing, and a lambda:invoke step's compactly (test_task_lambda.py::
  test_raise_custom_exception, test_task_service_lambda.py::test_raise_exception); moto
  wrote both compactly (mlwf.offline.lambda_task_causes).
- A Wait state's Timestamp: a literal that is no RFC 3339 date-time is refused at
  CreateStateMachine (test_wait_timestamp_invalid), a JSONata value that is none fails with
  States.QueryEvaluationError (test_wait_timestamp_jsonata); moto refused the one in its
  parser's words and failed the other as States.Runtime (mlwf.offline.wait_timestamps).
- A JSONata Map `Items` expression that gives a function fails with AWS's sentence, "returned
  an unsupported result type.", in one EvaluationFailed event
  (test_map_state_items_eval_jsonata_fail[function]); offline wrote "threw an error during
  evaluation", twice, and a Task's Arguments that threw wrote two events too, where every
  recorded history has one (mlwf.offline.jsonata_states).
- An AWS SDK task's S3 error names S3's extended request id (test_aws_sdk.py::
  test_s3_no_such_key); moto's S3 sent none (mlwf.offline.s3_host_ids).
- A function that returns bytes answers them as its payload, which the task reads as JSON
  (test_lambda_task.py and test_lambda_task_service.py::test_invoke_bytes_payload, recorded
  2025-11-06); offline failed it with Runtime.MarshalError (mlwf.offline.lambda_runtime,
  which marshals with Lambda's own runtime's marshaller, and the bridge).
- A state's Assign takes effect after its output: its OutputPath reads the value from before
  (test_assign_reference_variables.py::test_state_assign_evaluation_order[BASE_EVALUATION_
  ORDER_PASS_STATE], recorded 2024-11-06); moto read the new one (mlwf.offline.assign_order).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from mlwf.offline.runtime import OfflineStack
from tests.helpers.definitions import one_task_machine
from tests.helpers.executions import event_types, history_events, run_to_end

pytestmark = pytest.mark.offline

FUNCTION = "too-big"
ECHO = "echo"
RAISING = "raising"
BYTES = "bytes"


def raising(event: object, invocation: object) -> None:
    raise Exception("Some exception was raised.")  # the recorded function's handler


ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}"
CAUSE = "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit."  # noqa: E501


@pytest.fixture(scope="module")
def stack() -> Iterator[OfflineStack]:
    with OfflineStack.start(say=lambda _: None) as stack:
        # a function whose result is 300 KiB, past the 256 KiB quota
        stack.bridge.functions[FUNCTION] = lambda event, _: "x" * (300 * 1024)
        stack.bridge.functions[ECHO] = lambda event, _: event
        stack.bridge.functions[RAISING] = raising
        # the recorded function's handler (return_bytes_str.py)
        stack.bridge.functions[BYTES] = lambda event, _: b'"HelloWorld!"'
        yield stack


@pytest.mark.parametrize(
    ("resource", "parameters", "named", "failed_event"),
    [
        ("arn:aws:states:::lambda:invoke", {"FunctionName": FUNCTION}, "lambda", "TaskFailed"),
        (ARN, None, ARN, "LambdaFunctionFailed"),
    ],
    ids=["lambda-invoke", "lambda-arn"],
)
def test_a_catch_on_states_all_takes_a_task_result_over_the_quota(
    stack, resource, parameters, named, failed_event
):
    # Given a Task whose function answers past the quota, and a Catch on States.ALL
    catch = [{"ErrorEquals": ["States.ALL"], "Next": "HandleGeneralError"}]
    fields = {"Parameters": parameters} if parameters else {}
    definition = one_task_machine("T", resource, Catch=catch, **fields)
    definition["States"]["HandleGeneralError"] = {"Type": "Pass", "End": True}
    # When it runs
    ended = run_to_end(stack.sfn, definition)
    # Then the Catch takes States.DataLimitExceeded, as in AWS's recorded run
    assert ended["status"] == "SUCCEEDED", ended
    caught = {"Error": "States.DataLimitExceeded", "Cause": CAUSE.format(named)}
    assert json.loads(ended["output"]) == caught
    history = history_events(stack.sfn, ended)
    assert [e["type"] for e in history][-5:] == [
        failed_event,
        "TaskStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]


def test_an_output_path_missing_a_property_fails_naming_the_entered_event(stack):
    # Given the recorded machine: a Lambda Task whose OutputPath names nothing, and a Catch
    # on States.Runtime (which no Catch takes)
    task = {
        "Type": "Task",
        "Resource": f"arn:aws:lambda:us-east-1:123456789012:function:{ECHO}",
        "OutputPath": "$.no.such.result.path",
        "Catch": [{"ErrorEquals": ["States.Runtime"], "Next": "CaughtRuntime"}],
        "Next": "Final",
    }
    states = {"RaiseRuntime": task}
    states |= {name: {"Type": "Pass", "End": True} for name in ("CaughtRuntime", "Final")}
    # When it runs on the recorded input
    ended = run_to_end(stack.sfn, {"StartAt": "RaiseRuntime", "States": states}, "{}")
    # Then it fails as AWS's did, event for event
    assert (ended["status"], ended["error"]) == ("FAILED", "States.Runtime")
    assert ended["cause"] == (
        "An error occurred while executing the state 'RaiseRuntime' (entered at the event id "
        "#2). Invalid path '$.no.such.result.path' : Missing property in path $['no']"
    )
    assert event_types(stack.sfn, ended) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "ExecutionFailed",
    ]


def test_a_function_that_does_not_exist_is_named_by_its_latest_version(stack):
    # Given a lambda:invoke step naming no function (test_task_service_lambda.py::
    # test_no_such_function, recorded against AWS)
    parameters = {"FunctionName.$": "$.FunctionName", "Payload.$": "$.Payload"}
    invoke = one_task_machine("Start", "arn:aws:states:::lambda:invoke", Parameters=parameters)
    given = json.dumps({"FunctionName": "no_such_function", "Payload": None})
    # When it runs
    ended = run_to_end(stack.sfn, invoke, given)
    # Then Lambda's words name the function's ARN and $LATEST, as on AWS (moto: its name)
    assert (ended["status"], ended["error"]) == ("FAILED", "Lambda.ResourceNotFoundException")
    named = "arn:aws:lambda:us-east-1:123456789012:function:no_such_function:$LATEST"
    assert ended["cause"].startswith(
        f"Function not found: {named} (Service: AWSLambda; Status Code: 404; "
        "Error Code: ResourceNotFoundException; Request ID: "
    )
    assert ended["cause"].endswith("; Proxy: null)")


@pytest.mark.parametrize(
    ("resource", "parameters", "written"),
    [
        (f"arn:aws:lambda:us-east-1:123456789012:function:{RAISING}", None, '{"errorMessage": '),
        ("arn:aws:states:::lambda:invoke", {"FunctionName": RAISING}, '{"errorMessage":"'),
    ],
    ids=["lambda-arn", "lambda-invoke"],
)
def test_a_function_s_error_is_the_cause_as_aws_writes_it(stack, resource, parameters, written):
    fields = {"Parameters": parameters} if parameters else {}
    ended = run_to_end(stack.sfn, one_task_machine("Start", resource, **fields))
    assert (ended["status"], ended["error"]) == ("FAILED", "Exception")
    assert ended["cause"].startswith(written)
    cause = json.loads(ended["cause"])
    assert (cause["errorMessage"], cause["errorType"]) == (
        "Some exception was raised.",
        "Exception",
    )
    assert list(cause)[:3] == ["errorMessage", "errorType", "requestId"]


INVALID_TIMESTAMPS = {
    "NO_T": "2016-12-05 21:29:29Z",
    "NO_Z": "2016-12-05T21:29:29",
    "INVALID_DATE": "2016-13-05T21:29:29Z",
    "INVALID_TIME": "2016-12-05T25:29:29Z",
    "INVALID_ISO": "05-12-2016T21:29:29Z",
}


@pytest.mark.parametrize(
    "timestamp",
    [*INVALID_TIMESTAMPS.values(), "{% '2016-03-14T01:59:00Z' %}"],
    ids=[*INVALID_TIMESTAMPS, "JSONATA"],
)
def test_a_wait_timestamp_that_is_no_date_time_is_refused_at_create(stack, timestamp):
    wait = {"Type": "Wait", "Timestamp": timestamp, "End": True}
    with pytest.raises(stack.sfn.exceptions.InvalidDefinition) as refused:
        run_to_end(stack.sfn, {"StartAt": "WaitUntil", "States": {"WaitUntil": wait}})
    assert refused.value.response["Error"]["Message"] == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: String does not match "
        "RFC3339 timestamp at /States/WaitUntil/Timestamp'"
    )


@pytest.mark.parametrize("timestamp", INVALID_TIMESTAMPS.values(), ids=INVALID_TIMESTAMPS)
def test_a_jsonata_timestamp_that_is_no_date_time_fails_the_state(stack, timestamp):
    wait = {"Type": "Wait", "Timestamp": "{% $states.input.TimestampValue %}", "End": True}
    definition = {"QueryLanguage": "JSONata", "StartAt": "WaitState"}
    definition["States"] = {"WaitState": wait}
    ended = run_to_end(stack.sfn, definition, json.dumps({"TimestampValue": timestamp}))
    cause = (
        "An error occurred while executing the state 'WaitState' (entered at the event id #2). "
        "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format "
        f"string: {timestamp}"
    )
    assert (ended["status"], ended["error"], ended["cause"]) == (
        "FAILED",
        "States.QueryEvaluationError",
        cause,
    )
    history = history_events(stack.sfn, ended)
    assert [e["type"] for e in history] == [
        "ExecutionStarted",
        "WaitStateEntered",
        "EvaluationFailed",
        "ExecutionFailed",
    ]
    assert history[2]["evaluationFailedEventDetails"] == {
        "cause": cause,
        "error": "States.QueryEvaluationError",
        "location": "Timestamp",
        "state": "WaitState",
    }


def test_an_sdk_task_s_s3_error_names_both_request_ids(stack):
    parameters = {"Bucket.$": "$.Bucket", "Key": "no_such_key.json"}
    definition = one_task_machine(
        "StartState", "arn:aws:states:::aws-sdk:s3:getObject", Parameters=parameters
    )
    ended = run_to_end(stack.sfn, definition, json.dumps({"Bucket": stack.bucket_name()}))
    assert (ended["status"], ended["error"]) == ("FAILED", "S3.NoSuchKeyException")
    assert re.fullmatch(
        r"The specified key does not exist\. \(Service: S3, Status Code: 404, "
        r"Request ID: \S+, Extended Request ID: \S+\)",
        ended["cause"],
    ), ended["cause"]


INLINE = {
    "ProcessorConfig": {"Mode": "INLINE"},
    "StartAt": "Pass",
    "States": {"Pass": {"Type": "Pass", "End": True}},
}


def test_a_jsonata_items_function_fails_once_in_aws_s_words(stack):
    items = "{% $fn := function($x){$x} %}"
    state = {"Type": "Map", "Items": items, "ItemProcessor": INLINE, "End": True}
    definition = {"QueryLanguage": "JSONata", "StartAt": "MapIterateState"}
    definition["States"] = {"MapIterateState": state}
    ended = run_to_end(stack.sfn, definition)
    history = history_events(stack.sfn, ended)
    assert [e["type"] for e in history] == [
        "ExecutionStarted",
        "MapStateEntered",
        "EvaluationFailed",
        "MapStateFailed",
        "ExecutionFailed",
    ]
    assert history[2]["evaluationFailedEventDetails"] == {
        "cause": "An error occurred while executing the state 'MapIterateState' (entered at "
        "the event id #2). The JSONata expression '$fn := function($x){$x}' specified for "
        "the field 'Items' returned an unsupported result type.",
        "error": "States.QueryEvaluationError",
        "location": "Items",
        "state": "MapIterateState",
    }


@pytest.mark.parametrize(
    ("arguments", "outcome"),
    [
        # test_undefined_reference[BASE_UNDEFINED_ARGUMENTS], recorded against AWS
        ("$doesNotExist", "returned nothing (undefined)."),
        ("'a' + 1", "threw an error during evaluation. T2001: The left side of the + operator"),
    ],
    ids=["gives-nothing", "throws"],
)
def test_a_task_s_failing_arguments_write_one_evaluation_failed_event_at_their_field(
    stack, arguments, outcome
):
    echo = f"arn:aws:lambda:us-east-1:123456789012:function:{ECHO}"
    definition = one_task_machine("T", echo, Arguments=f"{{% {arguments} %}}")
    definition["QueryLanguage"] = "JSONata"
    ended = run_to_end(stack.sfn, definition)
    history = history_events(stack.sfn, ended)
    assert [e["type"] for e in history] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "EvaluationFailed",
        "ExecutionFailed",
    ]
    details = history[2]["evaluationFailedEventDetails"]
    assert details["cause"].startswith(
        "An error occurred while executing the state 'T' (entered at the event id #2). "
        f"The JSONata expression '{arguments}' specified for the field 'Arguments' {outcome}"
    )
    assert (details["location"], details["state"]) == ("Arguments", "T")


@pytest.mark.parametrize(
    ("resource", "parameters", "output"),
    [
        (f"arn:aws:lambda:us-east-1:123456789012:function:{BYTES}", None, "HelloWorld!"),
        (
            "arn:aws:states:::lambda:invoke",
            {"FunctionName": BYTES, "Payload": "'{'Hello':'World'}'"},
            {"ExecutedVersion": "$LATEST", "Payload": "HelloWorld!", "StatusCode": 200},
        ),
    ],
    ids=["lambda-arn", "lambda-invoke"],
)
def test_a_function_that_returns_bytes_answers_them_as_its_payload(
    stack, resource, parameters, output
):
    # Given the recorded function, which returns b'"HelloWorld!"' (the runtime answers bytes
    # as they are: awslambdaric's LambdaMarshaller.marshal_response)
    fields = {"Parameters": parameters} if parameters else {}
    # When a Task runs it
    ended = run_to_end(stack.sfn, one_task_machine("step1", resource, **fields), "{}")
    # Then it succeeds with the payload read as JSON, as AWS's recorded runs did
    assert ended["status"] == "SUCCEEDED", ended
    result = json.loads(ended["output"])
    if resource.endswith("lambda:invoke"):
        metadata = result.pop("SdkHttpMetadata", None)
        request = result.pop("SdkResponseMetadata", None)
        # and the answer's metadata beside it, as recorded (but the transport and trace
        # headers: Connection, x-amzn-Remapped-Content-Length, X-Amzn-Trace-Id)
        assert metadata is not None and request is not None
        headers = metadata["HttpHeaders"]
        assert list(headers) == [
            "Content-Length",
            "Content-Type",
            "Date",
            "X-Amz-Executed-Version",
            "x-amzn-RequestId",
        ]
        assert (headers["Content-Length"], headers["Content-Type"]) == ("13", "application/json")
        assert metadata["HttpStatusCode"] == 200
        assert request == {"RequestId": headers["x-amzn-RequestId"]}
    assert result == output


def test_a_states_output_path_reads_the_variable_from_before_its_assign(stack):
    # Given the recorded machine (base_evaluation_order_pass_state.json5)
    question = "What is the answer to life the universe and everything?"
    states = {
        "State0": {
            "Type": "Pass",
            "Result": {"theQuestion": question},
            "Assign": {"question.$": "$.theQuestion", "answer": 42},
            "Next": "State1",
        },
        "State1": {
            "Type": "Pass",
            "InputPath": "$answer",
            "ResultPath": "$.theAnswer",
            "OutputPath": "$answer",
            "Assign": {"answer": "<omitted>"},
            "End": True,
        },
    }
    # When it runs
    ended = run_to_end(stack.sfn, {"StartAt": "State0", "States": states}, "{}")
    # Then its output is 42, as AWS's was, and State1 still assigned the new value
    assert (ended["status"], ended["output"]) == ("SUCCEEDED", "42")
    history = history_events(stack.sfn, ended)
    exited = [e["stateExitedEventDetails"] for e in history if e["type"] == "PassStateExited"]
    assert exited[1]["assignedVariables"] == {"answer": '"<omitted>"'}


def test_a_jsonata_output_reads_the_variable_from_before_its_assign(stack):
    # "Assign and Output evaluate in parallel" (see mlwf.offline.assign_order)
    states = {
        "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "B"},
        "B": {"Type": "Pass", "Assign": {"x": 2}, "Output": {"seen": "{% $x %}"}, "Next": "C"},
        "C": {"Type": "Pass", "Output": "{% [$states.input.seen, $x] %}", "End": True},
    }
    definition = {"QueryLanguage": "JSONata", "StartAt": "A", "States": states}
    assert json.loads(run_to_end(stack.sfn, definition, "{}")["output"]) == [1, 2]
