"""Step Functions refusing a request whose parameter is outside its enum, range or length, as
AWS refuses it, in-process and over HTTP.

AWS checks each request against its API's model before the action runs: a value outside an
enum is a ValidationException, "1 validation error detected: Value 'DONE' at 'statusFilter'
failed to satisfy constraint: Member must satisfy enum value set: [RUNNING, SUCCEEDED, ...]"
(the form of mlwf.offline.validation_errors). The SDKs and the AWS CLI send any string, and
moto checks none: `aws stepfunctions list-executions --status-filter DONE` answered an empty
list, as if no execution had that status (found by a user-edit walk;
https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html gives
the values). The enums are botocore's model of the API, the one the SDKs are built from,
nested members included (`loggingConfiguration.level`).

The model's bounds are checked the same way: a number past its range ("Value '1001' at
'maxResults' failed to satisfy constraint: Member must have value less than or equal to
1000") and a string past its length ("... at 'nextToken' failed to satisfy constraint:
Member must have length less than or equal to 1024"), as AWS answered them in LocalStack's
recordings (test_sfn_api.py, the pagination tests, 2024-07-01); moto paged on with any. A
sensitive member's value (an execution's input) is left out of the message, as AWS leaves
it out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was

from mlwf.offline.validation_errors import HIDDEN, bound_constraint, validation_errors

Problem = tuple[str, str, Any]


Leaf = Callable[[Any, Any, str], list[Problem]]


def shape_problems(
    shape: Any, value: Any, leaf: Leaf, at: str = "", *, lower_first: bool = False
) -> list[Problem]:
    """What `leaf(shape, value, path)` finds at each scalar under `shape` (a botocore shape),
    with its member path (each member's name with its first letter lowered, when
    `lower_first`: the API's lower camel case, where botocore's names are capitalised)."""
    if shape.type_name == "structure" and isinstance(value, dict):
        found: list[Problem] = []
        for name, member in shape.members.items():
            if name in value:
                named = name[:1].lower() + name[1:] if lower_first else name
                path = f"{at}.{named}" if at else named
                found += shape_problems(member, value[name], leaf, path, lower_first=lower_first)
        return found
    if shape.type_name == "list" and isinstance(value, list):
        return [
            problem
            for i, item in enumerate(value)
            for problem in shape_problems(
                shape.member, item, leaf, f"{at}.{i + 1}.member", lower_first=lower_first
            )
        ]
    return leaf(shape, value, at)


def enum_leaf(shape: Any, value: Any, at: str) -> list[Problem]:
    """A string outside its shape's enum."""
    if shape.type_name != "string" or not shape.enum or not isinstance(value, str):
        return []
    if value in shape.enum:
        return []
    return [(at, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]", value)]


def enum_problems(shape: Any, value: Any, at: str = "") -> list[Problem]:
    """Each value under `shape` (a botocore shape) outside its enum, with its member path."""
    return shape_problems(shape, value, enum_leaf, at)


def bounds_leaf(shape: Any, value: Any, at: str) -> list[Problem]:
    """A number outside its shape's range, a string outside its length."""
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if shape.type_name in ("integer", "long") and isinstance(value, int):
        if isinstance(value, bool):
            return []
        measure, size = "value", value
    elif shape.type_name == "string" and isinstance(value, str):
        measure, size = "length", len(value)
    else:
        return []
    constraint = bound_constraint(measure, size, low, high)
    if constraint is None:
        return []
    return [(at, constraint, HIDDEN if shape.metadata.get("sensitive") else value)]


def request_problems(shape: Any, value: Any, at: str = "") -> list[Problem]:
    """Each value under `shape` outside its enum, range or length."""
    return shape_problems(shape, value, lambda *leaf: enum_leaf(*leaf) + bounds_leaf(*leaf), at)


@contextmanager
def step_functions_requests_checked() -> Iterator[None]:
    """While the block runs, Step Functions requests are checked against the API's model."""
    import botocore.session
    from moto.core.utils import camelcase_to_underscores
    from moto.stepfunctions.exceptions import ValidationException
    from moto.stepfunctions.responses import StepFunctionResponse

    model = botocore.session.get_session().get_service_model("stepfunctions")
    original = StepFunctionResponse.call_action  # AttributeError: moto changed; see the test

    def call_action(self: Any) -> Any:
        action = self._get_action()
        try:
            params = json.loads(self.body or "{}")
            shape = model.operation_model(action).input_shape
        except Exception:  # not JSON, or no such operation: moto's answer
            return original(self)
        problems = request_problems(shape, params) if shape is not None else []
        if problems:

            def refuse() -> Any:
                raise ValidationException(validation_errors(problems))

            # raised from the action, as moto serialises an action's errors; this response
            # object serves this request only
            setattr(self, camelcase_to_underscores(action), refuse)
        return original(self)

    with patch.object(StepFunctionResponse, "call_action", call_action):
        yield
