"""The transition checks CreateStateMachine and UpdateStateMachine make, which moto skips.

moto parses a definition but does not check where its transitions lead: a `Next` naming a
missing state is accepted, the execution runs its first tasks (with their side effects) and
then fails with States.Runtime. AWS refuses such a definition up front with InvalidDefinition:

    Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target:
    pass3 at /States/pass1/Next, MISSING_TRANSITION_TARGET: State "pass2" is not reachable.
    at /States/pass2'

(AWS's answer as recorded in localstack/localstack#11978; the error is InvalidDefinition in
https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html,
and the codes are those of
https://docs.aws.amazon.com/step-functions/latest/apireference/API_ValidateStateMachineDefinitionDiagnostic.html.)
As AWS reports them:
- a StartAt, Next, Default, Choices[i].Next or Catch[i].Next naming no state of its scope:
  `Missing 'Next' target: <name>`, whatever the field, at the field's path;
- a scope with no terminal state (End, Succeed, Fail): `MISSING_END_STATE: Workflow has no
  terminal state`, with no location; it suppresses the reachability check;
- otherwise a state no transition reaches: `State "<name>" is not reachable.` at its path.
Each scope is checked on its own: the top level, each Parallel branch, each Map's item
processor (a transition cannot leave its scope).

State names are unique in the whole state machine, its branches and item processors
included ("state names MUST be unique within the scope of the whole state machine", the
States Language; a name given twice in one States object too): `DUPLICATE_STATE_NAME:
Duplicate State name: <name> at <path>`, in AWS's words (Step Functions Local, AWS's own
implementation, as quoted in localstack's tests; the deploy error quoted in
aws-cloudformation/cfn-lint#3616). Reported at the name's second place, states read in
their order with each one's branches and item processor before the next state: an order
inferred, AWS's not recorded. moto accepted a name reused in a branch or an item processor,
and ran it; a name given twice in one States object it refused in its own words.

A state name is at most 80 characters (the States Language's "The state name, whose length
MUST BE less than or equal to 80 Unicode characters", https://states-language.net/, as quoted
in ManageIQ/floe#130):
`INVALID_STATE_NAME: Invalid State name: State '<name>' exceeds the 80-character limit
allowed by the service at /States/<name>`, AWS's answer as quoted in
ChristopheBougere/asl-validator#69 and aws-cloudformation/cfn-lint#4079. moto took such a
name, and ran it. Reported with the duplicates, each name before its second place.

CreateStateMachine and UpdateStateMachine run these checks with those of each state's fields
(mlwf.offline.definition_fields), of its Task resource (mlwf.offline.definition_resources)
and a service task's fields (mlwf.offline.definition_task_fields), and of its JSONata expressions
(mlwf.offline.definition_jsonata).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was

from mlwf.executions import EXPRESS
from mlwf.offline.definition_express import express_diagnostics
from mlwf.offline.definition_fields import field_diagnostics, state_languages
from mlwf.offline.definition_jsonata import expression_diagnostics
from mlwf.offline.definition_resources import resource_diagnostics
from mlwf.offline.definition_seconds import seconds_diagnostics
from mlwf.offline.definition_task_fields import field_diagnostics_of_tasks

PREFIX = "Invalid State Machine Definition: "
MAX_NAME_LENGTH = 80  # a state's name, in characters


def diagnostics(definition: str | dict[str, Any]) -> list[str]:
    """AWS's diagnostics for the definition's state names and transitions, in AWS's order;
    [] when none. A definition that is not a JSON object is left to the parser
    (SCHEMA_VALIDATION)."""
    document = _document(definition)
    if document is None:
        return []
    return _names(document, "", {}) + _scope(document, "")


class _Object(dict[str, Any]):
    """A JSON object that remembers the keys it was given more than once."""

    repeated: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    found = _Object(pairs)
    if len(found) < len(pairs):
        found.repeated = tuple(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
    return found


def _document(definition: str | dict[str, Any]) -> dict[str, Any] | None:
    """The definition as a JSON object; None when it is none (the parser's to report)."""
    try:
        document = (
            json.loads(definition, object_pairs_hook=_object)
            if isinstance(definition, str)
            else definition
        )
    except json.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


def _names(scope: dict[str, Any], path: str, seen: dict[str, str]) -> list[str]:
    """INVALID_STATE_NAME for each state name over MAX_NAME_LENGTH characters, and
    DUPLICATE_STATE_NAME for each one given before, in this scope or another."""
    states = scope.get("States")
    if not isinstance(states, dict):
        return []
    found = [_duplicate(name, f"{path}/States/{name}") for name in getattr(states, "repeated", ())]
    for name, state in states.items():
        at = f"{path}/States/{name}"
        if len(name) > MAX_NAME_LENGTH:
            found.append(
                f"INVALID_STATE_NAME: Invalid State name: State '{name}' exceeds the "
                f"{MAX_NAME_LENGTH}-character limit allowed by the service at {at}"
            )
        if name in seen:
            found.append(_duplicate(name, at))
        seen.setdefault(name, at)
        if not isinstance(state, dict):
            continue
        for i, branch in enumerate(_list(state.get("Branches"))):
            found += _names(branch, f"{at}/Branches[{i}]", seen)
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict):
                found += _names(state[key], f"{at}/{key}", seen)
    return list(dict.fromkeys(found))  # a name given twice here and once elsewhere: once


def _duplicate(name: str, at: str) -> str:
    return f"DUPLICATE_STATE_NAME: Duplicate State name: {name} at {at}"


def message(found: list[str]) -> str:
    return PREFIX + "'" + ", ".join(found) + "'"


