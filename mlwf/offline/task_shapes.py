"""A service task's request and result as Step Functions shapes them, and its errors' names.

moto's interpreter is LocalStack's, whose service tasks normalise each request and result
against the service's API model; moto's copy left the two hooks empty. So:
- an AWS SDK task with Step Functions' PascalCase parameters failed in Python's words
  (`aws-sdk:sfn:describeExecution` with `ExecutionArn`: a KeyError), where "Parameters in
  Step Functions are expressed in PascalCase, even if the native service API is in
  camelCase" (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html);
- results kept the API's casing (`executionArn`) and its Python values: a timestamp, a
  blob (a DynamoDB `B` attribute) or an S3 object's body stream, after which the execution
  ran but DescribeExecution could not write its output, an HTTP 500 the SDKs retried until
  they gave up;
- an SDK task's error was `ssm.ParameterNotFoundException` where Step Functions names it
  `Ssm.ParameterNotFoundException`: "The service name and error name are both in Pascal
  case" (same page: `AcmPca.ResourceNotFoundException`, `S3.BucketAlreadyExistsException`),
  so a Catch of the documented name never fired.

The hooks now do what LocalStack's do, with moto's own helpers (`_to_boto_request`,
`_from_boto_response`: keys matched to the model's members case-insensitively, results'
keys in PascalCase, a body stream read as text, as workflows then parse it with
States.StringToJson). The result is then JSON: a timestamp as ISO 8601 text in UTC with
milliseconds (the context object's form; whether an SDK task's has exactly this form, and
keeps a `.000`, is not known here), a blob as base64 text (the form the JSON protocols carry
it in,
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html).
An error's service name is the table's exception prefix (mlwf.offline.sdk_services.error_prefix:
`ACM PCA` -> `AcmPca`, `DynamoDB` -> `DynamoDb`, the two names moto already bound so). An
AWS SDK task names its service as that table does (`cloudwatchlogs`, `eventbridge`), which
moto passed to botocore as written: its client is now botocore's service of that name
(`logs`, `events`), mlwf.offline.sdk_services.boto_service.
"""

from __future__ import annotations

import base64
import datetime
import functools
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was

from mlwf.offline.sdk_metadata import with_sdk_metadata
from mlwf.offline.sdk_services import boto_service, error_prefix, java_member_name, session

_SERVICE = "moto.stepfunctions.parser.asl.component.state.exec.state_task.service"


def as_text(moment: datetime.datetime) -> str:
    utc = moment.astimezone(datetime.UTC) if moment.tzinfo else moment
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def json_shaped(value: Any) -> Any:
    """`value` with each timestamp and blob in it as text."""
    if isinstance(value, datetime.datetime):
        return as_text(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: json_shaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_shaped(v) for v in value]
    return value


@functools.cache
def _operation(service: str, snake_action: str) -> Any:
    """The API model's operation, None for a service or action botocore does not know (the
    task then fails on the call, as before)."""
    from botocore import xform_name
    from botocore.exceptions import UnknownServiceError

    try:
        model = session().get_service_model(service)
    except UnknownServiceError:
        return None
    names = {xform_name(name): name for name in model.operation_names}
    return model.operation_model(names[snake_action]) if snake_action in names else None


def _operation_of(task: Any, boto_service_name: Any, service_action_name: Any) -> Any:
    """The API model's operation a service task calls (moto's own names for it)."""
    return _operation(
        task._get_boto_service_name(boto_service_name),
        task._get_boto_service_action(service_action_name),
    )


def _reshape(container: Any) -> None:
    """In place: the dict's (or list's) timestamps and blobs as text."""
    items = container.items() if isinstance(container, dict) else enumerate(container)
    for key, value in list(items):
        container[key] = json_shaped(value)


