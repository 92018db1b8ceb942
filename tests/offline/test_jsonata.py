"""JSONata definitions run offline as Step Functions runs them (mlwf.offline.jsonata_states).

Step Functions' console proposes JSONata for new state machines, and AWS plans no new
JSONPath intrinsics (transforming-data.html, intrinsic-functions.html): a user editing the
workflow is likely to write JSONata. moto parsed it but could not evaluate it, and failed
every such execution with States.Runtime.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlwf.offline.runtime import OfflineStack
from tests.helpers.events import load_event, sample_png
from tests.helpers.fake_endpoint import FakeEndpoint
from tests.helpers.project import edit_definition, project_copy, refusal

pytestmark = pytest.mark.offline

ENDPOINT = "image-classification-test"
ROLE = "arn:aws:iam::123456789012:role/jsonata-test"


def as_jsonata(definition: dict[str, Any]) -> dict[str, Any]:
    """The workflow's definition in JSONata, as the console converts a JSONPath state:
    Parameters -> Arguments, OutputPath -> Output, `.$` keys -> {% %} expressions."""
    paths = {"$": "$states.input", "$$.Execution.Name": "$states.context.Execution.Name"}

    def expression(path: str) -> str:
        return "{% " + paths.get(path, path.replace("$.", "$states.input.", 1)) + " %}"

    def arguments(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key.removesuffix(".$"): expression(item) if key.endswith(".$") else arguments(item)
                for key, item in value.items()
            }
        return value

    converted = {**definition, "QueryLanguage": "JSONata"}
    for state in converted["States"].values():
        state["Arguments"] = arguments(state.pop("Parameters"))
        assert state.pop("OutputPath") == "$.Payload"
        state["Output"] = "{% $states.result.Payload %}"
    return converted


@pytest.fixture
def jsonata_stack(tmp_path: Path) -> Iterator[tuple[OfflineStack, FakeEndpoint]]:
    # Given the project, its workflow rewritten in JSONata as a user would rewrite it
    template = project_copy(tmp_path)
    path = tmp_path / "statemachine" / "image_classification.asl.json"
    path.write_text(json.dumps(as_jsonata(json.loads(path.read_text())), indent=2))
    with OfflineStack.start(template, say=lambda _: None) as stack:
        for rule in stack.spec.rules.values():  # the tests start the executions themselves
            stack.client("events").disable_rule(Name=rule.name)
        stack.s3.put_object(
            Bucket=stack.bucket_name(), Key="incoming/bicycle.png", Body=sample_png()
        )
        parameter = stack.spec.parameters["EndpointParameterName"]
        stack.client("ssm").put_parameter(Name=parameter, Value=ENDPOINT, Type="String")
        endpoint = FakeEndpoint()
        stack.bridge.endpoints[ENDPOINT] = endpoint
        yield stack, endpoint


def test_the_workflow_in_jsonata_succeeds_and_fails_as_the_jsonpath_one(jsonata_stack):
    stack, endpoint = jsonata_stack
    given = {**load_event("workflow_input.json"), "s3_bucket": stack.bucket_name()}

    # When a confident and an unsure image go through the real handlers
    endpoint.body = b"[0.991, 0.009]"
    confident = stack.run_execution(given, name="confident-bicycle")
    endpoint.body = b"[0.61, 0.39]"
    unsure = stack.run_execution(given, name="unsure-bicycle")

    # Then the expressions carried the data between them as the JSONPath fields did
    assert confident["status"] == "SUCCEEDED", confident
    output = json.loads(confident["output"])
    assert output["inferences"] == [0.991, 0.009]
    assert output["inference_id"] == "confident-bicycle"  # $states.context.Execution.Name
    assert "image_data" not in output
    assert (unsure["status"], unsure["error"]) == ("FAILED", "ThresholdConfidenceNotMet")


def run_machine(stack: OfflineStack, definition: dict[str, Any], given: Any) -> dict[str, Any]:
    sfn = stack.sfn
    name = f"jsonata-{len(sfn.list_state_machines()['stateMachines'])}"
    arn = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]
    started = sfn.start_execution(stateMachineArn=arn, input=json.dumps(given))
    return stack.wait_for_execution(started["executionArn"])


def failing_task(stack: OfflineStack, catch: bool) -> dict[str, Any]:
    """A Lambda task whose Payload expression fails (a word plus one: JSONata's T2001)."""
    function = next(iter(stack.spec.functions.values()))
    task: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {
            "FunctionName": function.arn,
            "Payload": "{% $states.input.word + 1 %}",
        },
        "End": True,
    }
    if catch:
        task["Catch"] = [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "Caught"}]
    states: dict[str, Any] = {"Task": task}
    if catch:
        states["Caught"] = {"Type": "Pass", "Output": "{% $states.input %}", "End": True}
    return {"QueryLanguage": "JSONata", "StartAt": "Task", "States": states}


