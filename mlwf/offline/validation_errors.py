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


def range_refusal(field: str, value: int, low: int, high: int) -> str | None:
    """The message for a number outside [low, high]; None inside it."""
    if low <= value <= high:
        return None
    bound = f"less than or equal to {high}" if value > high else f"greater than or equal to {low}"
    return validation_errors([(field, f"Member must have value {bound}", value)])
