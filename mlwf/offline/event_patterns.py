"""An EventBridge rule's pattern checked at PutRule, as EventBridge checks it.

EventBridge compiles a pattern when the rule is put, and refuses one it cannot read with
InvalidEventPatternException, "Event pattern is not valid. Reason: ..." (so a typo in the
template's upload rule fails `sam deploy`, aws/aws-cdk#32492: "suffix match pattern must be
a string"). The operators are the documented ones
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html),
and the reasons are the words of event-ruler, the library EventBridge matches with
(aws/event-ruler: JsonRuleCompiler, and WildcardParser's position, which counts the quote
that event-ruler puts before the value). AWS's message goes on with where in the pattern
it stopped (" at [Source: ...; line: 1, column: N]"); offline gives the reason alone.

moto checked only that each field's value is an object or a non-empty array: it took an
unknown operator (`"sufix"`), and then matched every event with it; and `"**"` in a wildcard.
And its TestEventPattern answered nothing (an empty 200): here it answers `Result`, whether
the event matches the pattern, by the same matcher the rules use (moto's), after the same
checks (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_TestEventPattern.html).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

OPERATORS = frozenset(
    {"prefix", "suffix", "equals-ignore-case", "anything-but", "exists", "numeric", "cidr"}
    | {"wildcard"}
)
ANYTHING_BUT_OPERATORS = frozenset({"prefix", "suffix", "equals-ignore-case", "wildcard"})


def pattern_problem(pattern: dict[str, Any]) -> str | None:
    """Why EventBridge refuses this pattern (a field's value is taken to be an object or
    an array already, as moto checks), or None."""
    for name, value in pattern.items():
        problems: list[str | None] = []
        if name == "$or" and isinstance(value, list):
            if len(value) < 2:
                return "There must have at least 2 Objects in $or relationship."
            problems = [pattern_problem(branch) for branch in value if isinstance(branch, dict)]
        elif isinstance(value, dict):
            problems = [pattern_problem(value) if value else "Empty objects are not allowed"]
        elif isinstance(value, list):
            problems = [_value_problem(item) for item in value]
        found = next((problem for problem in problems if problem), None)
        if found:
            return found
    return None


def _value_problem(item: Any) -> str | None:
    if item is None or isinstance(item, str | int | float | bool):
        return None
    if not isinstance(item, dict):
        return "Match value must be String, number, true, false, or null"
    if len(item) != 1:
        return "Only one key allowed in match expression"
    ((operator, value),) = item.items()
    if operator not in OPERATORS:
        return f"Unrecognized match type {operator}"
    return _operand_problem(operator, value)


def _operand_problem(operator: str, value: Any) -> str | None:
    if operator in ("prefix", "suffix"):
        if isinstance(value, dict) and set(value) == {"equals-ignore-case"}:
            value = value["equals-ignore-case"]
        if not isinstance(value, str):
            return f"{operator} match pattern must be a string"
    elif operator == "equals-ignore-case" and not isinstance(value, str):
        return "equals-ignore-case match pattern must be a string"
    elif operator == "exists" and not isinstance(value, bool):
        return "exists match pattern must be either true or false."
    elif operator == "numeric":
        return _numeric_problem(value)
    elif operator == "cidr" and not isinstance(value, str):
        return "prefix match pattern must be a string"  # event-ruler's words for cidr too
    elif operator == "wildcard":
        return _wildcard_problem(value)
    elif operator == "anything-but" and isinstance(value, dict):
        return _anything_but_problem(value)
    return None


def _anything_but_problem(value: dict[str, Any]) -> str | None:
    unsupported = sorted(set(value) - ANYTHING_BUT_OPERATORS)
    if unsupported:
        return f"Unsupported anything-but pattern: {unsupported[0]}"
    for operator, operand in value.items():
        operands = operand if isinstance(operand, list) else [operand]
        for each in operands:
            if operator == "wildcard":
                problem = _wildcard_problem(each)
                if problem:
                    return problem
            elif not isinstance(each, str):
                return (
                    "prefix/suffix match pattern must be a string"
                    if operator in ("prefix", "suffix")
                    else "Inside anything-but/equals-ignore-case list, "
                    "number|start|null|boolean is not supported."
                )
    return None


NUMERIC_OPERATORS = ("<", "<=", "=", ">", ">=")


def _numeric_problem(value: Any) -> str | None:
    """event-ruler's checks of `numeric`: one comparison, or a range from > or >= to < or <=."""
    if not isinstance(value, list):
        return "Value of numeric must be an array."
    if not value or not isinstance(value[0], str):
        return f"Invalid member in numeric match: {value[0] if value else ']'}"
    terms = list(value)
    while terms:
        operator, *rest = terms
        if operator not in NUMERIC_OPERATORS:
            return f"Unrecognized numeric range operator: {operator}"
        if not rest or isinstance(rest[0], bool) or not isinstance(rest[0], int | float):
            return f"Value of {'equals' if operator == '=' else operator} must be numeric"
        terms = rest[1:]
        if terms and (operator not in (">", ">=") or len(terms) > 2):
            return "Too many elements in numeric expression"
        if terms and terms[0] not in ("<", "<="):
            return f"Bad numeric range operator: {terms[0]}"
    return None


