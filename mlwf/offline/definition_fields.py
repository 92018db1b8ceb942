"""The field checks CreateStateMachine makes, which moto's parser skips or words its own way.

moto took a payload field `"inference_id.$": "Execution.Name"` (no `$`) as a literal, and a
`ResultPath` of `$.annotation[` as a path it failed on only at run time, after the tasks
before it had run; it ran a JSONPath state's `Output` by ignoring it, and a `Catch` on a
Pass state as if Pass states could catch. AWS refuses all of them at CreateStateMachine with
SCHEMA_VALIDATION_FAILED
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_ValidateStateMachineDefinitionDiagnostic.html):

- In a payload template (Parameters, ResultSelector, ItemSelector, Assign), a field whose
  name ends in `.$` takes a path or an intrinsic function: "The value for the field
  'Variable.$' must be a valid JSONPath or a valid intrinsic function call at
  /States/Pass/Assign" (AWS's answer, quoted in aws-cloudformation/cfn-lint#4085 and #4643).
- InputPath, OutputPath, ResultPath and a Choice rule's Variable are paths, starting with `$`
  (CloudFormation refuses others: aws-cloudformation/cfn-lint#4419). Here a path (these,
  and a `.$` field's) must also not be plainly broken (an unclosed bracket, a trailing
  dot); the other *Path fields are left to the interpreter. (The wording of this one is
  this module's; AWS's was not found.)
- Arguments and Output are JSONata's fields, which replace the five JSONPath ones
  (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html); a state's
  language is its own QueryLanguage, else the machine's (not an enclosing Map's or
  Parallel's). A JSONPath state may not declare JSONata's fields, a JSONata state may not
  declare JSONPath's (Result among them, state-pass.html), a state may not go back to
  JSONPath under a JSONata machine (then AWS says nothing of its JSONata fields), and neither
  an ItemProcessor nor a Parallel branch may declare a QueryLanguage.
- Retry and Catch belong to Task, Parallel and Map states, TimeoutSeconds to Task states:
  "Field 'Catch' is not supported" at the state.
- In their Retry and Catch, States.ALL appears alone in its ErrorEquals and only in the last
  retrier or catcher ("must appear alone",
  https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html):
  "States.ALL must appear alone and at end of list at /States/S/Catch[0]/ErrorEquals[0]"
  (AWS's answer at a CloudFormation deploy, quoted in aws/aws-cdk#10530, which lists each
  place twice; once here). moto accepted it, and its first catcher caught everything.

The messages of the last two groups, their locations (the state, or the ItemProcessor) and
the inheritance of the language are AWS's answers as measured with `aws stepfunctions
validate-state-machine-definition` and recorded in floci-io/floci#2735, #2968 and #3733 and
that project's tests (parallelBranchCannotDeclareQueryLanguage).
HeartbeatSeconds and the *SecondsPath fields are held to Task states too, as the Task
state's page lists them (https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html);
that one was not measured. So are Next and End, which Succeed, Fail and Choice states do not
have (moto ran a Fail's Next as if it were not there): the same words, not measured
either. The input and output fields are held to the types the States Language gives them
(a Wait's ResultPath, which moto ignored, a Fail's InputPath, a Pass's ResultSelector), as
AWS's own linter holds them ("A Fail State MUST NOT have a field named "InputPath"",
awslabs/statelint's data/StateMachine.j2119), in the words AWS answers a Wait's ResultPath
with: "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Field 'ResultPath' is
not supported at /States/..." (sam-goodwin/functionless#308).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from mlwf.offline.choice_timestamps import choice_timestamp
from mlwf.offline.definition_map import map_diagnostics
from mlwf.offline.wait_timestamps import timestamp_diagnostics

PAYLOAD_TEMPLATES = ("Parameters", "ResultSelector", "ItemSelector", "Assign")
PATH_FIELDS = ("InputPath", "OutputPath", "ResultPath")
JSONATA_ONLY = ("Arguments", "Output")
# A state's own fields that only JSONPath states have (transforming-data.html)
JSONPATH_ONLY: tuple[str, ...] = (*PATH_FIELDS, "Parameters", "ResultSelector", "ItemsPath")
JSONPATH_ONLY += ("Result",)  # state-pass.html: "JSONPath only"
JSONPATH_ONLY += ("SecondsPath", "TimestampPath", "TimeoutSecondsPath", "HeartbeatSecondsPath")
JSONPATH_ONLY += ("MaxConcurrencyPath", "ToleratedFailureCountPath")
JSONPATH_ONLY += ("ToleratedFailurePercentagePath", "ErrorPath", "CausePath")
# Fields only some state types have, and those types
ERROR_HANDLING = ("Task", "Parallel", "Map")
OWNERS = {"Retry": ERROR_HANDLING, "Catch": ERROR_HANDLING, "TimeoutSeconds": ("Task",)}
OWNERS |= dict.fromkeys(
    ("TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath"), ("Task",)
)
# Succeed and Fail end the workflow, a Choice moves through its rules and Default
# (statemachine-structure.html, state-choice.html)
OWNERS |= dict.fromkeys(("Next", "End"), ("Task", "Parallel", "Map", "Pass", "Wait"))
STATE_TYPES = ("Task", "Parallel", "Map", "Pass", "Wait", "Choice", "Succeed", "Fail")
# The States Language's table of state types and fields (https://states-language.net/,
# "Table of State Types and Fields"): every type but Fail has InputPath and OutputPath
# ("The Fail state only allows the use of Type and Comment fields from the set of common
# state fields", state-fail.html); the types that make a result have ResultPath and
# Parameters, those that call something ResultSelector; Result is the Pass state's.
OWNERS |= dict.fromkeys(("InputPath", "OutputPath"), tuple(t for t in STATE_TYPES if t != "Fail"))
OWNERS |= dict.fromkeys(("ResultPath", "Parameters"), ("Task", "Parallel", "Map", "Pass"))
OWNERS |= {"ResultSelector": ("Task", "Parallel", "Map"), "Result": ("Pass",)}
# Each type's own fields (the same table, and each type's page): a Task's Resource, a Wait's
# Seconds, a Map's ItemSelector ... on another type. AWS refuses a field on any type that
# does not have it in these words (floci-io/floci#2735, measured for Catch, Retry and
# TimeoutSeconds; terraform-aws-modules/terraform-aws-step-functions#68 quotes it for a
# misplaced MaxConcurrency). Assign is on "Pass, Task, Map, Parallel, Choice, Wait"
# (workflow-variables.html), Output on every type but Fail (state-fail.html), Arguments on
# the types that call or run something.
OWNERS |= dict.fromkeys(("Resource", "Credentials"), ("Task",))
OWNERS |= dict.fromkeys(("Choices", "Default"), ("Choice",))
OWNERS |= dict.fromkeys(("Seconds", "SecondsPath", "Timestamp", "TimestampPath"), ("Wait",))
OWNERS |= dict.fromkeys(("Error", "ErrorPath", "Cause", "CausePath"), ("Fail",))
OWNERS |= {"Branches": ("Parallel",)}
MAP_ONLY: tuple[str, ...] = (
    "Iterator",
    "ItemProcessor",
    "ItemsPath",
    "Items",
    "ItemSelector",
    "ItemReader",
)
MAP_ONLY += ("ItemBatcher", "ResultWriter", "MaxConcurrency", "MaxConcurrencyPath", "Label")
MAP_ONLY += ("ToleratedFailurePercentage", "ToleratedFailurePercentagePath")
MAP_ONLY += ("ToleratedFailureCount", "ToleratedFailureCountPath")
OWNERS |= dict.fromkeys(MAP_ONLY, ("Map",))
OWNERS |= {"Assign": ("Pass", "Task", "Map", "Parallel", "Choice", "Wait")}
OWNERS |= {"Output": tuple(t for t in STATE_TYPES if t != "Fail")}
OWNERS |= {"Arguments": ("Task", "Parallel", "Map")}
# Every field some state type has (the state pages of the developer guide: state-task.html,
# state-map.html, ...). Any other is refused at its state as AWS refuses a Task's "Timeout",
# "SCHEMA_VALIDATION_FAILED: Field 'Timeout' is not supported" (anomalyco/sst#6747); moto's
# parser refused it in its grammar's words ("mismatched input ... expecting ...").
KNOWN_FIELDS = frozenset(
    {"Type", "Comment", "QueryLanguage", "Next", "End", "Assign", "Arguments", "Output"}
    | {"InputPath", "OutputPath", "Parameters", "ResultPath", "ResultSelector", "Result"}
    | {"Retry", "Catch", "Resource", "Credentials", "TimeoutSeconds", "TimeoutSecondsPath"}
    | {"HeartbeatSeconds", "HeartbeatSecondsPath", "Choices", "Default", "Branches"}
    | {"Seconds", "SecondsPath", "Timestamp", "TimestampPath"}
    | {"Error", "ErrorPath", "Cause", "CausePath"}
    | {"Iterator", "ItemProcessor", "ItemsPath", "Items", "ItemSelector", "ItemReader"}
    | {"ItemBatcher", "ResultWriter", "MaxConcurrency", "MaxConcurrencyPath", "Label"}
    | {"ToleratedFailurePercentage", "ToleratedFailurePercentagePath"}
    | {"ToleratedFailureCount", "ToleratedFailureCountPath"}
)
INTRINSIC = re.compile(r"^States\.[A-Za-z0-9]+\(")  # Base64Encode has digits


def field_diagnostics(document: dict[str, Any]) -> list[str]:
    """SCHEMA_VALIDATION_FAILED diagnostics for the definition's states."""
    found: list[str] = []
    jsonata_machine = _machine_language(document) == "JSONata"
    for state, at, language in state_languages(document):
        downgraded = jsonata_machine and state.get("QueryLanguage") == "JSONPath"
        if downgraded:
            found.append(
                "SCHEMA_VALIDATION_FAILED: 'QueryLanguage' can not be 'JSONPath' if set to "
                f"'JSONata' for whole state machine at {at}"
            )
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict) and "QueryLanguage" in state[key]:
                found.append(_not_supported("QueryLanguage", f"{at}/{key}"))
        for i, branch in enumerate(_items(state.get("Branches"))):
            if isinstance(branch, dict) and "QueryLanguage" in branch:
                found.append(_not_supported("QueryLanguage", f"{at}/Branches[{i}]"))
        kind = state.get("Type")
        for field, owners in OWNERS.items():
            # a field of the other language is refused for its language (below), once
            other_language = field in (JSONPATH_ONLY if language != "JSONPath" else JSONATA_ONLY)
            if field in state and kind in STATE_TYPES and kind not in owners and not other_language:
                found.append(_not_supported(field, at))
        if kind in STATE_TYPES:
            found += [_not_supported(field, at) for field in state if field not in KNOWN_FIELDS]
        if kind in ERROR_HANDLING:
            for field in ("Retry", "Catch"):
                found += _states_all_placed(state.get(field), f"{at}/{field}")
        if kind == "Map":
            found += map_diagnostics(state, at, language)
        found += timestamp_diagnostics(state, at, language)
        if language == "JSONPath":
            found += _jsonpath_state(state, at, other_language=not downgraded)
        else:
            found += [
                _other_language("JSONata", f, "JSONPath", at) for f in JSONPATH_ONLY if f in state
            ]
    return found


