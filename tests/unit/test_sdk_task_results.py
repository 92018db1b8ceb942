"""An AWS SDK task's result is JSON on the state's data (mlwf.offline.sdk_task_results), and
the moto internals the patch wraps are still there."""

from __future__ import annotations

import datetime
import inspect

from mlwf.offline.sdk_task_results import json_shaped


def test_timestamps_become_utc_text_with_milliseconds_and_the_rest_stays():
    paris = datetime.timezone(datetime.timedelta(hours=1))
    moment = datetime.datetime(2026, 12, 1, 16, 30, 5, 123456, tzinfo=paris)
    answer = {"Parameter": {"LastModifiedDate": moment, "Version": 1}, "Tags": [moment, "x"]}
    assert json_shaped(answer) == {
        "Parameter": {"LastModifiedDate": "2026-12-01T15:30:05.123Z", "Version": 1},
        "Tags": ["2026-12-01T15:30:05.123Z", "x"],
    }


def test_the_pinned_moto_puts_an_sdk_task_s_answer_on_the_stack_as_it_is():
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk as aws_sdk,
    )

    evaluate = aws_sdk.StateTaskServiceAwsSdk.__dict__["_eval_service_task"]
    source = inspect.getsource(evaluate)
    assert "env.stack.append(response)" in source  # the answer, last on the stack