def test_an_expression_that_fails_fails_its_state_with_query_evaluation_error(jsonata_stack):
    stack, _ = jsonata_stack

    # When an expression fails, with and without a Catch for it
    failed = run_machine(stack, failing_task(stack, catch=False), {"word": "bicycle"})
    caught = run_machine(stack, failing_task(stack, catch=True), {"word": "bicycle"})

    # Then the state fails with States.QueryEvaluationError (concepts-error-handling.html),
    # naming the expression, and a Catch sees it (States.Runtime, the old failure, cannot be
    # caught)
    assert (failed["status"], failed["error"]) == ("FAILED", "States.QueryEvaluationError")
    # in AWS's words: the field, then JSONata's coded message (floci-io/floci#2736)
    assert (
        "The JSONata expression '$states.input.word + 1' specified for the field "
        "'Arguments/Payload' threw an error during evaluation. T2001: "
    ) in failed["cause"]
    assert caught["status"] == "SUCCEEDED", caught
    assert json.loads(caught["output"])["Error"] == "States.QueryEvaluationError"
    history = stack.sfn.get_execution_history(executionArn=failed["executionArn"])["events"]
    assert "EvaluationFailed" in [e["type"] for e in history]


def test_step_functions_own_functions_answer_as_documented(jsonata_stack):
    stack, _ = jsonata_stack
    outputs = {
        "hash": "{% $hash($states.input.text, 'SHA-256') %}",
        "uuid": "{% $uuid() %}",
        "seeded": "{% $random(7) = $random(7) %}",
        "random": "{% $random() %}",
        "partition": "{% $partition([1, 2, 3, 4, 5], 2) %}",
        "range": "{% $range(0, 10, 5) %}",
        "parse": "{% $parse($states.input.json) %}",
        "count": "{% $count($states.input.items[price > 2]) %}",
    }
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Pass",
        "States": {"Pass": {"Type": "Pass", "Output": outputs, "End": True}},
    }
    given = {"text": "bicycle", "json": '{"a": [1]}', "items": [{"price": 1}, {"price": 3}]}

    execution = run_machine(stack, definition, given)

    assert execution["status"] == "SUCCEEDED", execution
    output = json.loads(execution["output"])
    # transforming-data.html, "JSONata functions provided by Step Functions"
    assert output["hash"] == hashlib.sha256(b"bicycle").hexdigest()
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", output["uuid"]
    )
    assert output["seeded"] is True
    assert 0 <= output["random"] < 1
    assert output["partition"] == [[1, 2], [3, 4], [5]]
    assert output["range"] == [0, 5, 10]
    assert output["parse"] == {"a": [1]}
    assert output["count"] == 1


def test_a_failing_expression_in_a_branch_or_an_iteration_reaches_its_catch(jsonata_stack):
    # A Parallel branch's and a Map iteration's States.QueryEvaluationError reach the
    # Parallel's and the Map's Catch (mlwf.offline.state_errors), as a Task's does
    stack, _ = jsonata_stack
    failing = {
        "StartAt": "X",
        "States": {"X": {"Type": "Pass", "Output": "{% 'a' + 1 %}", "End": True}},
    }
    catch = [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "Caught"}]
    caught = {"Type": "Pass", "Output": "{% $states.input %}", "End": True}
    parallel = {"Type": "Parallel", "Branches": [failing], "Catch": catch, "End": True}
    mapped = {
        "Type": "Map",
        "Items": "{% [1, 2] %}",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, **failing},
        "Catch": catch,
        "End": True,
    }
    for state in (parallel, mapped):
        definition = {
            "QueryLanguage": "JSONata",
            "StartAt": "S",
            "States": {"S": state, "Caught": caught},
        }
        execution = run_machine(stack, definition, {})
        assert execution["status"] == "SUCCEEDED", (state["Type"], execution)
        assert json.loads(execution["output"])["Error"] == "States.QueryEvaluationError"


def test_an_expression_giving_a_function_fails_with_query_evaluation_error(jsonata_stack):
    # JSON has no value for a function; it once broke DescribeExecution (an HTTP 500)
    stack, _ = jsonata_stack
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Output": {"f": "{% $uppercase %}"}, "End": True}},
    }
    execution = run_machine(stack, definition, {})
    assert (execution["status"], execution["error"]) == ("FAILED", "States.QueryEvaluationError")
    assert "unsupported result type" in execution["cause"]


def test_a_field_name_read_from_no_input_is_refused_before_anything_runs(tmp_path):
    # Given the user writes a JSONPath habit into the JSONata workflow: `s3_key` where the
    # state's input is `$states.input` (moto stored it; the execution ran the serializer,
    # then failed on an expression that gave nothing)
    def habit(definition):
        converted = as_jsonata(definition)
        converted["States"]["Classify image"]["Arguments"]["Payload"]["s3_key"] = "{% s3_key %}"
        return converted

    # When the offline stack is started on it, it is refused as CreateStateMachine refuses it
    text = refusal(edit_definition(tmp_path, "image_classification.asl.json", habit))
    assert "image_classification.asl.json" in text
    assert (
        "UNSUPPORTED_JSONATA_EXPRESSION: Reference to 's3_key' at the top level is not "
        "supported. at /States/Classify image/Arguments/Payload/s3_key"
    ) in text
