"""The moto patches that make its S3, CloudWatch Logs, Lambda, SQS, SNS, SSM, DynamoDB
and EventBridge answer as AWS's, entered together while an offline stack runs (Step Functions'
are mlwf.offline.step_functions's). Each module named below says what it changes and why."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from mlwf.offline.bucket_properties import event_bridge_notifications_shown, lifecycle_days_checked
from mlwf.offline.cloudwatch_logs import (
    missing_stream_named,
    retention_checked,
    stream_prefix_filtered,
)
from mlwf.offline.dynamodb_tables import indexes_checked
from mlwf.offline.event_details import event_details_as_aws
from mlwf.offline.event_patterns import event_patterns_checked
from mlwf.offline.function_concurrency import reservations_applied
from mlwf.offline.log_filter_patterns import filter_patterns_as_aws
from mlwf.offline.moto_patches import moto_modules_listed_once, s3_url_table_loaded_once
from mlwf.offline.object_acls import object_acls_refused_when_owner_enforced
from mlwf.offline.object_versions import deleted_versions_keep_their_place
from mlwf.offline.queue_attributes import queue_attributes_checked
from mlwf.offline.s3_host_ids import s3_host_ids_sent
from mlwf.offline.sns_publish import publish_as_sns
from mlwf.offline.ssm_parameters import parameters_checked
from mlwf.offline.unmodelled_actions import unmodelled_actions_refused


@contextmanager
def services_as_aws() -> Iterator[None]:
    """While the block runs, moto's other services answer as AWS's (entered in this order,
    inside mock_aws and before the server starts)."""
    with ExitStack() as stack:
        stack.enter_context(unmodelled_actions_refused())
        stack.enter_context(s3_url_table_loaded_once())
        stack.enter_context(object_acls_refused_when_owner_enforced())
        stack.enter_context(deleted_versions_keep_their_place())
        stack.enter_context(moto_modules_listed_once())
        stack.enter_context(event_patterns_checked())
        stack.enter_context(stream_prefix_filtered())
        stack.enter_context(retention_checked())
        stack.enter_context(missing_stream_named())
        stack.enter_context(lifecycle_days_checked())
        stack.enter_context(event_bridge_notifications_shown())
        stack.enter_context(filter_patterns_as_aws())
        stack.enter_context(reservations_applied())
        stack.enter_context(queue_attributes_checked())
        stack.enter_context(parameters_checked())
        stack.enter_context(publish_as_sns())
        stack.enter_context(indexes_checked())
        stack.enter_context(event_details_as_aws())
        stack.enter_context(s3_host_ids_sent())
        yield
