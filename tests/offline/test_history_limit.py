"""A runaway loop in a Standard execution fails at AWS's 25,000 history events offline too
(mlwf.offline.history_limit; tests/unit/test_history_limit.py has the cases at a lower
limit). moto ran it for ever, RUNNING, its history growing in memory."""

from __future__ import annotations

import pytest

from mlwf.offline.history_limit import CAUSE, MAX_EVENTS
from mlwf.offline.runtime import OfflineStack
from tests.helpers.executions import run_to_end

pytestmark = pytest.mark.offline

RUNAWAY = {
    "StartAt": "Poll",
    "States": {
        "Poll": {"Type": "Pass", "Next": "Ready?"},
        # a user's polling loop whose exit never comes
        "Ready?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.ready", "IsPresent": True, "Next": "Done"}],
            "Default": "Poll",
        },
        "Done": {"Type": "Succeed"},
    },
}


def test_a_runaway_loop_fails_at_the_history_limit():
    with OfflineStack.start(say=lambda _: None) as stack:
        sfn = stack.sfn
        ended = run_to_end(sfn, RUNAWAY, name="runaway", timeout=120)
        last = sfn.get_execution_history(
            executionArn=ended["executionArn"], reverseOrder=True, maxResults=1
        )["events"][0]
    assert (ended["status"], ended["error"], ended["cause"]) == ("FAILED", "States.Runtime", CAUSE)
    assert (last["id"], last["type"]) == (MAX_EVENTS, "ExecutionFailed")
