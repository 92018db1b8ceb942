"""The checks CreateStateMachine makes on a JSONata state's expressions, which moto skips.

moto stores a JSONata definition without reading its expressions: one that does not parse,
or that reads a field of no input, fails only when its state runs, after the states before
it have run, with their side effects. AWS reads every expression when the definition is
created or updated ("Step Functions will implicitly perform the same syntax check when you
invoke CreateStateMachine and UpdateStateMachine",
https://docs.aws.amazon.com/step-functions/latest/apireference/API_ValidateStateMachineDefinition.html)
and refuses the definition with InvalidDefinition:

- an expression that does not parse: INVALID_JSONATA_EXPRESSION with JSONata's message, its
  tokens quoted as jsonata-js quotes them and without JSONata's code ("Expected "]", got
  ","");
- a field name or the context item `$` read from the expression's own input, which Step
  Functions evaluates against no input (the state's input is `$states.input`, a variable
  is `$name`, transforming-data.html), even inside a function's body:
  "UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'phone' at the top level is not supported.
  at /States/E/Output/v", one per name and field, in writing order.

- `$$`, JSONata's root input, anywhere in an expression: "UNSUPPORTED_JSONATA_EXPRESSION:
  Reference to '$$' is not supported. at /States/Main/Output"; and `$states.errorOutput`
  anywhere but in a catcher's own Output or Assign, the one place it resolves ("only
  available in Catch", transforming-data.html): "UNSUPPORTED_JSONATA_EXPRESSION: Field
  '$states.errorOutput' does not exist. at /States/Main/Output" (floci-io/floci's
  StepFunctionsValidateDefinitionTest and its documentation; the words also in
  anomalyco/sst#6110, from a deploy). Each once per field, after the top-level names: an
  order inferred.

AWS documents none of these diagnostics. They, the rules of what counts as a top-level read (a
filter, a sort, a grouping or a transform reads its own items; `**.x` is accepted), and the
fields AWS does not read as expressions (a state's Comment and Next, a Retry's or Catch's
ErrorEquals and Next, a ReaderConfig's CSVHeaders; a payload key named like one of them is
read) are AWS's answers as measured with `aws stepfunctions validate-state-machine-definition`
and recorded in floci-io/floci#2670 and #2745 and in that project's tests
(JsonataTopLevelReferencesTest, StepFunctionsTopLevelReferenceIntegrationTest).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

# A state's fields that hold states of their own (checked as states) or names, not values
STATE_TEXT = ("Comment", "Next", "Default", "Type", "Resource", "End", "QueryLanguage")
NESTED_STATES = ("ItemProcessor", "Iterator", "Branches")
RULE_TEXT = ("ErrorEquals", "Next", "Comment")  # in a Retry, Catch or Choices entry
CATCHER_FIELD = re.compile(r"/Catch\[\d+\]/(Output|Assign)(/|\[|$)")  # from the state's path
# Node attributes that hold nodes evaluated in the same context as their node (not a
# step's filters, sort terms or grouping, nor a transform: those read their own items).
SAME_CONTEXT: tuple[str, ...] = ("expression", "procedure", "arguments", "lhs", "rhs", "lhs_object")
SAME_CONTEXT += ("condition", "then", "_else", "expressions", "body")


def expression_diagnostics(state: dict[str, Any], at: str) -> list[str]:
    """AWS's diagnostics for the expressions of one JSONata state at `at`."""
    found: list[str] = []
    for text, where in state_expressions(state, at):
        found += _check(text, where, in_catcher=CATCHER_FIELD.match(where[len(at) :]) is not None)
    return found


