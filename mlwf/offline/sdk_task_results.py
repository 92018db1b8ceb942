"""An AWS SDK task's result as Step Functions passes it on: JSON, its timestamps as text.

moto's interpreter put the SDK's parsed answer on the state's data as it was, Python
datetimes included (SSM's GetParameter has LastModifiedDate, S3's HeadObject
LastModified): the execution ran, but DescribeExecution could not write its output
("Object of type datetime is not JSON serializable"), and the SDKs and the AWS CLI retried
the HTTP 500 until they gave up. State data is JSON on AWS, and an SDK task's timestamps
arrive as strings (functionless#489 reports `"CreationTime": "2013-08-23T01:02:15.422Z"`
from a CloudFormation DescribeStacks task). They are now ISO 8601 text in UTC with
milliseconds, the form of the context object's `$$.Execution.StartTime`
(https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html); that
an SDK task's timestamps have exactly this form is inferred, not seen on AWS.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was


def as_text(moment: datetime.datetime) -> str:
    utc = moment.astimezone(datetime.UTC) if moment.tzinfo else moment
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def json_shaped(value: Any) -> Any:
    """`value` with each datetime in it as text."""
    if isinstance(value, datetime.datetime):
        return as_text(value)
    if isinstance(value, dict):
        return {k: json_shaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_shaped(v) for v in value]
    return value


@contextmanager
def sdk_task_results_as_json() -> Iterator[None]:
    """While the block runs, an AWS SDK task's result reaches the state's data as JSON."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk as aws_sdk,
    )

    task = aws_sdk.StateTaskServiceAwsSdk
    evaluate = task.__dict__["_eval_service_task"]  # KeyError: moto changed; see the test

    def eval_service_task(self: Any, env: Any, *args: Any, **kwargs: Any) -> None:
        evaluate(self, env, *args, **kwargs)
        env.stack.append(json_shaped(env.stack.pop()))

    with patch.object(task, "_eval_service_task", eval_service_task):
        yield