def state_languages(document: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str, str]]:
    """Each state of the definition, however nested, with its location and its language:
    its own QueryLanguage, else the machine's."""
    yield from _states(document, "", _machine_language(document))


def _machine_language(document: dict[str, Any]) -> str:
    return "JSONata" if document.get("QueryLanguage") == "JSONata" else "JSONPath"


def _states(scope: dict[str, Any], path: str, machine: str) -> Iterator[tuple[dict, str, str]]:
    states = scope.get("States")
    if not isinstance(states, dict):
        return
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        at = f"{path}/States/{name}"
        own = state.get("QueryLanguage", machine)
        yield state, at, "JSONPath" if own == "JSONPath" else "JSONata"
        for i, branch in enumerate(_items(state.get("Branches"))):
            if isinstance(branch, dict):
                yield from _states(branch, f"{at}/Branches[{i}]", machine)
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict):
                yield from _states(state[key], f"{at}/{key}", machine)


def _states_all_placed(handlers: Any, at: str) -> list[str]:
    """States.ALL alone in its ErrorEquals, and only in the last retrier or catcher (the
    error-handling page: it "must appear alone"): each place it is not, in AWS's words."""
    found = []
    listed = _items(handlers)
    for i, handler in enumerate(listed):
        errors = _items(handler.get("ErrorEquals")) if isinstance(handler, dict) else []
        for j, error in enumerate(errors):
            if error == "States.ALL" and (len(errors) > 1 or i < len(listed) - 1):
                found.append(
                    "SCHEMA_VALIDATION_FAILED: States.ALL must appear alone and at end of "
                    f"list at {at}[{i}]/ErrorEquals[{j}]"
                )
    return found


