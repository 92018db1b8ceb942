"""JSONPath results shaped as Step Functions shapes them (mlwf.offline.json_paths): one value
for a definite path, an array of every match, possibly empty, for any other; and moto's own
shaping pinned, so that the patch goes when moto agrees with AWS."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from jsonpath_ng.ext import parse

from mlwf.offline.json_paths import extract_json, is_definite, json_paths_as_aws, moto_bindings
from tests.helpers.executions import run_to_end

DATA = {"arr": [{"x": 1, "n": "a"}, {"x": 2, "n": "b"}], "one": [{"x": 7}], "a": {"b": 3}}


@pytest.mark.parametrize(
    "path, definite",
    [
        ("$", True),
        ("$.a.b", True),
        ("$.arr[0].x", True),
        ("$[0]", True),
        ("$.arr[-1]", True),
        ("$['a']", True),
        ("$.arr[*].x", False),
        ("$.*", False),
        ("$..x", False),
        ("$.arr[0:1]", False),
        ("$.arr[0,1]", False),
        ("$['a','one']", False),
        ("$.arr[?(@.n == 'a')].x", False),
    ],
)
def test_a_definite_path_is_single_names_and_single_indexes(path, definite):
    assert is_definite(parse(path)) is definite


@pytest.mark.parametrize(
    "path, value",
    [
        ("$.arr[0].x", 1),  # moto: [1]
        ("$.arr[1]", {"x": 2, "n": "b"}),
        ("$.a.b", 3),
        ("$.one[*].x", [7]),  # one match of an indefinite path: still an array
        ("$..b", [3]),  # moto: 3
        ("$.arr[?(@.n == 'b')].x", [2]),
        ("$.arr[?(@.n == 'z')].x", []),  # moto: NoSuchJsonPathError
        ("$.missing[*]", []),
    ],
)
def test_the_result_is_shaped_as_step_functions_shapes_it(path, value):
    assert extract_json(path, DATA) == value


def test_a_definite_path_that_names_nothing_fails_as_moto_reports_it():
    from moto.stepfunctions.parser.asl.utils.json_path import NoSuchJsonPathError

    with pytest.raises(NoSuchJsonPathError):
        extract_json("$.arr[5].x", DATA)


def test_the_pinned_moto_wraps_a_definite_path_after_an_index_in_a_list():
    # moto's own shaping, which the patch replaces: when this fails, moto has changed,
    # and the patch may be needless
    from moto.stepfunctions.parser.asl.utils import json_path

    assert json_path.extract_json("$.arr[0].x", DATA) == [1]
    assert json_path.extract_json("$..b", DATA) == 3


def test_every_binding_of_motos_extract_json_is_replaced_and_put_back():
    bindings = moto_bindings()
    assert len(bindings) >= 5  # the module, the evaluator, the payloads, Choice, intrinsics
    with json_paths_as_aws():
        assert all(getattr(module, name) is extract_json for module, name in bindings)
        assert moto_bindings() == []  # none left holding moto's
    assert moto_bindings() == bindings


def run(definition: dict[str, Any], given: Any) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    return run_to_end(sfn, definition, json.dumps(given))


def test_a_state_reads_the_value_a_definite_path_names(aws):
    pass_state = {
        "Type": "Pass",
        "Parameters": {"first.$": "$.arr[0].x", "names.$": "$.arr[*].n"},
        "End": True,
    }
    definition = {"StartAt": "P", "States": {"P": pass_state}}
    with json_paths_as_aws():
        ended = run(definition, DATA)
    assert json.loads(ended["output"]) == {"first": 1, "names": ["a", "b"]}


def test_a_choice_compares_the_value_after_an_index(aws):
    # a Parallel's result is an array; a Choice on its first branch's score
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$[0].score", "NumericGreaterThan": 0.5, "Next": "High"}],
                "Default": "Low",
            },
            "High": {"Type": "Succeed"},
            "Low": {"Type": "Fail", "Error": "Low"},
        },
    }
    with json_paths_as_aws():
        assert run(definition, [{"score": 0.9}])["status"] == "SUCCEEDED"
    assert run(definition, [{"score": 0.9}])["status"] == "FAILED"  # moto alone: the Default


def test_the_states_languages_own_parameters_example():
    # states-language.net's Parameters example (quoted in awslabs/states-language#12)
    given = {"flagged": 7, "vals": [0, 10, 20, 30, 40, 50]}
    assert extract_json("$.vals[0]", given) == 0
    assert extract_json("$.vals[3:]", given) == [30, 40, 50]


def test_a_path_is_parsed_once_and_its_parse_gives_the_same_results():
    from mlwf.offline.json_paths import parsed

    parsed.cache_clear()
    for _ in range(3):
        assert extract_json("$.arr[1].x", DATA) == 2
        assert extract_json("$.arr[*].x", DATA) == [1, 2]
    assert (parsed.cache_info().misses, parsed.cache_info().hits) == (2, 4)
