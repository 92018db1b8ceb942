"""Step Functions' States.* errors where moto's interpreter loses them
(mlwf.offline.state_errors): a Choice with no match, and a Parallel branch's or a Map
iteration's error reaching its state's Catch. Each case runs on moto alone (the pin: it
still loses the error) and patched (the error as AWS names it,
https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html)."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from mlwf.offline.jsonata_states import jsonata_evaluated
from mlwf.offline.state_errors import states_errors_kept
from tests.helpers.executions import run_to_end
from tests.helpers.paths import REGION

NO_MATCH = {"Type": "Choice", "Choices": [{"Variable": "$.a", "NumericEquals": 1, "Next": "B"}]}
BRANCH = {"StartAt": "C", "States": {"C": NO_MATCH, "B": {"Type": "Succeed"}}}
# a branch failing with one of the States.* errors a Catch can see
FAILING = {
    "StartAt": "X",
    "States": {
        "X": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% 'a' + 1 %}", "End": True}
    },
}
# a Task failing with States.Runtime before it calls anything, caught by a Catch naming it
RUNTIME_CAUGHT = {
    "StartAt": "T",
    "States": {
        "T": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "TimeoutSecondsPath": "$.missing",
            "Catch": [{"ErrorEquals": ["States.Runtime"], "Next": "Caught"}],
            "End": True,
        },
        "Caught": {"Type": "Pass", "End": True},
    },
}
FAILING_WITH = "States.QueryEvaluationError"
CAUGHT = {"Type": "Pass", "End": True}


def run(definition: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    return run_to_end(
        boto3.client("stepfunctions", region_name=REGION), definition, json.dumps(given)
    )


def choice_alone() -> dict[str, Any]:
    return {"StartAt": "C", "States": {"C": NO_MATCH, "B": {"Type": "Succeed"}}}


def in_parallel(branch: dict[str, Any], catch: str, key: str = "Catch") -> dict[str, Any]:
    parallel: dict[str, Any] = {"Type": "Parallel", "Branches": [branch], "End": True}
    parallel[key] = [{"ErrorEquals": [catch], **({"Next": "Caught"} if key == "Catch" else {})}]
    return {"StartAt": "P", "States": {"P": parallel, "Caught": CAUGHT}}


def in_map(branch: dict[str, Any], catch: str) -> dict[str, Any]:
    map_state = {
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, **branch},
        "Catch": [{"ErrorEquals": [catch], "Next": "Caught"}],
        "End": True,
    }
    return {"StartAt": "M", "States": {"M": map_state, "Caught": CAUGHT}}


GIVEN = {"a": 2, "items": [{"a": 2}]}
NO_CHOICE = (
    "An error occurred while executing the state 'C' (entered at the event id #2). "
    "No Choice rule matched the state's input, and the state has no Default."
)


def test_the_pinned_moto_loses_the_states_errors(aws):
    # What states_errors_kept replaces; once moto names these errors, the patch can go.
    alone = run(choice_alone(), GIVEN)
    assert (alone["status"], alone["error"]) == ("FAILED", "States.Runtime")
    assert "No branching option" in alone["cause"]  # its RuntimeError's tuple
    # a branch's States.* error breaks the Parallel, past even a Catch on States.ALL
    parallel = run(in_parallel(BRANCH, "States.ALL"), GIVEN)
    assert parallel["status"] == "FAILED"
    assert "Custom Error Names MUST NOT begin with the prefix 'States.'" in parallel["cause"]
    # and a Catch naming States.Runtime catches it (AWS: it "will always cause the
    # execution to fail")
    named = run(RUNTIME_CAUGHT, GIVEN)
    assert named["status"] == "SUCCEEDED"


@pytest.fixture
def kept(aws):
    with jsonata_evaluated(), states_errors_kept():
        yield


def test_a_choice_with_no_match_fails_with_states_runtime(kept):
    # AWS keeps States.NoChoiceMatched "reserved for future use" and reports States.Runtime
    # (concepts-error-handling.html, floci-io/floci#3167); the cause's words are ours
    execution = run(choice_alone(), GIVEN)
    assert (execution["status"], execution["error"], execution["cause"]) == (
        "FAILED",
        "States.Runtime",
        NO_CHOICE,
    )


def test_a_catch_naming_states_runtime_does_not_see_it(kept):
    execution = run(RUNTIME_CAUGHT, GIVEN)
    assert (execution["status"], execution["error"]) == ("FAILED", "States.Runtime")


@pytest.mark.parametrize("key", ["Catch", "Retry"])
@pytest.mark.parametrize("named", ["States.ALL", "States.Runtime"])
def test_no_retry_or_catch_sees_states_runtime(kept, key, named):
    # "A States.Runtime error isn't retriable, and will always cause the execution to fail"
    execution = run(in_parallel(BRANCH, named, key), GIVEN)
    assert (execution["status"], execution["error"]) == ("FAILED", "States.Runtime")
    assert "No Choice rule matched" in execution["cause"]
    sfn = boto3.client("stepfunctions", region_name=REGION)
    events = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    assert [e["type"] for e in events].count("ParallelStateStarted") == 1  # not retried


@pytest.mark.parametrize("catch", ["States.ALL", FAILING_WITH])
def test_a_branchs_states_error_reaches_the_parallels_catch(kept, catch):
    execution = run(in_parallel(FAILING, catch), GIVEN)
    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"])["Error"] == FAILING_WITH


@pytest.mark.parametrize("catch", ["States.ALL", FAILING_WITH])
def test_an_iterations_states_error_reaches_the_maps_catch(kept, catch):
    execution = run(in_map(FAILING, catch), GIVEN)
    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"])["Error"] == FAILING_WITH


def test_a_custom_error_still_reaches_a_parallels_catch_by_its_name(kept):
    failing = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "MyError"}}}
    parallel = {
        "Type": "Parallel",
        "Branches": [failing],
        "Catch": [{"ErrorEquals": ["MyError"], "Next": "Caught"}],
        "End": True,
    }
    definition = {"StartAt": "P", "States": {"P": parallel, "Caught": CAUGHT}}
    execution = run(definition, GIVEN)
    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"])["Error"] == "MyError"


def test_after_the_block_moto_is_as_it_was(aws):
    with states_errors_kept():
        pass
    assert run(choice_alone(), GIVEN)["error"] == "States.Runtime"
    on_missing = run(choosing({"Variable": "$.x", "StringEquals": "a"}), MISSING)
    assert json.loads(on_missing["output"]) == {"to": "D"}


def runtime_error_in_map(where: str) -> dict[str, Any]:
    """A Map whose iteration (its InputPath) or own ItemSelector names nothing: States.Runtime."""
    missing = {"Type": "Pass", "InputPath": "$.missing", "End": True}
    fine = {"Type": "Pass", "End": True}
    map_state = {
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "INLINE"},
            "StartAt": "X",
            "States": {"X": missing if where == "iteration" else fine},
        },
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
        "End": True,
    }
    if where == "item selector":
        map_state["ItemSelector"] = {"a.$": "$.missing"}
    return {"StartAt": "M", "States": {"M": map_state, "Caught": CAUGHT}}


def test_the_pinned_moto_lets_states_all_match_states_runtime():
    # What states_errors_kept changes: moto's ErrorEqualsDecl matches States.ALL to anything
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import (
        ErrorEqualsDecl,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )

    class Env:
        stack = [StatesErrorName.from_name("States.Runtime")]

    ErrorEqualsDecl([StatesErrorName.from_name("States.ALL")])._eval_body(Env())
    assert Env.stack == [True]


@pytest.mark.parametrize(("task_result", "caught"), [(False, False), (True, True)])
def test_states_all_takes_data_limit_exceeded_only_from_a_task_s_result(task_result, caught):
    # AWS's recorded runs: a Task's result over the quota is caught by States.ALL; the page's
    # rule (terminal, not caught) is kept for the rest (mlwf.offline.state_errors)
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import (
        ErrorEqualsDecl,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )

    name = StatesErrorName.from_name("States.DataLimitExceeded")
    if task_result:
        name.mlwf_task_result = True  # what the patched task quota check marks

    class Env:
        stack = [name]

    with states_errors_kept():
        ErrorEqualsDecl([StatesErrorName.from_name("States.ALL")])._eval_body(Env())
    assert Env.stack == [caught]


@pytest.mark.parametrize("where", ["iteration", "item selector"])
def test_states_all_does_not_catch_states_runtime(kept, where):
    # "States.ALL ... can't catch the States.DataLimitExceeded terminal error type and
    # Runtime error types" (concepts-error-handling.html); moto's Catch caught it
    execution = run(runtime_error_in_map(where), GIVEN)
    assert (execution["status"], execution["error"]) == ("FAILED", "States.Runtime")


def choosing(*rules: dict[str, Any]) -> dict[str, Any]:
    """A Choice whose rules go to Y, else to its Default D; each a Pass that names itself
    ({"to": "Y"})."""
    choice = {"Type": "Choice", "Choices": [{**r, "Next": "Y"} for r in rules], "Default": "D"}
    ends = {n: {"Type": "Pass", "Result": {"to": n}, "End": True} for n in ("Y", "D")}
    return {"StartAt": "C", "States": {"C": choice, **ends}}


MISSING = {"present": "a", "empty": None}  # no "x"


def missing(path: str, which: str = "condition") -> str:
    return (
        "An error occurred while executing the state 'C' (entered at the event id #2). "
        f"Invalid path '{path}': The choice state's {which} path references an invalid value."
    )


def test_the_pinned_moto_reads_a_missing_variable_as_no_match(aws):
    # What states_errors_kept changes: moto went on to the Default, and named its own class
    # for a missing ...Path operand
    execution = run(choosing({"Variable": "$.x", "StringEquals": "a"}), MISSING)
    assert (execution["status"], json.loads(execution["output"])) == ("SUCCEEDED", {"to": "D"})
    execution = run(choosing({"Variable": "$.present", "StringEqualsPath": "$.x"}), MISSING)
    assert "'ComparisonFuncValue'" in execution["cause"]


@pytest.mark.parametrize(
    "rule",
    [
        {"Variable": "$.x", "StringEquals": "a"},
        # the example on AWS's Choice page: "If the state input doesn't contain the $.type
        # field, the execution fails"
        {"Not": {"Variable": "$.x", "StringEquals": "Private"}},
        {"Variable": "$.x", "IsNull": True},  # only IsPresent tests a missing field
        {
            "Or": [
                {"Variable": "$.present", "StringEquals": "b"},
                {"Variable": "$.x", "IsString": True},
            ]
        },
    ],
)
def test_a_rule_on_a_missing_field_fails_the_execution(kept, rule):
    sfn = boto3.client("stepfunctions", region_name=REGION)
    execution = run(choosing(rule), MISSING)
    assert (execution["status"], execution["error"]) == ("FAILED", "States.Runtime")
    assert execution["cause"] == missing("$.x")
    events = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    assert [e["type"] for e in events] == [
        "ExecutionStarted",
        "ChoiceStateEntered",
        "ExecutionFailed",
    ]


def test_a_missing_context_path_is_named_as_written(kept):
    execution = run(choosing({"Variable": "$$.Execution.Input.x", "IsNumeric": True}), MISSING)
    assert execution["cause"] == missing("$$.Execution.Input.x")


def test_a_missing_comparison_path_fails_the_execution(kept):
    execution = run(choosing({"Variable": "$.present", "StringEqualsPath": "$.x"}), MISSING)
    assert (execution["error"], execution["cause"]) == (
        "States.Runtime",
        missing("$.x", "comparison"),
    )


@pytest.mark.parametrize(
    ("rules", "chosen"),
    [
        ([{"Variable": "$.x", "IsPresent": False}], "Y"),
        ([{"Variable": "$.x", "IsPresent": True}], "D"),
        # the guard before the comparison: And stops at the first false rule
        (
            [
                {
                    "And": [
                        {"Variable": "$.x", "IsPresent": True},
                        {"Variable": "$.x", "StringEquals": "a"},
                    ]
                }
            ],
            "D",
        ),
        (
            [
                {
                    "Or": [
                        {"Variable": "$.x", "IsPresent": False},
                        {"Variable": "$.x", "IsNull": True},
                    ]
                }
            ],
            "Y",
        ),
        # a rule after the one that matched is never read
        (
            [{"Variable": "$.present", "StringEquals": "a"}, {"Variable": "$.x", "IsNull": True}],
            "Y",
        ),
        # a field that is there with null is a value, not a missing field
        ([{"Variable": "$.empty", "StringEquals": "a"}], "D"),
        ([{"Variable": "$.empty", "IsNull": True}], "Y"),
    ],
)
def test_a_missing_field_guarded_or_never_read_does_not_fail(kept, rules, chosen):
    execution = run(choosing(*rules), MISSING)
    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"]) == {"to": chosen}


def runtime_error_in_parallel() -> dict[str, Any]:
    missing = {
        "StartAt": "X",
        "States": {"X": {"Type": "Pass", "InputPath": "$.missing", "End": True}},
    }
    parallel = {"Type": "Parallel", "Branches": [missing], "End": True}
    return {"StartAt": "Par", "States": {"Par": parallel}}


def named_states(cause: str) -> list[str]:
    return re.findall(r"An error occurred while executing the state '([^']*)'", cause)


def test_the_pinned_moto_names_the_failing_state_again_at_each_map():
    # What states_errors_kept changes: moto prefixes a States.Runtime cause with the state
    # it crosses, a Map's iteration frame naming none ('None'), even when it has a prefix
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEventException,
    )

    inner = "An error occurred while executing the state 'X' (entered at the event id #6). boom"
    crossing = FailureEventException.__new__(FailureEventException)
    crossing.failure_event = SimpleNamespace(
        state_name=None,
        source_event_id=6,
        event_details={"executionFailedEventDetails": {"error": "States.Runtime", "cause": inner}},
    )
    assert named_states(crossing.get_execution_failed_event_details()["cause"]) == ["None", "X"]


@pytest.mark.parametrize(
    "definition", [runtime_error_in_map("iteration"), runtime_error_in_parallel()]
)
def test_a_runtime_cause_names_the_state_that_failed_once(kept, definition):
    # AWS adds the prefix once, at the innermost state (measured in floci-io/floci#3167)
    execution = run(definition, GIVEN)
    assert execution["error"] == "States.Runtime"
    assert named_states(execution["cause"]) == ["X"]
    assert execution["cause"].endswith(
        "Invalid path '$.missing' : No results for path: $['missing']"
    )


def test_a_cause_the_workflow_wrote_is_kept_as_it_is(kept):
    # A Fail state's own cause that reads like moto's prefix is the user's text: not cut
    cause = (
        "An error occurred while executing the state 'A' (entered at the event id #1). "
        "An error occurred while executing the state 'B' (entered at the event id #2). mine"
    )
    failing = {
        "StartAt": "F",
        "States": {"F": {"Type": "Fail", "Error": "MyError", "Cause": cause}},
    }
    execution = run(in_map(failing, "Other"), GIVEN)
    assert (execution["error"], execution["cause"]) == ("MyError", cause)


def test_a_state_named_with_a_quote_is_named_once(kept):
    missing = {
        "StartAt": "X's",
        "States": {"X's": {"Type": "Pass", "InputPath": "$.missing", "End": True}},
    }
    parallel = {"Type": "Parallel", "Branches": [missing], "End": True}
    execution = run({"StartAt": "Bob's", "States": {"Bob's": parallel}}, GIVEN)
    assert execution["cause"].count("An error occurred while executing the state") == 1
    assert execution["cause"].startswith("An error occurred while executing the state 'X's'")


def test_the_pinned_moto_compares_a_variable_in_two_steps():
    # states_errors_kept runs ComparisonVariable's body itself, with its checks between
    # the two steps: if moto's body grows, this fails and the patch is reconciled
    import inspect

    from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison_variable import (  # noqa: E501
        ComparisonVariable,
    )

    lines = inspect.getsource(ComparisonVariable._eval_body).splitlines()[1:]
    assert [line.strip() for line in lines if line.strip()] == [
        "variable: Variable = self.variable",
        "variable.eval(env)",
        "comparison_function: ComparisonFunc = self.comparison_function",
        "comparison_function.eval(env)",
    ]