def _not_supported(field: str, at: str) -> str:
    return f"SCHEMA_VALIDATION_FAILED: Field '{field}' is not supported at {at}"


def _other_language(language: str, field: str, owner: str, at: str) -> str:
    return (
        f"SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to '{language}', but field "
        f"'{field}' is only supported for the '{owner}' QueryLanguage at {at}"
    )


def _jsonpath_state(state: dict[str, Any], at: str, other_language: bool = True) -> list[str]:
    found = [
        _other_language("JSONPath", f, "JSONata", at)
        for f in JSONATA_ONLY
        if f in state and other_language  # a downgraded state: AWS names only the downgrade
    ]
    for field in PATH_FIELDS:
        value = state.get(field)
        if value is not None and not _is_path(value):
            found.append(_not_a_path(field, f"{at}/{field}"))
    for i, rule in enumerate(_items(state.get("Choices"))):
        found += _choice_rule(rule, f"{at}/Choices[{i}]")
    for field in PAYLOAD_TEMPLATES:
        found += _payload(state.get(field), f"{at}/{field}")
    return found


# A comparison's operand, by the type the States Language gives it (states-language.net,
# "Choice Rules"): StringEquals compares strings, NumericEquals numbers, ... moto took
# `"NumericGreaterThan": "0.9"` and failed each execution at the rule with Python's
# TypeError. AWS's schema refuses it; its words are inferred ("Expected value of type
# Integer", quoted for a string in an integer field), not recorded for these fields.
OPERAND_TYPES = {"String": "String", "Numeric": "Number", "Boolean": "Boolean"}
OPERAND_TYPES |= {"Timestamp": "Timestamp", "Is": "Boolean"}


