"""mlwf/offline/aborted_states.py: a Task that fails a Parallel branch is aborted in the
history (TaskStateAborted, after its failure, before the Parallel's), as AWS records it; and
the moto internals the patch replaces, pinned."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from mlwf.offline.aborted_states import branch_tasks_aborted
from mlwf.offline.moto_patches import stops_as_aws
from tests.helpers.executions import history_events, run_to_end

# A Task that fails with no Lambda (moto's needs Docker): S3 has no such bucket
FAILING_TASK = {
    "Type": "Task",
    "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
    "Parameters": {"Bucket": "no-such-bucket", "Key": "k"},
    "End": True,
}
CAUGHT = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}]


def parallel(branch_states: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A machine of one Parallel state, one branch of `branch_states` (its first state first)."""
    branch = {"StartAt": next(iter(branch_states)), "States": branch_states}
    state = {"Type": "Parallel", "Branches": [branch], **fields}
    states = {"P": {**state, "Next": "Caught"} if "Catch" in fields else {**state, "End": True}}
    if "Catch" in fields:
        states["Caught"] = {"Type": "Pass", "End": True}
    return {"StartAt": "P", "States": states}


def history(sfn: Any, ended: dict) -> list[tuple[int, str, int]]:
    return [(e["id"], e["type"], e["previousEventId"]) for e in history_events(sfn, ended)]


@pytest.fixture
def moto_sfn(aws) -> Iterator[Any]:
    with stops_as_aws():
        yield boto3.client("stepfunctions", region_name="us-east-1")


@pytest.fixture
def sfn(moto_sfn) -> Iterator[Any]:
    with branch_tasks_aborted():
        yield moto_sfn


def test_a_task_that_fails_its_branch_is_aborted_before_the_parallel_fails(sfn):
    # Given a Parallel whose one branch is a Task that fails, caught by the Parallel
    ended = run_to_end(sfn, parallel({"T": FAILING_TASK}, Catch=CAUGHT))
    # Then, as in AWS's recorded runs: TaskStateAborted after the failure, and the
    # Parallel's failure after the failure too
    events = history(sfn, ended)
    failed = next(e for e in events if e[1] == "TaskFailed")
    assert events[failed[0]] == (failed[0] + 1, "TaskStateAborted", failed[0])
    assert events[failed[0] + 1] == (failed[0] + 2, "ParallelStateFailed", failed[0])
    assert ended["status"] == "SUCCEEDED"


def test_the_pinned_moto_writes_no_aborted_task(moto_sfn):
    # (why the patch exists; if moto starts writing it, drop the patch)
    ended = run_to_end(moto_sfn, parallel({"T": FAILING_TASK}, Catch=CAUGHT))
    assert "TaskStateAborted" not in [e[1] for e in history(moto_sfn, ended)]


def test_a_failure_caught_in_its_branch_aborts_nothing(sfn):
    task = {**FAILING_TASK, "Catch": CAUGHT}
    del task["End"]
    ended = run_to_end(sfn, parallel({"T": task, "Caught": {"Type": "Pass", "End": True}}))
    assert ended["status"] == "SUCCEEDED"
    assert "TaskStateAborted" not in [e[1] for e in history(sfn, ended)]


def test_a_branch_that_fails_at_a_fail_state_aborts_nothing(sfn):
    # only Task, Map, Parallel and Wait states have an Aborted event at all
    ended = run_to_end(sfn, parallel({"F": {"Type": "Fail", "Error": "E"}}))
    assert (ended["status"], ended["error"]) == ("FAILED", "E")
    assert not [e for e in history(sfn, ended) if e[1].endswith("StateAborted")]


def test_the_pinned_moto_branch_routine_evaluates_then_reports():
    # The patch replaces moto's routine whole: it must still be evaluate, then report
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branch_worker import (
        BranchWorker,
    )

    source = inspect.getsource(BranchWorker.__dict__["_thread_routine"])
    calls = [line.strip() for line in source.splitlines() if line.strip().startswith("self.")]
    assert calls == [
        "self._program.eval(self.env)",
        "self._branch_worker_comm.on_terminated(env=self.env)",
    ]
