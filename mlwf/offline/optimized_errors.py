"""An optimized DynamoDB or Step Functions task's error named as Step Functions names it.

Optimized integrations name a failed call's error after the service's exception class in
AWS's Java SDK: `DynamoDB.ConditionalCheckFailedException`,
`StepFunctions.StateMachineDoesNotExistException`. An error code the service does not model
has no class of its own and is named after the SDK's base class of the service: a
DynamoDB ValidationException (a null `Item`, a table name outside the API's pattern) is
`DynamoDB.AmazonDynamoDBException` (LocalStack's recordings of AWS, its Step Functions
DynamoDB task tests `test_invalid_param` and `test_put_item_invalid_table_name`, as a
user-edit walk read them; AWS's sample "Invoke Synchronous Express Workflows" retries a
getItem on that name). moto's interpreter named every code `DynamoDB.<code>`, so a Catch of
`DynamoDB.AmazonDynamoDBException` never fired; and it named a Step Functions code
`StepFunctions.<code>Exception`, so the offline stack's own AccessDeniedException became
`StepFunctions.AccessDeniedExceptionException`.

What is modelled is botocore's model of the service (its error shapes). The base names are
the Java SDK's: `AmazonDynamoDBException`, `AWSStepFunctionsException`; the second is by
the same rule as the first, not recorded.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was

from mlwf.offline.sdk_services import session

_SERVICE = "moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
BASE_EXCEPTIONS = {
    "dynamodb": "DynamoDB.AmazonDynamoDBException",
    "stepfunctions": "StepFunctions.AWSStepFunctionsException",
}


@functools.cache
def modelled(service: str) -> frozenset[str]:
    """The error codes botocore's model of the service declares."""
    return frozenset(shape.name for shape in session().get_service_model(service).error_shapes)


def dynamodb_error(code: str) -> str:
    return f"DynamoDB.{code}" if code in modelled("dynamodb") else BASE_EXCEPTIONS["dynamodb"]


def step_functions_error(code: str) -> str:
    if code not in modelled("stepfunctions"):
        return BASE_EXCEPTIONS["stepfunctions"]
    return f"StepFunctions.{code.removesuffix('Exception')}Exception"


@contextmanager
def optimized_errors_as_aws() -> Iterator[None]:
    """moto's optimized DynamoDB and Step Functions tasks naming errors as AWS does."""
    import importlib

    from botocore.exceptions import ClientError
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
        CustomErrorName,
    )

    dynamodb = importlib.import_module(f"{_SERVICE}.state_task_service_dynamodb")
    sfn = importlib.import_module(f"{_SERVICE}.state_task_service_sfn")
    dynamodb_task, sfn_task = dynamodb.StateTaskServiceDynamoDB, sfn.StateTaskServiceSfn
    error_cause = dynamodb_task.__dict__["_error_cause_from_client_error"].__func__  # KeyError:
    from_error = sfn_task.__dict__["_from_error"]  # moto changed; see the test

    def dynamodb_error_cause(client_error: Any) -> tuple[str, str]:
        _, cause = error_cause(client_error)
        return dynamodb_error(client_error.response["Error"]["Code"]), cause

    def sfn_from_error(self: Any, env: Any, ex: Exception) -> Any:
        event = from_error(self, env, ex)
        if isinstance(ex, ClientError):
            name = step_functions_error(ex.response["Error"]["Code"])
            event.error_name = CustomErrorName(name)
            event.event_details["taskFailedEventDetails"]["error"] = name
        return event

    with ExitStack() as stack:
        stack.enter_context(
            patch.object(
                dynamodb_task, "_error_cause_from_client_error", staticmethod(dynamodb_error_cause)
            )
        )
        stack.enter_context(patch.object(sfn_task, "_from_error", sfn_from_error))
        yield
