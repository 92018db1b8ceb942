"""An EventBridge rule's pattern is checked at PutRule as EventBridge checks it
(mlwf/offline/event_patterns.py)."""

from __future__ import annotations

import json
import re

import boto3
import pytest
from botocore.exceptions import ClientError

from mlwf.offline.event_patterns import event_patterns_checked
from tests.helpers.paths import REGION

UPLOAD = {"source": ["aws.s3"], "detail-type": ["Object Created"]}


def with_key(*matches: object) -> dict:
    return {**UPLOAD, "detail": {"object": {"key": list(matches)}}}


def put(pattern: dict) -> None:
    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name="upload", EventPattern=json.dumps(pattern))


@pytest.fixture
def checked(aws):
    with event_patterns_checked():
        yield


def test_the_pinned_moto_takes_an_unknown_operator_and_matches_everything_with_it(aws):
    # What event_patterns_checked adds; once moto refuses these itself, it can go.
    from moto.events.models import EventPattern

    put(with_key({"sufix": ".png"}))
    put(with_key({"wildcard": "incoming/**.png"}))
    event = {"source": "aws.s3", "detail-type": "Object Created", "detail": {"object": {}}}
    event["detail"]["object"]["key"] = "other/x.txt"
    assert EventPattern.load(json.dumps(with_key({"sufix": ".png"}))).matches_event(event)


@pytest.mark.parametrize(
    ("match", "reason"),
    [
        ({"sufix": ".png"}, "Unrecognized match type sufix"),
        ({"suffix": [".png"]}, "suffix match pattern must be a string"),  # aws/aws-cdk#32492
        ({"prefix": 7}, "prefix match pattern must be a string"),
        ({"equals-ignore-case": ["a"]}, "equals-ignore-case match pattern must be a string"),
        ({"exists": "yes"}, "exists match pattern must be either true or false."),
        ({"numeric": ">"}, "Value of numeric must be an array."),
        ({"wildcard": "incoming/**.png"}, "Consecutive wildcard characters at pos 10"),
        ({"wildcard": 3}, "wildcard match pattern must be a string"),
        ({"anything-but": {"sufix": ".png"}}, "Unsupported anything-but pattern: sufix"),
        ({"prefix": "a", "suffix": "b"}, "Only one key allowed in match expression"),
        (["incoming/"], "Match value must be String, number, true, false, or null"),
        # what moto took and then crashed on, in PutEvents or an upload (a review found them)
        ({"numeric": ["==", 5]}, "Unrecognized numeric range operator: =="),
        ({"numeric": [">", "x"]}, "Value of > must be numeric"),
        ({"numeric": ["=", 3, "<", 5]}, "Too many elements in numeric expression"),
        ({"numeric": [">=", 1, ">", 2]}, "Bad numeric range operator: >"),
        ({"prefix": {"equals-ignore-case": 5}}, "prefix match pattern must be a string"),
        ({"anything-but": {"prefix": 5}}, "prefix/suffix match pattern must be a string"),
        ({"wildcard": "a\\b"}, "Invalid escape character at pos 2"),
    ],
)
def test_a_pattern_eventbridge_cannot_read_is_refused_at_put_rule(checked, match, reason):
    with pytest.raises(ClientError) as refused:
        put(with_key(match))
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidEventPatternException"
    assert error["Message"] == f"Event pattern is not valid. Reason: {reason}"


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ([], "Filter is not an object"),
        (None, "Filter is not an object"),
        ({**UPLOAD, "detail": {}}, "Empty objects are not allowed"),
        ({**UPLOAD, "$or": [{"detail": {"x": ["a"]}}]}, "There must have at least 2 Objects"),
    ],
)
def test_a_pattern_of_the_wrong_shape_is_refused(checked, pattern, reason):
    with pytest.raises(ClientError, match=re.escape(reason)):
        put(pattern)


def test_a_refusal_inside_an_or_is_found(checked):
    pattern = {**UPLOAD, "$or": [{"detail": {"x": ["a"]}}, {"detail": {"y": [{"sufix": "b"}]}}]}
    with pytest.raises(ClientError, match="Unrecognized match type sufix"):
        put(pattern)


@pytest.mark.parametrize(
    "match",
    [
        "incoming/x.png",
        7,
        None,
        True,
        {"prefix": "incoming/"},
        {"prefix": {"equals-ignore-case": "INCOMING/"}},
        {"suffix": ".png"},
        {"suffix": {"equals-ignore-case": ".PNG"}},
        {"equals-ignore-case": "incoming/x.png"},
        {"anything-but": "a"},
        {"anything-but": ["a", "b"]},
        {"anything-but": {"prefix": "tmp/"}},
        {"anything-but": {"equals-ignore-case": ["A", "B"]}},
        {"anything-but": {"wildcard": "tmp/*"}},
        {"exists": False},
        {"numeric": [">", 0, "<=", 5]},
        {"cidr": "10.0.0.0/24"},
        {"wildcard": "incoming/*.png"},
        {"wildcard": "a\\**"},  # an escaped * then a wildcard: not two wildcards
        {"numeric": [">", 0, "<=", 5]},
        {"anything-but": {"prefix": ["tmp/", "old/"]}},
    ],
)
def test_every_documented_operator_is_taken(checked, match):
    put(with_key(match))  # eb-create-pattern-operators.html's forms


def test_the_projects_upload_rule_is_taken(checked):
    from mlwf.offline.template import load_template
    from tests.helpers.paths import PROJECT_ROOT

    for rule in load_template(PROJECT_ROOT / "template.yaml").rules.values():
        put(rule.event_pattern)


def test_the_pinned_moto_answers_test_event_pattern_with_nothing(aws):
    events = boto3.client("events", region_name=REGION)
    answer = events.test_event_pattern(EventPattern=json.dumps(UPLOAD), Event=json.dumps({}))
    assert "Result" not in answer


def upload_event(key: str) -> str:
    return json.dumps(
        {
            "id": "1",
            "account": "123456789012",
            "source": "aws.s3",
            "time": "2026-12-01T00:00:00Z",
            "region": REGION,
            "resources": [],
            "detail-type": "Object Created",
            "detail": {"object": {"key": key}},
        }
    )


@pytest.mark.parametrize(("key", "matched"), [("incoming/x.png", True), ("dataset/x.png", False)])
def test_test_event_pattern_answers_whether_the_event_matches(checked, key, matched):
    events = boto3.client("events", region_name=REGION)
    pattern = json.dumps(with_key({"prefix": "incoming/"}))
    answer = events.test_event_pattern(EventPattern=pattern, Event=upload_event(key))
    assert answer["Result"] is matched


def test_test_event_pattern_refuses_a_pattern_put_rule_refuses(checked):
    events = boto3.client("events", region_name=REGION)
    pattern = json.dumps(with_key({"sufix": ".png"}))
    with pytest.raises(ClientError, match="Unrecognized match type sufix"):
        events.test_event_pattern(EventPattern=pattern, Event=upload_event("incoming/x.png"))
