"""mlwf/offline/wait_timestamps.py: RFC 3339 date-times as AWS's Wait state takes them, and
moto's Timestamp failure that the patch replaces, pinned."""

from __future__ import annotations

import inspect

import pytest

from mlwf.offline.wait_timestamps import is_rfc3339, timestamp_diagnostics


@pytest.mark.parametrize(
    ("text", "taken"),
    [
        ("2016-03-14T01:59:00Z", True),
        ("2016-03-05T21:29:29.243167252Z", True),  # nanoseconds: taken, as recorded
        ("2016-03-14T01:59:00+02:00", True),
        ("2016-12-05 21:29:29Z", False),
        ("2016-12-05T21:29:29", False),
        ("2016-13-05T21:29:29Z", False),
        ("2016-12-05T25:29:29Z", False),
        ("05-12-2016T21:29:29Z", False),
        ("2016-02-30T00:00:00Z", False),
    ],
)
def test_rfc3339_date_times(text, taken):
    assert is_rfc3339(text) is taken


def test_a_jsonata_expression_is_left_to_run_time_and_a_json_path_one_is_refused():
    wait = {"Type": "Wait", "Timestamp": "{% $states.input.t %}"}
    assert timestamp_diagnostics(wait, "/States/W", "JSONata") == []
    assert timestamp_diagnostics(wait, "/States/W", "JSONPath") == [
        "SCHEMA_VALIDATION_FAILED: String does not match RFC3339 timestamp at /States/W/Timestamp"
    ]


def test_the_pinned_moto_fails_a_timestamp_value_as_states_runtime():
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import (
        Timestamp,
    )

    failing = inspect.getsource(Timestamp._create_failure_event)
    assert "StatesRuntime" in failing and "The Timestamp parameter does not reference" in failing


def test_the_pinned_moto_waits_any_delay_its_timestamp_gives():
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import (
        Timestamp,
    )

    seconds = inspect.getsource(Timestamp.__dict__["_get_wait_seconds"])
    # its one failure is a timestamp that does not parse; no delay is too long for it
    assert "delta_sec = int(delta.total_seconds())" in seconds
    assert seconds.count("raise ") == 1 and "_create_failure_event" in seconds
