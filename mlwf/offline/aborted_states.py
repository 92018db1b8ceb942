"""A Task state that fails a Parallel branch is aborted in the history, as AWS writes it.

When a Task in a Parallel state's branch fails and nothing in the branch catches it, AWS
writes `TaskStateAborted` for it right after its failure event, before the Parallel's own
`ParallelStateFailed`; both follow the failure event (previousEventId). Recorded by AWS in
LocalStack's snapshot tests: test_callback.py::test_sqs_failure_in_wait_for_task_tok_no_
error_field[SQS_PARALLEL_WAIT_FOR_TASK_TOKEN] (`8 TaskFailed`, `9 TaskStateAborted` after 8,
`10 ParallelStateFailed` after 8) and test_error_output.py::test_parallel_catch_error (three
runs, a Lambda task). moto wrote no such event, so every event after it had an id one lower
than AWS's. (An inline Map's failed iteration gets one too, after its MapIterationFailed, in
test_timeouts.py::test_service_lambda_map_timeout: not modelled here; see docs/offline.md.)

moto's internals named here are pinned by tests/unit/test_aborted_states.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch


def _abort_failed_task(program: Any, env: Any) -> None:
    """TaskStateAborted for the branch's failed Task, if its program ended with one."""
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import (
        StateTask,
    )
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramError

    if not isinstance(env.program_state(), ProgramError):
        return
    # The state the branch was in when it failed: the Context object's (moto has cleared
    # next_state_name by now)
    state = env.states.context_object.context_object_data.get("State") or {}
    failed = program.states.states.get(state.get("Name"))
    if isinstance(failed, StateTask):
        env.event_manager.add_event(
            context=env.event_history_context,
            event_type=HistoryEventType.TaskStateAborted,
            update_source_event_id=False,  # the Parallel's failure follows the task's
        )


@contextmanager
def branch_tasks_aborted() -> Iterator[None]:
    """While the block runs, a Parallel branch's failed Task is aborted as AWS records."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branch_worker import (
        BranchWorker,
    )

    if "_thread_routine" not in vars(BranchWorker):  # moto changed: see the test
        raise RuntimeError("moto's BranchWorker has no _thread_routine to replace")

    def evaluated_aborted_then_terminated(worker: Any) -> None:
        """moto's routine (evaluate the branch, tell the Parallel it ended), with the abort
        written between the two: before the Parallel writes its failure."""
        worker._program.eval(worker.env)
        _abort_failed_task(worker._program, worker.env)
        worker._branch_worker_comm.on_terminated(env=worker.env)

    with patch.object(BranchWorker, "_thread_routine", evaluated_aborted_then_terminated):
        yield
