"""EventBridge's PutEvents refuses a Detail that is no JSON object, and a PutEvents task's
FailedEntry cause is JSON (mlwf.offline.event_details)."""

from __future__ import annotations

import json
import warnings

import boto3

from mlwf.offline.event_details import event_details_as_aws, failed_entry_cause, malformed


def entry(detail: str, **more: str) -> dict:
    return {"Source": "s", "DetailType": "d", "Detail": detail, **more}


def test_a_detail_that_is_json_but_no_object_is_malformed():
    assert malformed(entry('"jsonstring"'))
    assert malformed(entry("[1, 2]"))
    assert not malformed(entry('{"a": 1}'))
    assert not malformed(entry("not json"))  # moto's own MalformedDetail
    assert not malformed({"DetailType": "d", "Detail": '"x"'})  # moto's InvalidArgument first


def test_the_cause_is_compact_json_entries_first():
    answer = {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "MalformedDetail"}]}
    assert failed_entry_cause(answer) == (
        '{"Entries":[{"ErrorCode":"MalformedDetail"}],"FailedEntryCount":1}'
    )


def test_the_pinned_moto_takes_a_detail_that_is_no_object(aws):
    # What the patch is for; when this fails, moto refuses it: compare its answer with AWS's
    events = boto3.client("events", region_name="us-east-1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        answer = events.put_events(Entries=[entry('"jsonstring"')])
    assert answer["FailedEntryCount"] == 0


def test_put_events_answers_malformed_detail_for_that_entry_alone(aws):
    events = boto3.client("events", region_name="us-east-1")
    with event_details_as_aws():
        answer = events.put_events(Entries=[entry('{"a": 1}'), entry('"jsonstring"')])
    assert answer["FailedEntryCount"] == 1
    assert "EventId" in answer["Entries"][0]
    assert answer["Entries"][1] == {
        "ErrorCode": "MalformedDetail",
        "ErrorMessage": "Detail is malformed.",
    }
    assert json.loads(failed_entry_cause(answer))["FailedEntryCount"] == 1
