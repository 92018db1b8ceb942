"""The checks CreateStateMachine makes on a JSONata state's expressions, which moto skips.

moto stores a JSONata definition without reading its expressions: one that does not parse,
or that reads a field of no input, fails only when its state runs, after the states before
it have run, with their side effects. AWS reads every expression when the definition is
created or updated ("Step Functions will implicitly perform the same syntax check when you
invoke CreateStateMachine and UpdateStateMachine",
https://docs.aws.amazon.com/step-functions/latest/apireference/API_ValidateStateMachineDefinition.html)
and refuses the definition with InvalidDefinition:

- an expression that does not parse: INVALID_JSONATA_EXPRESSION, with the parser's message
  (AWS leaves out JSONata's own code, such as S0207);
- a path whose first step is a field name, which Step Functions evaluates against no input
  (the state's input is `$states.input`, a variable is `$name`, transforming-data.html):
  "UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'phone' at the top level is not supported.
  at /States/E/Output/v", one per name and field.

AWS documents neither diagnostic; both are AWS's answers as measured with
`aws stepfunctions validate-state-machine-definition` and recorded in floci-io/floci#2670
and #2745. The location is the field's JSON pointer, `[i]` for an array's items. The parser
here is jsonata-python: its messages are JSONata's, without the quotes AWS puts around the
tokens (`Expected ], got ,` where AWS says `Expected "]", got ","`).

Where a name's context is not plainly the top level (inside a function's body, a transform,
or as `$`, `$$`, `*`), nothing is refused here: AWS's exact rule there was not found, and
refusing what AWS accepts would be worse than failing at run time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# Fields of a state that hold states of their own (checked as states) or text AWS does not
# evaluate.
NOT_EVALUATED = ("Comment", "ItemProcessor", "Iterator", "Branches", "CSVHeaders")
# Node attributes that hold nodes evaluated in the same context as their node (not a
# step's filters, sort terms or grouping: those read the step's items).
SAME_CONTEXT: tuple[str, ...] = ("expression", "procedure", "arguments", "lhs", "rhs", "lhs_object")
SAME_CONTEXT += ("condition", "then", "_else", "expressions")


def expression_diagnostics(state: dict[str, Any], at: str) -> list[str]:
    """AWS's diagnostics for the expressions of one JSONata state at `at`."""
    found: list[str] = []
    for text, where in _expressions(state, at):
        found += _check(text, where)
    return found


def _expressions(value: Any, at: str) -> Iterator[tuple[str, str]]:
    """Each "{% ... %}" string under `value` with its location, nested states left out."""
    if isinstance(value, str):
        if len(value) >= 4 and value.startswith("{%") and value.endswith("%}"):
            yield value[2:-2], at
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _expressions(item, f"{at}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in NOT_EVALUATED:
                yield from _expressions(item, f"{at}/{key}")


def _check(text: str, at: str) -> list[str]:
    import jsonata

    try:
        tree = jsonata.Jsonata(text).ast
    except jsonata.JException as exc:
        return [f"INVALID_JSONATA_EXPRESSION: {exc} at {at}"]
    except Exception as exc:  # the port raises some of JSONata's errors as Python's
        return [f"INVALID_JSONATA_EXPRESSION: {exc} at {at}"]
    names = list(dict.fromkeys(top_level_names(tree)))
    return [
        f"UNSUPPORTED_JSONATA_EXPRESSION: Reference to '{name}' at the top level is not "
        f"supported. at {at}"
        for name in names
    ]


def top_level_names(node: Any) -> Iterator[str]:
    """The field names a parsed expression reads from its own input, in order."""
    kind = getattr(node, "type", None)
    if kind is None or kind in ("lambda", "transform"):
        return
    if kind == "name":
        yield str(node.value)
        return
    if kind == "path":
        first = node.steps[0] if node.steps else None
        if first is not None and first.type == "name":
            yield str(first.value)
        else:  # a function call, a block...: its own parts read this input
            yield from _same_context(first)
        return  # the later steps, and each step's filters, read the items before them
    yield from _same_context(node)


def _same_context(node: Any) -> Iterator[str]:
    if node is None or getattr(node, "type", None) in ("lambda", "transform"):
        return
    for attribute in SAME_CONTEXT:
        for child in _nodes(getattr(node, attribute, None)):
            yield from top_level_names(child)


def _nodes(value: Any) -> Iterator[Any]:
    if isinstance(value, list):
        for item in value:
            yield from _nodes(item)  # an object constructor's [key, value] pairs
    elif value is not None and hasattr(value, "type"):
        yield value
