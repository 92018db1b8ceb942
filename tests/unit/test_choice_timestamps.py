"""mlwf/offline/choice_timestamps.py: a Choice rule's Timestamp comparisons read RFC 3339
date-times (fractional seconds, offsets) as the States Language has them, and the moto
internal the patch replaces, pinned."""

from __future__ import annotations

import inspect
import json

import boto3
import pytest

from mlwf.offline.choice_timestamps import choice_timestamp, choice_timestamps_as_aws
from mlwf.offline.context_objects import context_objects_as_aws
from mlwf.offline.moto_patches import stops_as_aws
from tests.helpers.executions import run_to_end


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("2016-03-14T01:59:00Z", True),
        ("2016-03-14T01:59:00.5Z", True),
        ("2016-03-05T21:29:29.243167252Z", True),
        ("2016-03-14T01:59:00+02:00", True),
        ("2016-03-14t01:59:00Z", False),  # the spec's uppercase T
        ("2016-03-14T01:59:00z", False),  # and uppercase Z
        ("2016-03-14T01:59:00", False),
        ("2023-02-24 12:15:56.832957", False),
        ("2016-13-05T21:29:29Z", False),
        (1, False),
    ],
)
def test_rfc3339_date_times_with_the_specs_restrictions(text, read):
    assert (choice_timestamp(text) is not None) is read


def test_an_offset_is_read_as_the_instant_it_names():
    assert choice_timestamp("2016-03-14T03:59:00+02:00") == choice_timestamp("2016-03-14T01:59:00Z")


def machine(rule: dict) -> dict:
    rules = [{"Variable": "$.t", **rule, "Next": "Matched"}]
    return {
        "StartAt": "C",
        "States": {
            "C": {"Type": "Choice", "Choices": rules, "Default": "Default"},
            "Matched": {"Type": "Pass", "Result": {"took": "matched"}, "End": True},
            "Default": {"Type": "Pass", "Result": {"took": "default"}, "End": True},
        },
    }


@pytest.fixture
def sfn(aws):
    with stops_as_aws(), context_objects_as_aws(), choice_timestamps_as_aws():
        yield boto3.client("stepfunctions", region_name="us-east-1")


@pytest.mark.parametrize(
    ("given", "rule"),
    [
        ("2016-03-14T01:59:00.500Z", {"TimestampGreaterThan": "2016-03-14T01:59:00Z"}),
        ("2016-03-14T03:59:00+02:00", {"TimestampEquals": "2016-03-14T01:59:00Z"}),
        ("2016-03-14T01:59:00Z", {"TimestampLessThan": "2016-03-14T01:59:00.001Z"}),
        ("2016-03-14T01:59:00.123Z", {"IsTimestamp": True}),
    ],
)
def test_a_comparison_of_such_a_time_is_made(sfn, given, rule):
    ended = run_to_end(sfn, machine(rule), json.dumps({"t": given}))
    assert json.loads(ended["output"]) == {"took": "matched"}


def test_a_choice_on_the_executions_start_time_is_made(sfn):
    # Given a Choice on $$.Execution.StartTime, which AWS gives with milliseconds
    definition = machine({"TimestampGreaterThan": "2020-01-01T00:00:00Z"})
    definition["States"]["C"]["Choices"][0]["Variable"] = "$$.Execution.StartTime"
    # When it runs, then the rule matches (moto read no milliseconds: the Default ran)
    assert json.loads(run_to_end(sfn, definition)["output"]) == {"took": "matched"}


def test_the_pinned_moto_reads_seconds_and_z_only():
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.is_operator import (  # noqa: E501
        IsTimestamp,
    )

    assert IsTimestamp.TIMESTAMP_FORMAT == "%Y-%m-%dT%H:%M:%SZ"
    assert "IsTimestamp.TIMESTAMP_FORMAT" in inspect.getsource(IsTimestamp.string_to_timestamp)
