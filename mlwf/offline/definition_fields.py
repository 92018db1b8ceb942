"""The field checks CreateStateMachine makes on JSONPath states, which moto's parser skips.

moto took a payload field `"inference_id.$": "Execution.Name"` (no `$`) as a literal, and a
`ResultPath` of `$.annotation[` as a path it failed on only at run time, after the tasks
before it had run; it ran a JSONPath state's `Output` by ignoring it. AWS refuses all three
at CreateStateMachine with SCHEMA_VALIDATION_FAILED
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_ValidateStateMachineDefinitionDiagnostic.html):

- In a payload template (Parameters, ResultSelector, ItemSelector, Assign), a field whose
  name ends in `.$` takes a path or an intrinsic function: "The value for the field
  'Variable.$' must be a valid JSONPath or a valid intrinsic function call at
  /States/Pass/Assign" (AWS's answer, quoted in aws-cloudformation/cfn-lint#4085 and #4643).
- InputPath, OutputPath, ResultPath and a Choice rule's Variable are paths, starting with `$`
  (CloudFormation refuses others: aws-cloudformation/cfn-lint#4419). Here a path (these,
  and a `.$` field's) must also not be plainly broken (an unclosed bracket, a trailing
  dot); the other *Path fields are left to the interpreter.
- Arguments and Output are JSONata's fields, which replace the five JSONPath ones
  (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html); a JSONata
  state with a JSONPath field moto's parser already refuses.

The wording of the last two messages is this module's; AWS's was not found.
"""

from __future__ import annotations

import re
from typing import Any

PAYLOAD_TEMPLATES = ("Parameters", "ResultSelector", "ItemSelector", "Assign")
PATH_FIELDS = ("InputPath", "OutputPath", "ResultPath")
JSONATA_ONLY = ("Arguments", "Output")
INTRINSIC = re.compile(r"^States\.[A-Za-z]+\(")


def field_diagnostics(document: dict[str, Any]) -> list[str]:
    """SCHEMA_VALIDATION_FAILED diagnostics for the definition's JSONPath states."""
    language = document.get("QueryLanguage", "JSONPath")
    return _scope(document, "", language)


def _scope(scope: dict[str, Any], path: str, language: Any) -> list[str]:
    found: list[str] = []
    states = scope.get("States")
    if not isinstance(states, dict):
        return found
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        at = f"{path}/States/{name}"
        own = state.get("QueryLanguage", language)
        if own == "JSONPath":
            found += _jsonpath_state(state, at)
        for i, branch in enumerate(state.get("Branches") or []):
            if isinstance(branch, dict):
                found += _scope(branch, f"{at}/Branches[{i}]", own)
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict):
                found += _scope(state[key], f"{at}/{key}", own)
    return found


def _jsonpath_state(state: dict[str, Any], at: str) -> list[str]:
    found = [
        f"SCHEMA_VALIDATION_FAILED: The field '{field}' is supported only in JSONata states "
        f"at {at}/{field}"
        for field in JSONATA_ONLY
        if field in state
    ]
    for field in PATH_FIELDS:
        value = state.get(field)
        if value is not None and not _is_path(value):
            found.append(_not_a_path(field, f"{at}/{field}"))
    for i, rule in enumerate(state.get("Choices") or []):
        found += _choice_rule(rule, f"{at}/Choices[{i}]")
    for field in PAYLOAD_TEMPLATES:
        found += _payload(state.get(field), f"{at}/{field}")
    return found


def _choice_rule(rule: Any, at: str) -> list[str]:
    if not isinstance(rule, dict):
        return []
    found = []
    if "Variable" in rule and not _is_path(rule["Variable"]):
        found.append(_not_a_path("Variable", f"{at}/Variable"))
    for combinator in ("And", "Or"):
        for i, inner in enumerate(rule.get(combinator) or []):
            found += _choice_rule(inner, f"{at}/{combinator}[{i}]")
    if isinstance(rule.get("Not"), dict):
        found += _choice_rule(rule["Not"], f"{at}/Not")
    return found


def _payload(template: Any, at: str) -> list[str]:
    found: list[str] = []
    if isinstance(template, list):
        for i, item in enumerate(template):
            found += _payload(item, f"{at}[{i}]")
    elif isinstance(template, dict):
        for key, value in template.items():
            if key.endswith(".$"):
                if not (_is_path(value) or (isinstance(value, str) and INTRINSIC.match(value))):
                    found.append(
                        f"SCHEMA_VALIDATION_FAILED: The value for the field '{key}' must be a "
                        f"valid JSONPath or a valid intrinsic function call at {at}"
                    )
            else:
                found += _payload(value, f"{at}/{key}")
    return found


def _not_a_path(field: str, at: str) -> str:
    return (
        f"SCHEMA_VALIDATION_FAILED: The value for the field '{field}' must be a valid "
        f"JSONPath at {at}"
    )


def _is_path(value: Any) -> bool:
    """A string that starts with `$` and is not plainly broken: its brackets and quotes
    close, and it does not end in a `.` or `[`. No more: Step Functions' JSONPath takes
    member names that JSONPath parsers refuse (`$.where`, `$.café`), so a finer check
    would refuse what AWS accepts."""
    if not isinstance(value, str) or not value.startswith("$"):
        return False
    depth, quote = 0, ""
    for char in value:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0 and not quote and not value.endswith((".", "["))
