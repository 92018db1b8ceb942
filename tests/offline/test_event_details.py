"""An optimized events:putEvents task fails as Step Functions fails it: a FailedEntry with
PutEvents' answer as JSON, a denial named after EventBridge's exception
(mlwf.offline.event_details)."""

from __future__ import annotations

import json

import pytest

from mlwf.offline.runtime import OfflineStack
from tests.helpers.definitions import one_task_machine
from tests.helpers.executions import run_to_end, wait_until_ended

pytestmark = pytest.mark.offline


def put(entries: list) -> dict:
    return one_task_machine(
        "Put", "arn:aws:states:::events:putEvents", Parameters={"Entries": entries}
    )


def test_put_events_failures_are_named_and_worded_as_aws():
    with OfflineStack.start(say=lambda _: None) as stack:
        # Given a Detail that is JSON but no object (moto delivered it)
        malformed = run_to_end(
            stack.sfn, put([{"Detail": '"x"', "DetailType": "d", "Source": "s"}])
        )
        # And a machine whose role may not put events (moto failed it with States.Runtime)
        role = stack.spec.state_machines["ImageClassificationStateMachine"].role_arn
        arn = stack.sfn.create_state_machine(
            name="denied",
            definition=json.dumps(put([{"Detail": {"a": 1}, "DetailType": "d", "Source": "s"}])),
            roleArn=role,
        )["stateMachineArn"]
        denied = wait_until_ended(
            stack.sfn, stack.sfn.start_execution(stateMachineArn=arn)["executionArn"]
        )
    # Then the first is a FailedEntry whose cause is PutEvents' answer as JSON, as recorded
    assert (malformed["status"], malformed["error"]) == ("FAILED", "EventBridge.FailedEntry")
    assert json.loads(malformed["cause"]) == {
        "Entries": [{"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}],
        "FailedEntryCount": 1,
    }
    # And the second a task failure named after EventBridge's exception
    assert (denied["status"], denied["error"]) == ("FAILED", "EventBridge.AccessDeniedException")
    assert "is not authorized to perform: events:PutEvents" in denied["cause"]
    assert (
        "(Service: AmazonEventBridge; Status Code: 400; Error Code: AccessDeniedException"
        in (denied["cause"])
    )
