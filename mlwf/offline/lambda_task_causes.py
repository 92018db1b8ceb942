"""A Lambda ARN Task's error cause as the function's runtime wrote it.

A Task whose Resource is a function's ARN fails with the function's error, its cause the
error payload Lambda returned: Python's runtime writes it with `json.dumps`'s spacing,
`{"errorMessage": "Some exception was raised.", "errorType": "Exception", ...}`, and AWS
passes it on as it is (LocalStack's recordings of AWS: test_task_lambda.py::
test_raise_custom_exception, test_raise_exception_catch, test_no_such_function_catch;
test_base_scenarios.py::test_lambda_invoke_with_retry_base). A `lambda:invoke` step's
cause is written compactly, `{"errorMessage":"...",...}`, as moto writes both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch


@contextmanager
def lambda_task_causes_as_written() -> Iterator[None]:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import (
        lambda_eval_utils as utils,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import (
        StateTaskLambda,
    )

    original = StateTaskLambda.__dict__["_from_error"]  # KeyError: moto changed; see the test

    def from_error(self: Any, env: Any, ex: Exception) -> Any:
        if isinstance(ex, utils.LambdaFunctionErrorException):
            try:
                spaced = json.dumps(json.loads(ex.payload))  # the runtime's own spacing
            except ValueError:  # not JSON: passed on as it came
                spaced = ex.payload
            ex = utils.LambdaFunctionErrorException(ex.function_error, spaced)
        return original(self, env, ex)

    with patch.object(StateTaskLambda, "_from_error", from_error):
        yield