@contextmanager
def task_shapes_as_aws() -> Iterator[None]:
    """While the block runs, service tasks' requests, results and error names are shaped as
    Step Functions shapes them."""
    import importlib

    base = importlib.import_module(f"{_SERVICE}.state_task_service").StateTaskService
    sdk = importlib.import_module(f"{_SERVICE}.state_task_service_aws_sdk").StateTaskServiceAwsSdk
    for owner, name in ((base, "_normalise_parameters"), (base, "_normalise_response")):
        if name not in owner.__dict__:
            raise RuntimeError(f"moto changed: no {owner.__name__}.{name}")
    error_name = sdk.__dict__["_normalise_service_error_name"]  # KeyError: moto changed
    boto_name = base.__dict__["_get_boto_service_name"]  # KeyError: moto changed

    def normalise_parameters(
        self: Any, parameters: dict, boto_service_name: Any = None, service_action_name: Any = None
    ) -> None:
        operation = _operation_of(self, boto_service_name, service_action_name)
        if operation is not None and operation.input_shape is not None:
            service = self._get_boto_service_name(boto_service_name)
            drop_nulls(parameters, operation.input_shape, service, operation.name)
            self._to_boto_request(parameters, operation.input_shape)

    def normalise_response(
        self: Any, response: Any, boto_service_name: Any = None, service_action_name: Any = None
    ) -> None:
        operation = _operation_of(self, boto_service_name, service_action_name)
        if operation is not None and operation.output_shape is not None:
            self._from_boto_response(response, operation.output_shape)
        if isinstance(response, dict | list):
            _reshape(response)
        if boto_service_name is None and service_action_name is None:  # the task's own call
            with_sdk_metadata(self._get_sfn_resource_type(), self._get_sfn_resource(), response)

    def service_error_name(service_name: str) -> str:
        prefix = error_prefix(service_name)
        return prefix if prefix is not None else str(error_name.__func__(service_name))

    def sdk_boto_name(self: Any, boto_service_name: str | None = None) -> str:
        name = boto_service_name or self.resource.api_name
        return boto_service(name) or str(boto_name(self, boto_service_name))

    with ExitStack() as stack:
        stack.enter_context(patch.object(base, "_normalise_parameters", normalise_parameters))
        stack.enter_context(patch.object(base, "_normalise_response", normalise_response))
        stack.enter_context(
            patch.object(sdk, "_normalise_service_error_name", staticmethod(service_error_name))
        )
        stack.enter_context(patch.object(sdk, "_get_boto_service_name", sdk_boto_name))
        stack.enter_context(patch.object(base, "_to_sfn_cased", staticmethod(sfn_cased)))
        yield


def sfn_cased(member: str) -> str:
    """A result's key: the API's member as AWS's Java SDK spells it
    (sdk_services.java_member_name: `ChecksumCRC32` as recorded on AWS, `DbInstances`);
    moto's snake-case round trip gave `ChecksumCrc32`."""
    return java_member_name(member)


def drop_nulls(parameters: dict, shape: Any, service: str, operation: str) -> None:
    """In place: each null member of the request left out, as the AWS SDK Step Functions
    calls with leaves a null field out; a required one is then missing, and the call fails
    as the service fails it: SQS's MissingParameter, the other services' ValidationException
    "1 validation error detected: Value null at 'item' failed to satisfy constraint: Member
    must not be null" (DynamoDB's and SQS's answers as recorded; the others' inferred).
    moto's request shaping failed on a null with Python's AttributeError or sent "null"."""
    from botocore.exceptions import ClientError

    members = {name.lower(): name for name in shape.members}
    for key in [key for key, value in parameters.items() if value is None]:
        del parameters[key]
        member = members.get(key.lower().replace("_", ""))
        if member is None or member not in shape.required_members:
            continue
        if service == "sqs":
            code, message = "MissingParameter", f"The request must contain the parameter {member}."
        else:
            code = "ValidationException"
            message = (
                f"1 validation error detected: Value null at '{member[:1].lower()}{member[1:]}' "
                "failed to satisfy constraint: Member must not be null"
            )
        answer: Any = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 400, "RequestId": str(uuid.uuid4())},
        }
        raise ClientError(answer, operation)
    for key, value in parameters.items():
        member = members.get(key.lower().replace("_", ""))
        if member is not None:
            _drop_nested_nulls(value, shape.members[member])


def _drop_nested_nulls(value: Any, shape: Any) -> None:
    """In place: nulls left out of the structures of the request, as its shape has them; a
    string, blob or document member's value (a MessageBody, a Detail) is the caller's JSON
    and keeps its nulls."""
    if shape.type_name == "structure" and isinstance(value, dict):
        if shape.metadata.get("document"):
            return
        members = {name.lower(): name for name in shape.members}
        for key in [key for key, item in value.items() if item is None]:
            del value[key]
        for key, item in value.items():
            member = members.get(key.lower())
            if member is not None:
                _drop_nested_nulls(item, shape.members[member])
    elif shape.type_name == "list" and isinstance(value, list):
        for item in value:
            _drop_nested_nulls(item, shape.member)
    elif shape.type_name == "map" and isinstance(value, dict):
        for key in [key for key, item in value.items() if item is None]:
            del value[key]
        for item in value.values():
            _drop_nested_nulls(item, shape.value)
