"""A function's reserved concurrency changed through Lambda's API takes effect offline.

The offline stack read each function's reservation from the template once: `aws lambda
put-function-concurrency --reserved-concurrent-executions 0` was recorded by moto, and the
function went on running, where Lambda throttles every invocation of a function reserved at
0 ("a reserved concurrency of 0 ... throttles all invocations",
https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html). moto's
PutFunctionConcurrency and DeleteFunctionConcurrency now also tell the stack's bridge
(`Bridge.on_concurrency_changed`), which sets the running function's limit. moto checks the
account's quota itself when MOTO_LAMBDA_CONCURRENCY_QUOTA is set, as the offline stack sets
it (1,000, Lambda's default; 100 kept unreserved), in Lambda's words.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was

from mlwf.offline import bridge


@contextmanager
def reservations_applied() -> Iterator[None]:
    from moto.awslambda.models import LambdaBackend

    put = LambdaBackend.__dict__["put_function_concurrency"]  # KeyError: moto changed
    delete = LambdaBackend.__dict__["delete_function_concurrency"]

    def changed(backend: Any, name_or_arn: str, reserved: int | None) -> None:
        active = bridge.active()
        if active is not None and active.on_concurrency_changed is not None:
            name = backend.get_function(name_or_arn).function_name
            active.on_concurrency_changed(name, reserved)

    def put_function_concurrency(self: Any, function_name: str, reserved: Any) -> Any:
        answer = put(self, function_name, reserved)  # moto's quota check first
        changed(self, function_name, int(reserved))
        return answer

    def delete_function_concurrency(self: Any, function_name: str) -> Any:
        answer = delete(self, function_name)
        changed(self, function_name, None)
        return answer

    with (
        patch.object(LambdaBackend, "put_function_concurrency", put_function_concurrency),
        patch.object(LambdaBackend, "delete_function_concurrency", delete_function_concurrency),
    ):
        yield
