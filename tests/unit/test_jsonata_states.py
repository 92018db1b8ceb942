"""mlwf.offline.jsonata_states: JSONata evaluated as Step Functions evaluates it, and the moto
internals it relies on, pinned (a moto upgrade that changes them fails here first)."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest
from moto.stepfunctions.parser.asl.component.intrinsic.jsonata import (
    _DECLARATION_BY_VARIABLE_REFERENCE,
)
from moto.stepfunctions.parser.asl.jsonata.jsonata import (
    JSONataException,
    eval_jsonata_expression,
)

from mlwf.offline.jsonata_states import HASH_ALGORITHMS, evaluate, jsonata_evaluated


def test_the_pinned_moto_cannot_evaluate_jsonata_by_itself():
    # What jsonata_evaluated fills in; once moto evaluates JSONata, the patch can go.
    with pytest.raises(TypeError, match="'NoneType' object is not callable"):
        eval_jsonata_expression("1 + 1")


def test_the_pinned_moto_declares_stand_ins_for_hash_uuid_and_parse():
    # What jsonata_evaluated takes out while it runs, and puts back after.
    for name in ("$hash", "$uuid"):
        assert "is currently not supported" in _DECLARATION_BY_VARIABLE_REFERENCE[name]
    assert "$eval(" in _DECLARATION_BY_VARIABLE_REFERENCE["$parse"]  # JSONata, not JSON
    with jsonata_evaluated():
        for name in ("$hash", "$uuid", "$parse"):
            assert name not in _DECLARATION_BY_VARIABLE_REFERENCE
        assert "$partition" in _DECLARATION_BY_VARIABLE_REFERENCE  # moto's real ones stay
        assert eval_jsonata_expression("($x := 2; $x * 3)") == 6
    assert "$uuid" in _DECLARATION_BY_VARIABLE_REFERENCE
    with pytest.raises(TypeError):
        eval_jsonata_expression("1 + 1")


@pytest.mark.parametrize("algorithm", sorted(HASH_ALGORITHMS))
def test_hash_answers_each_documented_algorithm(algorithm):
    expected = hashlib.new(HASH_ALGORITHMS[algorithm], b"bicycle").hexdigest()
    assert evaluate(f"$hash('bicycle', '{algorithm}')") == expected


def test_an_unknown_hash_algorithm_is_a_query_evaluation_error():
    with pytest.raises(JSONataException) as raised:
        evaluate("$hash('bicycle', 'SHA-3')")
    assert "MD5, SHA-1, SHA-256, SHA-384, SHA-512" in str(raised.value.details)


def test_random_with_a_seed_gives_awss_number_and_without_one_does_not_have_to():
    # AWS's $random(42), measured in floci-io/floci#2662; 0.730967787376657 is Java's
    # documented new Random(0).nextDouble()
    assert evaluate("$random(42)") == 0.7275636800328681
    assert evaluate("$random(0)") == 0.730967787376657
    assert 0 <= evaluate("$random()") < 1


def test_eval_is_left_out_as_aws_leaves_it_out():
    # transforming-data.html: "$eval is not available"; AWS fails it with T1006
    # (floci-io/floci#2737)
    with pytest.raises(JSONataException) as raised:
        evaluate('$eval("1 + 1")')
    assert raised.value.error == "T1006"


def test_a_jsonata_error_keeps_jsonatas_code():
    with pytest.raises(JSONataException) as raised:
        evaluate("'bicycle' + 1")
    assert raised.value.error == "T2001"
    assert raised.value.details.startswith("T2001: The left side of the + operator")


def test_a_python_error_inside_the_port_is_a_query_evaluation_error_too():
    # jsonata-python raises a bare ValueError where JSONata raises D3030
    with pytest.raises(JSONataException) as raised:
        evaluate("$number('bicycle')")
    assert raised.value.error == "ValueError"


def test_results_are_plain_json_values():
    assert evaluate("{'a': [1, 2.5, 'x', true, null]}") == {"a": [1, 2.5, "x", True, None]}
    assert evaluate("$states") is None  # undefined: moto's own check then fails the state


def test_parse_reads_json_not_jsonata():
    assert evaluate("$parse('{\"a\": [1, true]}')") == {"a": [1, True]}
    for text in ("'1+1'", "'$now()'", "'hello'", "42"):
        with pytest.raises(JSONataException) as raised:
            evaluate(f"$parse({text})")
        assert raised.value.error == "QueryEvaluationError", text


@pytest.mark.parametrize("seed", ["'abc'", "1.5", "true"])
def test_random_takes_only_an_integer_seed(seed):
    assert evaluate("$random(7.0)") == evaluate("$random(7)")
    with pytest.raises(JSONataException) as raised:
        evaluate(f"$random({seed})")
    assert "integer" in str(raised.value.details)


def test_hash_without_its_algorithm_names_what_is_missing():
    with pytest.raises(JSONataException) as raised:
        evaluate("$hash('bicycle')")
    assert raised.value.error == "QueryEvaluationError"
    assert "algorithm must be one of" in str(raised.value.details)


def test_a_function_is_no_result():
    # JSON has no value for a function: a query evaluation error, not a broken output
    for expression in ("function($x){$x}", "{'f': $uppercase}"):
        with pytest.raises(JSONataException) as raised:
            evaluate(expression)
        assert raised.value.error == "UnsupportedResultType"


def test_a_failing_expression_is_found_in_its_state_as_aws_names_the_field(aws):
    # expression_field reads the running machine's definition from moto: a real one here
    import json

    import boto3

    from mlwf.offline.jsonata_states import expression_field
    from tests.helpers.executions import wait_until_ended

    state = {
        "Type": "Pass",
        "Assign": {"x": "{% 1 %}"},
        "Output": {"a": {"b": ["{% 2 %}", "{%  $states.input.n + 1  %}"]}},
        "End": True,
    }
    definition = {"QueryLanguage": "JSONata", "StartAt": "E", "States": {"E": state}}
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    arn = sfn.create_state_machine(
        name="fields", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/r"
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input='{"n": 1}')["executionArn"]
    wait_until_ended(sfn, execution)
    context = {
        "Execution": {"Id": execution},
        "StateMachine": {"Id": arn, "Name": "fields"},
        "State": {"Name": "E"},
    }
    env = SimpleNamespace(
        states=SimpleNamespace(context_object=SimpleNamespace(context_object_data=context)),
        aws_execution_details=SimpleNamespace(account="123456789012", region="us-east-1"),
    )
    assert expression_field(env, "$states.input.n + 1") == "Output/a/b[1]"
    assert expression_field(env, "1") == "Assign/x"
    assert expression_field(env, "3") is None  # not in the state: the cause goes without


def test_an_expression_giving_nothing_names_its_field_as_aws_does(aws):
    import boto3

    from tests.helpers.executions import run_to_end

    state = {"Type": "Pass", "Output": {"v": "{% $states.input.nope %}"}, "End": True}
    definition = {"QueryLanguage": "JSONata", "StartAt": "E", "States": {"E": state}}
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    with jsonata_evaluated():
        ended = run_to_end(sfn, definition, name="nothing")
    # AWS's words (floci-io/floci#2745); moto's said no field
    assert ended["cause"].endswith(
        "The JSONata expression '$states.input.nope' specified for the field 'Output/v' "
        "returned nothing (undefined)."
    )


def test_the_pinned_moto_check_of_a_result_writes_its_event_itself():
    # mlwf.offline.jsonata_states._naming calls the two checks moto's function is made of,
    # and writes the event once itself: when moto's body changes, look again
    import inspect

    from moto.stepfunctions.parser.asl.jsonata import validations

    body = inspect.getsource(validations.validate_jsonata_expression_output)
    for part in ("_validate_null_output", "_validate_string_output", "add_event", "raise ex"):
        assert part in body