def state_expressions(state: dict[str, Any], at: str) -> Iterator[tuple[str, str]]:
    for key, value in state.items():
        if key in STATE_TEXT or key in NESTED_STATES:
            continue
        if key in ("Retry", "Catch", "Choices") and isinstance(value, list):
            for i, rule in enumerate(value):
                if isinstance(rule, dict):
                    for field, item in rule.items():
                        if field not in RULE_TEXT:
                            yield from _expressions(item, f"{at}/{key}[{i}]/{field}")
        elif key == "ItemReader" and isinstance(value, dict):
            for field, item in value.items():
                if field == "ReaderConfig" and isinstance(item, dict):
                    config = {k: v for k, v in item.items() if k != "CSVHeaders"}
                    yield from _expressions(config, f"{at}/{key}/{field}")
                else:
                    yield from _expressions(item, f"{at}/{key}/{field}")
        else:
            yield from _expressions(value, f"{at}/{key}")


def _expressions(value: Any, at: str) -> Iterator[tuple[str, str]]:
    """Each "{% ... %}" string under `value` with its location."""
    if isinstance(value, str):
        if len(value) >= 4 and value.startswith("{%") and value.endswith("%}"):
            yield value[2:-2], at
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _expressions(item, f"{at}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _expressions(item, f"{at}/{key}")


def _check(text: str, at: str, *, in_catcher: bool) -> list[str]:
    import jsonata

    try:
        tree = jsonata.Jsonata(text).ast
    except jsonata.JException as exc:
        return [f"INVALID_JSONATA_EXPRESSION: {parse_message(exc)} at {at}"]
    except Exception as exc:  # the port raises some of JSONata's errors as Python's
        return [f"INVALID_JSONATA_EXPRESSION: {exc} at {at}"]
    names = list(dict.fromkeys(top_level_names(tree)))
    found = [
        f"UNSUPPORTED_JSONATA_EXPRESSION: Reference to '{name}' at the top level is not "
        f"supported. at {at}"
        for name in names
    ]
    reads = set(reserved_reads(tree))
    if "$$" in reads:
        found.append(f"UNSUPPORTED_JSONATA_EXPRESSION: Reference to '$$' is not supported. at {at}")
    if "$states.errorOutput" in reads and not in_catcher:
        found.append(
            f"UNSUPPORTED_JSONATA_EXPRESSION: Field '$states.errorOutput' does not exist. at {at}"
        )
    return found


def reserved_reads(node: Any) -> Iterator[str]:
    """`$$` and `$states.<field>` wherever the parsed expression reads them: in a filter,
    a function's body or an argument too."""
    seen: set[int] = set()
    pending = [node]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        kind = getattr(current, "type", None)
        if kind == "variable" and current.value == "$":
            yield "$$"
        steps = getattr(current, "steps", None) or []
        if kind == "path" and len(steps) > 1 and steps[0].type == "variable":
            if steps[0].value == "states" and steps[1].type == "name":
                yield f"$states.{steps[1].value}"
        for attribute, value in vars(current).items():
            if attribute != "_outer_instance":  # the parser, not a node
                pending.extend(_nodes(value))


def parse_message(exc: Any) -> str:
    """JSONata's message as jsonata-js words it: its {{token}}s JSON-quoted (jsonata-python
    puts them in bare: `Expected ], got ,`)."""
    import jsonata

    template = jsonata.JException.error_codes.get(exc.error)
    if not template or "{{{" in template:
        return str(exc)
    values = iter([exc.current, exc.expected, exc.extra])
    return re.sub(r"\{\{\w+\}\}", lambda _: json.dumps(next(values)), template)


def top_level_names(node: Any) -> Iterator[str]:
    """The names a parsed expression reads from its own input, in writing order: field
    names, and `$` for the context item itself."""
    kind = getattr(node, "type", None)
    if kind is None or kind == "transform":
        return
    if kind == "name":
        yield str(node.value)
        return
    if kind == "variable" and node.value == "":
        yield "$"
        return
    if kind == "path":
        first = node.steps[0] if node.steps else None
        if first is not None and first.type == "name":
            yield str(first.value)
        elif first is not None and first.type == "variable" and first.value == "":
            yield "$"
        else:  # a function call, a block...: its own parts read this input
            yield from _same_context(first)
        return  # the later steps, and each step's filters, read the items before them
    yield from _same_context(node)


def _same_context(node: Any) -> Iterator[str]:
    if node is None or getattr(node, "type", None) == "transform":
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
