"""An optimized DynamoDB, SQS or Step Functions task's error named as Step Functions names it.

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
`StepFunctions.AccessDeniedExceptionException`; and it named every SQS answer
`SQS.SdkClientException`, the SDK's name for a request it could not send, with the bare
message: AWS's answer to a null MessageBody is `SQS.AmazonSQSException`, "The request must
contain the parameter MessageBody. (Service: AmazonSQS; Status Code: 400; Error Code:
MissingParameter; ...)" (LocalStack's recording, `test_send_message_empty_body`, as the walk
read it), and to a queue's name given for its URL, `SQS.SdkClientException`, "Unable to
execute HTTP request: <name>: Name or service not known" (`test_send_message_no_such_queue`).

What is modelled is botocore's model of the service (its error shapes). The base names are
the Java SDK's: `AmazonDynamoDBException`, `AmazonSQSException`, `AWSStepFunctionsException`;
the last is by the same rule, not recorded, as are the names of SQS's modelled errors
(`SQS.QueueDoesNotExistException`).
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
    "sqs": "SQS.AmazonSQSException",
    "events": "EventBridge.AmazonEventBridgeException",
}


# SQS answers a missing queue with its query API's code, which botocore's model of its JSON
# API no longer lists (the error QueueDoesNotExist of
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html)
_LEGACY_CODES = {"sqs": {"AWS.SimpleQueueService.NonExistentQueue": "QueueDoesNotExist"}}


@functools.cache
def modelled(service: str) -> dict[str, str]:
    """The error codes botocore's model of the service declares, each with its shape's name
    (and SQS's `AWS.SimpleQueueService.NonExistentQueue`, its `QueueDoesNotExist`)."""
    codes = {shape.name: shape.name for shape in session().get_service_model(service).error_shapes}
    return {**codes, **_LEGACY_CODES.get(service, {})}


class UnreachableQueue(Exception):
    """An SQS task's QueueUrl that is no URL: the SDK cannot send the request."""


PREFIXES = {
    "dynamodb": "DynamoDB",
    "stepfunctions": "StepFunctions",
    "sqs": "SQS",
    "events": "EventBridge",
}


def java_error(service: str, code: str) -> str:
    """An optimized task's error for an answer of botocore's `service`: the Java SDK's class
    of a modelled code, with one `Exception` suffix (`DynamoDB.InternalServerErrorException`,
    `StepFunctions.StateMachineDoesNotExistException`), else the SDK's base class."""
    shape = modelled(service).get(code)
    if shape is None:
        return BASE_EXCEPTIONS[service]
    return f"{PREFIXES[service]}.{shape.removesuffix('Exception')}Exception"


def service_cause(service: str, client_error: Any) -> str:
    """A service error's cause as the Java SDK words it (moto's DynamoDB task's form):
    `<message> (Service: AmazonSQS; Status Code: 400; Error Code: ...; Request ID: ...;
    Proxy: null)`."""
    answer = client_error.response
    details = "; ".join(
        [
            f"Service: {service}",
            f"Status Code: {answer['ResponseMetadata']['HTTPStatusCode']}",
            f"Error Code: {answer['Error']['Code']}",
            f"Request ID: {answer['ResponseMetadata'].get('RequestId', '')}",
            "Proxy: null",
        ]
    )
    return f"{answer['Error']['Message']} ({details})"


@contextmanager
def optimized_errors_as_aws() -> Iterator[None]:
    """moto's optimized DynamoDB, SQS and Step Functions tasks naming errors as AWS does."""
    import importlib

    from botocore.exceptions import ClientError
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
        CustomErrorName,
    )

    dynamodb = importlib.import_module(f"{_SERVICE}.state_task_service_dynamodb")
    sfn = importlib.import_module(f"{_SERVICE}.state_task_service_sfn")
    sqs = importlib.import_module(f"{_SERVICE}.state_task_service_sqs")
    dynamodb_task, sfn_task = dynamodb.StateTaskServiceDynamoDB, sfn.StateTaskServiceSfn
    sqs_task = sqs.StateTaskServiceSqs
    error_cause = dynamodb_task.__dict__["_error_cause_from_client_error"].__func__  # KeyError:
    from_error = sfn_task.__dict__["_from_error"]  # moto changed; see the test
    sqs_from_error = sqs_task.__dict__["_from_error"]
    sqs_eval = sqs_task.__dict__["_eval_service_task"]

    def dynamodb_error_cause(client_error: Any) -> tuple[str, str]:
        _, cause = error_cause(client_error)
        return java_error("dynamodb", client_error.response["Error"]["Code"]), cause

    def sfn_from_error(self: Any, env: Any, ex: Exception) -> Any:
        event = from_error(self, env, ex)
        if isinstance(ex, ClientError):
            name = java_error("stepfunctions", ex.response["Error"]["Code"])
            event.error_name = CustomErrorName(name)
            event.event_details["taskFailedEventDetails"]["error"] = name
        return event

    def sqs_service_error(self: Any, env: Any, ex: Exception) -> Any:
        event = sqs_from_error(self, env, ex)
        if isinstance(ex, UnreachableQueue):  # the SDK's: AWS's words as recorded
            name, cause = "SQS.SdkClientException", f"Unable to execute HTTP request: {ex}"
        elif isinstance(ex, ClientError):
            name = java_error("sqs", ex.response["Error"]["Code"])
            cause = service_cause("AmazonSQS", ex)
        else:
            return event
        event.error_name = CustomErrorName(name)
        details = event.event_details["taskFailedEventDetails"]
        details["error"], details["cause"] = name, cause
        return event

    def sqs_sent(
        self: Any,
        env: Any,
        resource_runtime_part: Any,
        normalised_parameters: dict,
        state_credentials: Any,
    ) -> Any:
        queue = normalised_parameters.get("QueueUrl")
        if isinstance(queue, str) and "://" not in queue:  # a name: the SDK fails to resolve it
            raise UnreachableQueue(f"{queue}: Name or service not known")
        return sqs_eval(
            self,
            env=env,
            resource_runtime_part=resource_runtime_part,
            normalised_parameters=normalised_parameters,
            state_credentials=state_credentials,
        )

    with ExitStack() as stack:
        stack.enter_context(
            patch.object(
                dynamodb_task, "_error_cause_from_client_error", staticmethod(dynamodb_error_cause)
            )
        )
        stack.enter_context(patch.object(sfn_task, "_from_error", sfn_from_error))
        stack.enter_context(patch.object(sqs_task, "_from_error", sqs_service_error))
        stack.enter_context(patch.object(sqs_task, "_eval_service_task", sqs_sent))
        yield
