"""The words AWS's APIs give a request a parameter constraint refuses:
"1 validation error detected: Value '<value>' at '<field>' failed to satisfy constraint:
Member must ..." (several joined by "; " after "<n> validation errors detected"), as
moto's own ValidationExceptions word them and the AWS CLI shows them. A sensitive value
(an execution's input) is left out: "Value at 'input' ...".
"""

from __future__ import annotations

from typing import Any

HIDDEN = object()  # a value the message leaves out


def validation_errors(problems: list[tuple[str, str, Any]]) -> str:
    """The message for (field, "Member must ...", value) problems; value HIDDEN to leave
    it out."""
    parts = [
        f"Value{'' if value is HIDDEN else f" '{value}'"} at '{field}' failed to satisfy "
        f"constraint: {constraint}"
        for field, constraint, value in problems
    ]
    count = f"{len(parts)} validation error{'s' if len(parts) > 1 else ''} detected"
    return f"{count}: " + "; ".join(parts)


def bound_constraint(measure: str, size: int, low: int | None, high: int | None) -> str | None:
    """The constraint a number's value or a string's length (`measure`) outside [low, high]
    fails, "Member must have value less than or equal to 1000"; None inside it."""
    if high is not None and size > high:
        return f"Member must have {measure} less than or equal to {high}"
    if low is not None and size < low:
        return f"Member must have {measure} greater than or equal to {low}"
    return None
