"""ValidateStateMachineDefinition, which moto does not implement (its server answered HTTP
500 with a traceback, and the AWS CLI retried it four times).

AWS's API (https://docs.aws.amazon.com/step-functions/latest/apireference/API_ValidateStateMachineDefinition.html)
answers `result` OK or FAIL, the `diagnostics` found (ERROR ones make it FAIL), and
`truncated` when there were more than `maxResults` (0 or absent: 100, the most). Each
diagnostic has a `severity`, a `code`, a `message` and, when it has one, a `location`
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_ValidateStateMachineDefinitionDiagnostic.html).

The offline answer comes from the checks CreateStateMachine makes offline
(mlwf.offline.definition_check.findings): a definition it answers OK for is one
CreateStateMachine takes, and each refusal is one ERROR diagnostic. moto's parser's
refusals are SCHEMA_VALIDATION_FAILED in moto's words; a definition that is not JSON,
INVALID_JSON_DESCRIPTION; an empty one, MISSING_DESCRIPTION. With `type` EXPRESS, the
patterns an Express workflow cannot run are refused too (mlwf.offline.definition_express).
No WARNING diagnostics are made (NO_DOLLAR, NO_PATH, PASS_RESULT_IS_STATIC): their words
are not recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was

from mlwf.offline.definition_check import PREFIX, checked_at_create, findings, moto_parse
from mlwf.offline.validation_errors import HIDDEN, validation_errors

MAX_RESULTS = 100


def validation(
    definition: str,
    parse: Callable[[str], None],
    max_results: int = 0,
    machine_type: str = "STANDARD",
) -> dict:
    """ValidateStateMachineDefinition's answer for `definition`, for a `machine_type` machine."""
    found = [_diagnostic(text) for text in _texts(definition, parse, machine_type)]
    limit = max_results or MAX_RESULTS
    return {
        "result": "FAIL" if found else "OK",
        "diagnostics": found[:limit],
        "truncated": len(found) > limit,
    }


def _texts(definition: str, parse: Callable[[str], None], machine_type: str) -> list[str]:
    if not definition.strip():
        return ["MISSING_DESCRIPTION: The definition is empty"]
    try:
        json.loads(definition)
    except ValueError as exc:
        return [f"INVALID_JSON_DESCRIPTION: {exc}"]
    found, schema = findings(definition, parse, machine_type)
    if schema is not None:
        return [f"SCHEMA_VALIDATION_FAILED: {schema.removeprefix(PREFIX)}"]
    return found


def _diagnostic(text: str) -> dict[str, str]:
    """`CODE: message at /location` (definition_check's form) as a diagnostic element.
    The location is the last ` at /...`: a state's name may hold spaces, not ` at /`."""
    code, _, rest = text.partition(": ")
    words, at, location = rest.rpartition(" at /")
    diagnostic = {"severity": "ERROR", "code": code, "message": words if at else rest}
    if at:
        diagnostic["location"] = "/" + location
    return diagnostic


@contextmanager
def definitions_checked() -> Iterator[None]:
    """CreateStateMachine and UpdateStateMachine refusing what AWS refuses
    (definition_check.checked_at_create), and ValidateStateMachineDefinition answering from
    the same checks, while the block runs. moto's own parser's check is taken before
    checked_at_create replaces it."""
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    parse = moto_parse(StepFunctionsParserBackend.__dict__["_validate_definition"])  # KeyError
    with definitions_validated(parse), checked_at_create():
        yield


@contextmanager
def definitions_validated(parse: Callable[[str], None]) -> Iterator[None]:
    """moto's Step Functions answering ValidateStateMachineDefinition, in-process and over
    HTTP, while the block runs; `parse` is moto's own parser's check."""
    from moto.stepfunctions.exceptions import ValidationException
    from moto.stepfunctions.responses import StepFunctionResponse

    def validate_state_machine_definition(response: Any) -> str:
        params = json.loads(response.body or "{}")
        given = params.get("definition")
        # required (the SDKs check it before sending); an empty one, and `type` and `severity`
        # outside their enums, are refused before, by request_constraints
        if given is None:
            problem = ("definition", "Member must not be null", HIDDEN)
            raise ValidationException(validation_errors([problem]))
        # past 100: refused before, by request_constraints (the API model's bounds)
        max_results = params.get("maxResults", 0)
        if not isinstance(max_results, int):
            problem = ("maxResults", "Member must be an integer", max_results)
            raise ValidationException(validation_errors([problem]))
        given_type = params.get("type", "STANDARD")
        answer = validation(str(params.get("definition", "")), parse, max_results, given_type)
        return json.dumps(answer)

    with patch.object(
        StepFunctionResponse,
        "validate_state_machine_definition",
        validate_state_machine_definition,
        create=True,
    ):
        yield