def _scope(scope: dict[str, Any], path: str) -> list[str]:
    states = scope.get("States")
    if not isinstance(states, dict) or not states:
        return []  # a schema error, the parser's to report
    found: list[str] = []
    edges: dict[str, list[str]] = {}

    def target(name: Any, where: str, source: str | None) -> None:
        if not isinstance(name, str):
            return
        if name not in states:
            found.append(f"MISSING_TRANSITION_TARGET: Missing 'Next' target: {name} at {where}")
        elif source is not None:
            edges.setdefault(source, []).append(name)

    target(scope.get("StartAt"), f"{path}/StartAt", None)
    terminal = False
    nested: list[str] = []
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        at = f"{path}/States/{name}"
        for key, value in state.items():  # in the definition's own order
            if key in ("Next", "Default"):
                target(value, f"{at}/{key}", name)
            elif key in ("Choices", "Catch"):
                for i, rule in enumerate(_list(value)):
                    target(rule.get("Next"), f"{at}/{key}[{i}]/Next", name)
        terminal |= state.get("End") is True or state.get("Type") in ("Succeed", "Fail")
        for i, branch in enumerate(_list(state.get("Branches"))):
            nested += _scope(branch, f"{at}/Branches[{i}]")
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict):
                nested += _scope(state[key], f"{at}/{key}")
    if not terminal:
        found.append("MISSING_END_STATE: Workflow has no terminal state")
    else:
        start = scope.get("StartAt")
        reached = _reachable(start, edges) if isinstance(start, str) and start in states else set()
        for name in states:
            if name not in reached:
                unreachable = f'State "{name}" is not reachable.'
                found.append(f"MISSING_TRANSITION_TARGET: {unreachable} at {path}/States/{name}")
    return found + nested


def state_diagnostics(definition: str | dict[str, Any]) -> list[str]:
    """The field checks of mlwf.offline.definition_fields, the bounds of
    mlwf.offline.definition_seconds, the Task resources of mlwf.offline.definition_resources
    and the service tasks' fields of mlwf.offline.definition_task_fields, then the checks of
    mlwf.offline.definition_jsonata on each JSONata state."""
    document = _document(definition)
    if document is None:
        return []
    found = (
        field_diagnostics(document)
        + seconds_diagnostics(document)
        + resource_diagnostics(document)
        + field_diagnostics_of_tasks(document)
    )
    for state, at, language in state_languages(document):
        if language == "JSONata":
            found += expression_diagnostics(state, at)
    return found


def _reachable(start: str, edges: dict[str, list[str]]) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        for following in edges.get(stack.pop(), []):
            if following not in seen:
                seen.add(following)
                stack.append(following)
    return seen


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def findings(
    definition: str, parse: Callable[[str], None], machine_type: str = "STANDARD"
) -> tuple[list[str], str | None]:
    """Why CreateStateMachine refuses `definition` for a machine of `machine_type`: AWS's
    diagnostics, or else the message of `parse` (moto's parser: the schema's errors);
    ([], None) when it takes it."""
    from moto.stepfunctions.parser.api import InvalidDefinition

    document = _document(definition) or {}  # parsed once for both checks
    # The field checks and the names first: moto's parser refuses some of the same
    # definitions (a JSONPath state under a JSONata machine, a name given twice in one
    # States object), in its own words.
    fields = state_diagnostics(document)
    if machine_type == EXPRESS:
        fields += express_diagnostics(document)
    if fields or _names(document, "", {}):
        return diagnostics(document) + fields, None
    try:
        parse(definition)
    except InvalidDefinition as exc:
        return [], str(exc.message)
    return diagnostics(document), None


@contextmanager
def checked_at_create() -> Iterator[None]:
    """moto's CreateStateMachine and UpdateStateMachine refusing what AWS refuses, with
    AWS's error (InvalidDefinition) and message, while the offline stack runs."""
    from moto.core.exceptions import AWSError
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    backend = StepFunctionsParserBackend
    original = backend.__dict__["_validate_definition"]  # KeyError: moto changed
    create, update = backend.create_state_machine, backend.update_state_machine

    def validate(definition: str) -> None:
        found, schema = findings(definition, moto_parse(original), _machine_type.get())
        # moto's own InvalidDefinition reaches the client with an empty error code (it sets
        # `code`, moto's AWSError reads `TYPE`): answer with AWS's code in both cases.
        if found or schema:
            raise AWSError(message(found) if found else str(schema), "InvalidDefinition")

    # moto checks a definition without the machine's type, which an EXPRESS one needs
    def create_typed(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _typed(kwargs.get("sm_type")):  # as moto's responses pass it
            return create(self, *args, **kwargs)

    def update_typed(self: Any, arn: str, *args: Any, **kwargs: Any) -> Any:
        with _typed(self.describe_state_machine(arn).type):
            return update(self, arn, *args, **kwargs)

    with (
        patch.object(backend, "_validate_definition", staticmethod(validate)),
        patch.object(backend, "create_state_machine", create_typed),
        patch.object(backend, "update_state_machine", update_typed),
    ):
        yield


_machine_type: ContextVar[str] = ContextVar("machine_type", default="STANDARD")


@contextmanager
def _typed(machine_type: str | None) -> Iterator[None]:
    token = _machine_type.set(machine_type or "STANDARD")
    try:
        yield
    finally:
        _machine_type.reset(token)


def moto_parse(validate: Any) -> Callable[[str], None]:
    """moto's own check of a definition (its parser), from its `_validate_definition`."""
    return lambda definition: validate.__func__(definition=definition)
