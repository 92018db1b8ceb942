"""WorkflowType=EXPRESS offline: the workflow runs through StartSyncExecution, and what AWS
refuses for EXPRESS executions is refused (see mlwf.offline.express for the AWS pages)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from mlwf.executions import ExecutionInput
from mlwf.offline.runtime import OfflineStack
from mlwf.offline.workflow import deploy_model, split_inputs

pytestmark = pytest.mark.offline

BATCH = "BatchClassificationStateMachine"


@pytest.fixture(scope="module")
def stack() -> Iterator[OfflineStack]:
    overrides = {"WorkflowType": "EXPRESS"}
    with OfflineStack.start(parameter_overrides=overrides, say=lambda _: None) as stack:
        deploy_model(stack, "synthetic", count=40, test_count=6, say=lambda _: None)
        yield stack


@pytest.fixture(scope="module")
def inputs(stack) -> list[ExecutionInput]:
    from mlwf.offline.workflow import stack_settings

    return split_inputs(stack, stack_settings(stack), "test")


def express_machine(stack: OfflineStack, name: str, definition: dict, **fields: Any) -> str:
    """A new EXPRESS state machine of `definition` (and any other CreateStateMachine fields)."""
    return str(
        stack.sfn.create_state_machine(
            name=name,
            definition=json.dumps(definition),
            roleArn=f"arn:aws:iam::123456789012:role/{name}",
            type="EXPRESS",
            **fields,
        )["stateMachineArn"]
    )


def error_code(call) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


def test_the_workflow_runs_and_reports_with_express(stack, inputs):
    results = stack.run_executions(inputs, concurrency=3)
    assert len(results) == len(inputs) >= 6
    for result in results:
        assert result.status == "SUCCEEDED" or result.error == "ThresholdConfidenceNotMet"
        assert len(result.inferences) == 2 and result.duration_ms is not None


def test_a_sync_execution_answers_as_aws_does(stack, inputs):
    item = inputs[0]
    payload = {"s3_bucket": item.s3_bucket, "s3_key": item.s3_key}
    answer = stack.run_execution(payload, name="sync-one")
    assert answer["status"] in {"SUCCEEDED", "FAILED"}
    assert answer["executionArn"].split(":")[5] == "express"
    assert answer["name"] == "sync-one" and json.loads(answer["input"]) == payload
    assert ("output" in answer) == (answer["status"] == "SUCCEEDED")
    # billed as Express Workflows are: its duration rounded up to the next 100 ms, memory in
    # 64-MB chunks (AWS answered 64 in every recorded run; moto gave no billingDetails)
    took_ms = (answer["stopDate"] - answer["startDate"]).total_seconds() * 1000
    billed = answer["billingDetails"]
    assert billed["billedDurationInMilliseconds"] % 100 == 0
    assert took_ms <= billed["billedDurationInMilliseconds"] < took_ms + 100 + 1
    assert billed["billedMemoryUsedInMB"] == 64


def test_express_executions_cannot_be_described_listed_or_read_back(stack, inputs):
    sfn, arn = stack.sfn, stack.state_machine_arn()
    item = inputs[0]
    body = json.dumps({"s3_bucket": item.s3_bucket, "s3_key": item.s3_key})
    synced = sfn.start_sync_execution(stateMachineArn=arn, input=body)["executionArn"]
    started = sfn.start_execution(stateMachineArn=arn, name="async-one", input=body)
    assert started["executionArn"].split(":")[5] == "express"
    for execution_arn in (synced, started["executionArn"]):
        assert error_code(lambda a=execution_arn: sfn.describe_execution(executionArn=a)) == (
            "InvalidArn"
        )
        assert error_code(lambda a=execution_arn: sfn.get_execution_history(executionArn=a)) == (
            "InvalidArn"
        )
        # as AWS answered StopExecution (LocalStack's test_sfn_api_express.snapshot.json);
        # moto said InvalidArn "Execution Does Not Exist"
        with pytest.raises(ClientError) as stopped:
            sfn.stop_execution(executionArn=execution_arn)
        assert stopped.value.response["Error"] == {
            "Code": "InvalidArn",
            "Message": "Invalid Arn: 'Resource type not valid in this context: express'",
        }
    assert error_code(lambda: sfn.list_executions(stateMachineArn=arn)) == (
        "StateMachineTypeNotSupported"
    )


def test_start_sync_execution_refuses_a_standard_machine(stack):
    # The batch machine stays STANDARD whatever WorkflowType is: it may run past 5 minutes.
    batch = stack.state_machine_arn(BATCH)
    assert stack.sfn.describe_state_machine(stateMachineArn=batch)["type"] == "STANDARD"
    code = error_code(lambda: stack.sfn.start_sync_execution(stateMachineArn=batch, input="{}"))
    assert code == "StateMachineTypeNotSupported"


def test_a_bad_input_is_refused_as_aws_refuses_it(stack):
    arn = stack.state_machine_arn()
    code = error_code(lambda: stack.sfn.start_sync_execution(stateMachineArn=arn, input="{x"))
    assert code == "InvalidExecutionInput"


def test_a_sync_execution_past_five_minutes_ends_timed_out(stack, inputs, monkeypatch):
    # Given an execution that outlasts the limit: the limit shortened from AWS's 300 s to
    # 10 ms, which three functions in their own processes and an endpoint behind HTTP cannot
    # meet. (It ends before the next look at the clock: AWS would have stopped it at 10 ms.)
    monkeypatch.setattr("mlwf.offline.express.EXPRESS_MAX_SECONDS", 0.01)
    item = inputs[0]
    answer = stack.sfn.start_sync_execution(
        stateMachineArn=stack.state_machine_arn(),
        input=json.dumps({"s3_bucket": item.s3_bucket, "s3_key": item.s3_key}),
    )
    # Then StartSyncExecution answers TIMED_OUT, with no output
    assert answer["status"] == "TIMED_OUT" and "output" not in answer


def test_over_http_express_executions_are_named_and_refused_the_same(stack, inputs):
    # The rules live in moto's responses, which serve the in-process clients and HTTP alike
    import boto3

    sfn = boto3.client("stepfunctions", endpoint_url=stack.endpoint_url, region_name="us-east-1")
    item = inputs[0]
    body = json.dumps({"s3_bucket": item.s3_bucket, "s3_key": item.s3_key})
    started = sfn.start_execution(stateMachineArn=stack.state_machine_arn(), input=body)
    assert started["executionArn"].split(":")[5] == "express"
    arn = started["executionArn"]
    assert error_code(lambda: sfn.describe_execution(executionArn=arn)) == "InvalidArn"
    assert error_code(lambda: sfn.list_executions(stateMachineArn=stack.state_machine_arn())) == (
        "StateMachineTypeNotSupported"
    )


@pytest.mark.parametrize("result", ["done", None, {"a": [1, 2]}])
def test_a_sync_executions_output_is_json_text(stack, result):
    # StartSyncExecution's output is "the JSON output data of the execution"
    # (API_StartSyncExecution.html): a string result quoted, null as null, compact
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": result, "End": True}}}
    arn = express_machine(stack, f"sync-output-{type(result).__name__}", definition)
    answer = stack.sfn.start_sync_execution(stateMachineArn=arn, input="{}")
    assert answer["status"] == "SUCCEEDED"
    assert answer["output"] == json.dumps(result, separators=(",", ":"))


def test_an_express_execution_is_named_alike_in_its_answer_context_and_log(stack):
    # Given an EXPRESS machine that outputs its Context object's Execution, logging ALL
    logs, group = stack.client("logs"), "/offline/express-ids"
    logs.create_log_group(logGroupName=group)
    machine = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Parameters": {"e.$": "$$.Execution"}, "End": True}},
    }
    destination = {"logGroupArn": f"arn:aws:logs:us-east-1:123456789012:log-group:{group}:*"}
    logging = {"level": "ALL", "destinations": [{"cloudWatchLogsLogGroup": destination}]}
    arn = express_machine(stack, "ids", machine, loggingConfiguration=logging)
    # When it runs
    answer = stack.sfn.start_sync_execution(stateMachineArn=arn, input="{}")
    # Then $$.Execution.Id and every log record name the ARN StartSyncExecution answered,
    # `...:express:<machine>:<name>:<id>` (LocalStack's test_express_sync.py and
    # test_express_async.py recordings), with a RedriveCount of 0
    execution = json.loads(answer["output"])["e"]
    assert execution["Id"] == answer["executionArn"]
    assert answer["executionArn"].split(":")[5:7] == ["express", "ids"]
    assert execution["RedriveCount"] == 0
    records = [
        json.loads(e["message"]) for e in logs.filter_log_events(logGroupName=group)["events"]
    ]
    assert {r["execution_arn"] for r in records} == {answer["executionArn"]}
    assert {r["redrive_count"] for r in records} == {"0"}


def test_a_failing_jsonata_expression_is_named_by_its_field_in_express_too(stack):
    # The field is found through the machine's ARN: an EXPRESS execution's Id (its
    # `:express:` ARN) is not one the backend looks up (the cause lost its field so)
    machine = {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Output": {"v": "{% $x.y.z %}"}, "End": True}},
    }
    arn = express_machine(stack, "jsonata-express", machine)
    answer = stack.sfn.start_sync_execution(stateMachineArn=arn, input="{}")
    assert answer["error"] == "States.QueryEvaluationError"
    assert "specified for the field 'Output/v' returned nothing" in answer["cause"]
