"""moto's Step Functions made to behave as AWS's: every patch of its interpreter and its
API, entered in the order they need (each module says what it changes and why)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from mlwf.offline.aborted_states import branch_tasks_aborted
from mlwf.offline.assign_order import assignments_after_output
from mlwf.offline.choice_timestamps import choice_timestamps_as_aws
from mlwf.offline.context_objects import context_objects_as_aws
from mlwf.offline.create_idempotency import creates_idempotent_as_aws
from mlwf.offline.definition_validation import definitions_checked
from mlwf.offline.distributed_map import distributed_maps_as_aws
from mlwf.offline.error_outputs import error_outputs_as_aws
from mlwf.offline.execution_fields import execution_fields_as_aws
from mlwf.offline.execution_history import histories_paged
from mlwf.offline.execution_logs import executions_logged
from mlwf.offline.execution_output import outputs_as_json
from mlwf.offline.execution_timeouts import timeouts_as_aws
from mlwf.offline.heartbeat_timeouts import heartbeat_timeouts_named
from mlwf.offline.history_limit import history_limited
from mlwf.offline.integration_fields import lambda_fields_checked
from mlwf.offline.json_paths import json_paths_as_aws
from mlwf.offline.jsonata_states import jsonata_evaluated
from mlwf.offline.lambda_task_causes import lambda_task_causes_as_written
from mlwf.offline.map_items import map_items_named_as_aws
from mlwf.offline.moto_patches import (
    asl_parses_apart,
    executions_started_as_aws,
    stops_as_aws,
)
from mlwf.offline.optimized_errors import optimized_errors_as_aws
from mlwf.offline.path_failures import path_failures_as_aws
from mlwf.offline.query_languages import query_languages_as_aws
from mlwf.offline.request_constraints import step_functions_requests_checked
from mlwf.offline.result_paths import result_paths_as_aws
from mlwf.offline.state_errors import states_errors_kept
from mlwf.offline.status_events import status_changes_sent
from mlwf.offline.task_shapes import task_shapes_as_aws
from mlwf.offline.task_tokens import closed_task_tokens_timed_out
from mlwf.offline.wait_timestamps import wait_timestamps_as_aws


@contextmanager
def step_functions_as_aws() -> Iterator[None]:
    """While the block runs, moto's Step Functions answers as AWS's. Entered before the
    server starts: its own patches wrap some of these."""
    with ExitStack() as stack:
        stack.enter_context(asl_parses_apart())
        stack.enter_context(query_languages_as_aws())
        stack.enter_context(json_paths_as_aws())
        stack.enter_context(lambda_fields_checked())
        stack.enter_context(jsonata_evaluated())
        stack.enter_context(states_errors_kept())
        stack.enter_context(heartbeat_timeouts_named())  # after: it wraps their matching
        stack.enter_context(result_paths_as_aws())
        stack.enter_context(closed_task_tokens_timed_out())
        stack.enter_context(stops_as_aws())
        stack.enter_context(context_objects_as_aws())  # after: it wraps their environment
        stack.enter_context(status_changes_sent())  # after: it follows their end
        stack.enter_context(history_limited())  # after: it keeps stops' ends
        stack.enter_context(histories_paged())
        stack.enter_context(timeouts_as_aws())
        stack.enter_context(outputs_as_json())
        stack.enter_context(execution_fields_as_aws())  # after: it wraps their answers
        stack.enter_context(task_shapes_as_aws())
        stack.enter_context(optimized_errors_as_aws())
        stack.enter_context(executions_started_as_aws())
        stack.enter_context(definitions_checked())
        stack.enter_context(creates_idempotent_as_aws())  # the name before the definition
        stack.enter_context(distributed_maps_as_aws())
        stack.enter_context(map_items_named_as_aws())
        stack.enter_context(path_failures_as_aws())
        stack.enter_context(lambda_task_causes_as_written())
        stack.enter_context(wait_timestamps_as_aws())
        stack.enter_context(choice_timestamps_as_aws())
        stack.enter_context(executions_logged())
        stack.enter_context(step_functions_requests_checked())
        stack.enter_context(assignments_after_output())
        stack.enter_context(branch_tasks_aborted())
        stack.enter_context(error_outputs_as_aws())
        yield