def _wildcard_problem(value: Any) -> str | None:
    """event-ruler's WildcardParser: a backslash escapes `*` or `\\` and nothing else, and
    two unescaped `*` may not follow each other; positions count UTF-8 bytes from the quote
    event-ruler puts before the value (and the one after it, which a last `\\` escapes)."""
    if not isinstance(value, str):
        return "wildcard match pattern must be a string"
    quoted = f'"{value}"'.encode()
    index = 1
    while index < len(quoted) - 1:
        byte = quoted[index : index + 1]
        if byte == b"\\":
            if quoted[index + 1 : index + 2] not in (b"*", b"\\") or index + 1 == len(quoted) - 1:
                return f"Invalid escape character at pos {index}"
            index += 2
            continue
        if byte == b"*" and quoted[index + 1 : index + 2] == b"*":
            return f"Consecutive wildcard characters at pos {index}"
        index += 1
    return None


@contextmanager
def event_patterns_checked() -> Iterator[None]:
    """While the block runs, PutRule (and the offline stack's rules) refuse a pattern
    EventBridge refuses, with its InvalidEventPatternException."""
    from moto.events.models import EventPatternParser
    from moto.events.responses import EventsHandler

    original = EventPatternParser.__dict__["_validate_event_pattern"]  # KeyError: see the test
    EventsHandler.__dict__["test_event_pattern"]  # KeyError: moto changed
    with (
        patch.object(EventPatternParser, "_validate_event_pattern", _checked(original)),
        patch.object(EventsHandler, "test_event_pattern", _test_event_pattern),
    ):
        yield


def _test_event_pattern(handler: Any) -> str:
    """TestEventPattern's answer, {"Result": true|false}."""
    from moto.core.exceptions import JsonRESTError
    from moto.events.models import EventPattern

    pattern = EventPattern.load(handler._get_param("EventPattern"))  # refused as at PutRule
    try:
        event = json.loads(handler._get_param("Event") or "")
    except ValueError:  # the error's words are ours: AWS's are not recorded
        raise JsonRESTError("ValidationException", "Event is not valid JSON") from None
    return json.dumps({"Result": bool(pattern.matches_event(event))})


def _checked(original: Callable[[Any, dict[str, Any]], None]) -> Callable[..., None]:
    from moto.events.exceptions import InvalidEventPatternException

    def validate(self: Any, pattern: dict[str, Any]) -> None:
        if not isinstance(pattern, dict):  # moto's checks would fail on it with AttributeError
            raise InvalidEventPatternException(reason="Filter is not an object")
        original(self, pattern)  # moto's checks (an object or a non-empty array) first
        problem = pattern_problem(pattern)
        if problem:
            raise InvalidEventPatternException(reason=problem)

    return validate
