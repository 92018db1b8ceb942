"""CloudWatch Logs filter patterns offline (mlwf.offline.log_filter_patterns): moto let every
event through any pattern but plain words, a pattern with a syntax error too."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from mlwf.offline.log_filter_patterns import FilterPattern, filter_patterns_as_aws
from tests.helpers.paths import REGION

ERROR_LINE = {"level": "ERROR", "message": "x", "latency": 600, "user": {"id": "123.45"}}
ERROR_LINE |= {"ok": True, "none": None, "items": [1, "a"]}
INFO_LINE = {"level": "INFO", "message": "y", "latency": 100, "ok": False}
MESSAGES = [
    json.dumps(ERROR_LINE),  # 0: Powertools' structured lines
    json.dumps(INFO_LINE),  # 1
    "START RequestId: 1 Version: $LATEST",  # 2: Lambda's own
    "REPORT RequestId: 1 Duration: 5 ms",  # 3
    "[ERROR] Task timed out after 3.00 seconds",  # 4
]


@pytest.mark.parametrize(
    "pattern, matched",
    [
        ('{ $.level = "ERROR" }', [0]),
        ("{ $.level = ERROR }", [0]),  # unquoted, as { $.sourceIPAddress != 123.123.* }
        ("{ $.latency > 500 }", [0]),
        ("{ $.user.id = 123.* }", [0]),  # the wildcard
        ("{ $.none IS NULL }", [0]),
        ("{ $.ok IS TRUE }", [0]),
        ("{ $.ok IS FALSE }", [1]),
        ("{ $.absent NOT EXISTS }", [0, 1]),  # JSON events only
        ('{ ($.level = "INFO") || ($.latency >= 600) }', [0, 1]),
        ('{ $.level != "ERROR" && $.latency < 200 }', [1]),
        ('{ $.items[1] = "a" }', [0]),
        ("{ $.absent != 1 }", []),  # a comparison needs the property
        ("REPORT", [3]),
        ("?REPORT ?START", [2, 3]),
        ("ERROR -Task", [0]),
        ('"Task timed out"', [4]),
        ("%Duration: [0-9]+%", [3]),
        ("", [0, 1, 2, 3, 4]),
    ],
)
def test_a_pattern_matches_what_cloudwatch_logs_matches(pattern, matched):
    found = FilterPattern(pattern)
    assert [i for i, message in enumerate(MESSAGES) if found.matches(message)] == matched


@pytest.fixture
def logs(aws) -> Iterator[Any]:
    client = boto3.client("logs", region_name=REGION)
    client.create_log_group(logGroupName="g")
    client.create_log_stream(logGroupName="g", logStreamName="s")
    now = int(time.time() * 1000)
    events = [{"timestamp": now + i, "message": m} for i, m in enumerate(MESSAGES)]
    client.put_log_events(logGroupName="g", logStreamName="s", logEvents=events)
    return client


def messages(logs: Any, pattern: str) -> list[str]:
    return [
        e["message"]
        for e in logs.filter_log_events(logGroupName="g", filterPattern=pattern)["events"]
    ]


def test_the_pinned_moto_lets_every_event_through_a_json_pattern(logs):
    assert len(messages(logs, '{ $.level = "ERROR" }')) == len(MESSAGES)


def test_filter_log_events_matches_with_the_pattern(logs):
    with filter_patterns_as_aws():
        assert messages(logs, '{ $.level = "ERROR" }') == [MESSAGES[0]]
        assert messages(logs, "?REPORT ?START") == MESSAGES[2:4]


@pytest.mark.parametrize("pattern", ["{ $.level = ", "{ level = 1 }", '{ $.a > "x" }', "%(%"])
def test_a_pattern_that_does_not_parse_is_refused(logs, pattern):
    with filter_patterns_as_aws(), pytest.raises(logs.exceptions.InvalidParameterException):
        logs.filter_log_events(logGroupName="g", filterPattern=pattern)


def test_a_space_delimited_pattern_is_named_as_not_modelled(logs):
    with filter_patterns_as_aws(), pytest.raises(NotImplementedError, match="space-delimited"):
        logs.filter_log_events(logGroupName="g", filterPattern="[ip, user, ...]")