def _operand(field: str, value: Any, at: str) -> list[str]:
    kind = next((t for p, t in OPERAND_TYPES.items() if field.startswith(p)), None)
    if kind is None or field in ("Variable", "Next", "And", "Or", "Not"):
        return []
    if field.endswith("Path") and not field.startswith("Is"):
        return [] if _is_path(value) else [_not_a_path(field, f"{at}/{field}")]
    right = {
        "String": isinstance(value, str),
        "Number": isinstance(value, int | float) and not isinstance(value, bool),
        "Boolean": isinstance(value, bool),
        "Timestamp": choice_timestamp(value) is not None,
    }[kind]
    if right:
        return []
    return [f"SCHEMA_VALIDATION_FAILED: Expected value of type {kind} at {at}/{field}"]


def _choice_rule(rule: Any, at: str) -> list[str]:
    if not isinstance(rule, dict):
        return []
    found = []
    if "Variable" in rule and not _is_path(rule["Variable"]):
        found.append(_not_a_path("Variable", f"{at}/Variable"))
    for field, value in rule.items():
        found += _operand(field, value, at)
    for combinator in ("And", "Or"):
        for i, inner in enumerate(_items(rule.get(combinator))):
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


def _items(value: Any) -> list[Any]:
    """A list field's items; nothing when it is no list (these checks run before moto's
    parse, which refuses that shape in its own words)."""
    return value if isinstance(value, list) else []
