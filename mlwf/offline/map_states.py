"""A Map state of a stored definition: the text AWS was given, not the one moto's parser was.

Offline, moto's parser is handed a rewritten definition (mlwf.offline.map_grammar's
`for_moto_grammar`) where AWS's grammar is wider than moto's; the fields moto never saw
(an ItemBatcher, EXPRESS children, a JSONL reader, ...) are read back from the definition as
created, by the Map state's name.
"""

from __future__ import annotations

import json
from typing import Any


def map_state(definition: str, name: str) -> dict[str, Any] | None:
    """The Map state of that name in the definition, however nested; None if none."""
    found: dict[str, Any] | None = None

    def visit(states: Any) -> None:
        nonlocal found
        for state_name, state in (states or {}).items():
            if not isinstance(state, dict):
                continue
            if state_name == name and state.get("Type") == "Map":
                found = state
            processor = state.get("ItemProcessor") or state.get("Iterator") or {}
            visit(processor.get("States"))
            for branch in state.get("Branches") or []:
                visit(branch.get("States"))

    try:
        visit(json.loads(definition).get("States"))
    except (ValueError, AttributeError):
        return None
    return found


def stored_definition(env: Any) -> str:
    """The definition as created (not as moto's parser was given it), from moto's backend."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    arn = env.states.context_object.context_object_data["StateMachine"]["Id"]
    _, _, _, region, account, *_ = arn.split(":")
    try:
        machine = stepfunctions_parser_backends[account][region].describe_state_machine(arn)
    except Exception:  # a machine moto cannot describe: treat its children as STANDARD
        return "{}"
    return str(getattr(machine, "definition", "{}"))


def current_map_state(env: Any) -> dict[str, Any]:
    """The stored definition of the Map state now running in `env` ({} if not found)."""
    name = env.states.context_object.context_object_data["State"]["Name"]
    return map_state(stored_definition(env), name) or {}
