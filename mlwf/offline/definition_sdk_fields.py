"""The fields of an AWS SDK task's Parameters CreateStateMachine does not support, which moto
took.

Step Functions checks an AWS SDK task's Parameters against the API's request when the state
machine is created, and refuses a field the request does not have:

    Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field "static" is not
    supported by Step Functions at /States/resource/Parameters'

(on one line; AWS's answer to an `aws-sdk:verifiedpermissions:createPolicy` task, quoted in
aws/aws-cdk#29968; the same words, for a nested `key` in Tags, in
aws/aws-step-functions-data-science-sdk-python#200). Field names are the API's members "in
PascalCase, even if the native service API is in camelCase" (`ExecutionArn` for
DescribeExecution's `executionArn`), and a member named `Equals` is `EqualsValue`
(https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html): a
field in camel case (`bucket`) is no member, as `key` for `Key` was refused above. Nested
fields are checked too (the `key` above), through structures, lists and the values of maps;
a map's own keys and a document's contents are the caller's. The location is the state's
`Parameters` (or a JSONata state's `Arguments`), not the field's own path, as recorded.
moto matched the fields to the API's members without regard to case and dropped unknown
ones or failed the state on them with a Python KeyError. Which field AWS names when there
are several is not recorded: the first met, in the definition's order, here.
"""

from __future__ import annotations

from typing import Any

from mlwf.offline.definition_fields import state_languages
from mlwf.offline.definition_resources import sdk_call
from mlwf.offline.sdk_services import boto_service, known_action, session


def sdk_field_diagnostics(document: dict[str, Any]) -> list[str]:
    """SCHEMA_VALIDATION_FAILED for each AWS SDK task with a field its API request lacks."""
    found = []
    for state, at, language in state_languages(document):
        call = sdk_call(state.get("Resource", "")) if state.get("Type") == "Task" else None
        if call is None or not known_action(call[0], call[1]):
            continue  # not an SDK task, or one definition_resources refuses
        field = "Parameters" if language == "JSONPath" else "Arguments"
        given = state.get(field)
        operation_name = call[1][:1].upper() + call[1][1:]
        model = session().get_service_model(boto_service(call[0]))
        unsupported = _unsupported(given, model.operation_model(operation_name).input_shape)
        if unsupported is not None:
            found.append(
                f'SCHEMA_VALIDATION_FAILED: The field "{unsupported}" is not supported by '
                f"Step Functions at {at}/{field}"
            )
    return found


def step_functions_name(member: str) -> str:
    """An API member's name in a Task's Parameters: PascalCase; `Equals` is `EqualsValue`."""
    name = member[:1].upper() + member[1:]
    return "EqualsValue" if name == "Equals" else name


def _unsupported(value: Any, shape: Any) -> str | None:
    """The first field in `value` that `shape` has no member for, else None."""
    if shape is None or shape.metadata.get("document"):
        return None
    if shape.type_name == "structure" and isinstance(value, dict):
        members = {step_functions_name(name): member for name, member in shape.members.items()}
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
