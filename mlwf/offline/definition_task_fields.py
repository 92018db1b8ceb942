"""The fields of a service task's Parameters CreateStateMachine does not support, which moto
took.

Step Functions checks a service task's Parameters against the API's request when the state
machine is created, and refuses a field the request does not have:

    Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field "static" is not
    supported by Step Functions at /States/resource/Parameters'

(on one line; AWS's answer to an `aws-sdk:verifiedpermissions:createPolicy` task, quoted in
aws/aws-cdk#29968; the same words for a nested `key` in the Tags of the optimized
`sagemaker:createTrainingJob`, aws/aws-step-functions-data-science-sdk-python#200). Field
names are the API's members "in PascalCase, even if the native service API is in camelCase"
(`ExecutionArn` for DescribeExecution's `executionArn`), spelled as AWS's Java SDK spells
them (`DbInstanceIdentifier` for `DBInstanceIdentifier`: sdk_services.java_member_name;
botocore's spelling is taken too, AWS's answer to it unrecorded), and a member named `Equals` is
`EqualsValue` (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html):
a field in camel case (`bucket`) is no member, as `key` for `Key` was refused above. Nested
fields are checked too (the `key` above), through structures, lists and the values of maps;
a map's own keys and a document's contents are the caller's. The location is the state's
`Parameters` (or a JSONata state's `Arguments`), not the field's own path, as recorded.

Checked: AWS SDK tasks, and the optimized integrations the offline stack runs but Lambda's
(SNS Publish, SQS SendMessage, DynamoDB's item calls, EventBridge PutEvents, Step Functions
StartExecution), each against its API's request. A `lambda:invoke` field the API lacks
fails when the state runs, as recorded (mlwf.offline.integration_fields). moto matched SDK
fields to the API's members without regard to case and dropped unknown ones (an optimized
task's silently: `"Foo": 1` on `sns:publish` ran) or failed the state on them with a Python
KeyError. Which field AWS names when there are several is not recorded: the first met, in
the definition's order, here.
"""

from __future__ import annotations

from typing import Any

from mlwf.offline.definition_fields import state_languages
from mlwf.offline.definition_resources import optimized_operation, sdk_call
from mlwf.offline.sdk_services import boto_service, java_member_name, known_action, session


def operation_for(resource: Any) -> tuple[str, str] | None:
    """Botocore's (service, operation) a task whose fields are checked calls; None for
    another task, or one definition_resources refuses."""
    if not isinstance(resource, str):
        return None
    call = sdk_call(resource)
    if call is not None:
        if not known_action(call[0], call[1]):
            return None
        return str(boto_service(call[0])), call[1][:1].upper() + call[1][1:]
    optimized = optimized_operation(resource)
    # a lambda:invoke field the API lacks fails when the state runs (integration_fields)
    return optimized[:2] if optimized and optimized[0] != "lambda" else None


def field_diagnostics_of_tasks(document: dict[str, Any]) -> list[str]:
    """SCHEMA_VALIDATION_FAILED for each service task with a field its API request lacks."""
    found = []
    for state, at, language in state_languages(document):
        operation = operation_for(state.get("Resource")) if state.get("Type") == "Task" else None
        if operation is None:
            continue
        field = "Parameters" if language == "JSONPath" else "Arguments"
        model = session().get_service_model(operation[0])
        unsupported = _unsupported(
            state.get(field), model.operation_model(operation[1]).input_shape
        )
        if unsupported is not None:
            found.append(
                f'SCHEMA_VALIDATION_FAILED: The field "{unsupported}" is not supported by '
                f"Step Functions at {at}/{field}"
            )
    return found


def step_functions_names(member: str) -> set[str]:
    """An API member's names in a Task's Parameters: the Java SDK's (`DbInstanceIdentifier`,
    `Ttl`: the spelling public workflows for AWS use), and botocore's with a capital first
    (`DBInstanceIdentifier`), which is also taken, AWS's answer to it not being recorded;
    `Equals` is `EqualsValue`."""
    names = {java_member_name(member), member[:1].upper() + member[1:]}
    return {"EqualsValue" if name == "Equals" else name for name in names}


def _unsupported(value: Any, shape: Any) -> str | None:
    """The first field in `value` that `shape` has no member for, else None."""
    if shape is None or shape.metadata.get("document"):
        return None
    if shape.type_name == "structure" and isinstance(value, dict):
        members = {
            spelled: member
            for name, member in shape.members.items()
            for spelled in step_functions_names(name)
        }
        for key, item in value.items():
            name = key.removesuffix(".$")
            if name not in members:
                return str(name)
            if not key.endswith(".$"):  # a path's or intrinsic's value is known at run time
                nested = _unsupported(item, members[name])
                if nested is not None:
                    return nested
    elif shape.type_name == "list" and isinstance(value, list):
        for item in value:
            nested = _unsupported(item, shape.member)
            if nested is not None:
                return nested
    elif shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            nested = None if key.endswith(".$") else _unsupported(item, shape.value)
            if nested is not None:
                return nested
    return None
