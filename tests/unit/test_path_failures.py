"""mlwf/offline/path_failures.py: a path that names nothing, worded as Jayway JsonPath words it
for Step Functions, and the state's entered event named in a States.Runtime cause; each
pinned to what moto 5.2.5 says without the patch (LocalStack's recordings of AWS:
test_invalid_jsonpath, test_catch_states_runtime)."""

from __future__ import annotations

import json

import boto3
import pytest

from mlwf.offline.path_failures import jayway_words, path_failures_as_aws
from tests.helpers.executions import run_to_end
from tests.helpers.paths import REGION

# A Parallel whose branch runs (events 3-7), then whose OutputPath names nothing: the
# failure comes several events after the state was entered (event 2)
PARALLEL = {
    "StartAt": "P",
    "States": {
        "P": {
            "Type": "Parallel",
            "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}],
            "OutputPath": "$[0].no.such",
            "End": True,
        }
    },
}


def run(definition: dict, given: object) -> dict:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    return run_to_end(sfn, definition, json.dumps(given))


def test_the_pinned_moto_names_the_latest_event_and_the_path_as_one_name(aws):
    ended = run(PARALLEL, {})
    assert ended["cause"] == (
        "An error occurred while executing the state 'P' (entered at the event id #5). "
        "Invalid path '$[0].no.such' : No results for path: $['0].no.such']"
    )


def test_the_cause_names_the_entered_event_and_the_missing_property(aws):
    with path_failures_as_aws():
        ended = run(PARALLEL, {})
    assert ended["cause"] == (
        "An error occurred while executing the state 'P' (entered at the event id #2). "
        "Invalid path '$[0].no.such' : Missing property in path $[0]['no']"
    )


@pytest.mark.parametrize(
    ("path", "data", "words"),
    [
        ("$.NoSuchOutputPath", {}, "No results for path: $['NoSuchOutputPath']"),
        ("$.no.such.result.path", {}, "Missing property in path $['no']"),
        ("$.a.b", {"a": {}}, "No results for path: $['a']['b']"),
        ("$.a[0].b", {"a": [{}]}, "No results for path: $['a'][0]['b']"),
        (
            "$.a.b",
            {"a": "text"},
            None,
        ),  # Jayway's words for a value that is no object: not recorded
        ("$.a[5]", {"a": [1]}, None),  # an index past the end: not recorded
        ("$..a", {}, None),  # an indefinite path gives [] (mlwf.offline.json_paths)
    ],
)
def test_jayway_words_for_a_definite_path_that_names_nothing(path, data, words):
    assert jayway_words(path, data) == words
