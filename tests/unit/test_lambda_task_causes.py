"""mlwf/offline/lambda_task_causes.py, pinned: moto 5.2.5 writes a function's error payload
compactly for every Lambda task; the patch re-spaces it for a Lambda ARN Task only."""

from __future__ import annotations

import inspect
import json
from types import SimpleNamespace

from mlwf.offline.lambda_task_causes import lambda_task_causes_as_written

PAYLOAD = {"errorMessage": "boom", "errorType": "Exception", "requestId": "r"}


def test_the_pinned_moto_writes_the_error_payload_compactly():
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    body = inspect.getsource(lambda_eval_utils.execute_lambda_function_integration)
    assert 'json.dumps(payload_json, separators=(",", ":"))' in body


def test_a_lambda_arn_task_s_cause_is_spaced_as_python_s_runtime_writes_it():
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils import (
        LambdaFunctionErrorException,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import (
        StateTaskLambda,
    )

    compact = json.dumps(PAYLOAD, separators=(",", ":"))
    seen = []
    original = StateTaskLambda.__dict__["_from_error"]
    try:
        StateTaskLambda._from_error = lambda self, env, ex: seen.append(ex.payload)
        with lambda_task_causes_as_written():
            StateTaskLambda._from_error(
                SimpleNamespace(), None, LambdaFunctionErrorException("Unhandled", compact)
            )
    finally:
        StateTaskLambda._from_error = original
    assert seen == [json.dumps(PAYLOAD)]
