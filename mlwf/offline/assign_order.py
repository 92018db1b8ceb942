"""A state's `Assign` takes effect once the state has given its output, as in AWS.

AWS evaluates a state's fields with the variables as they were when it was entered: in AWS's
recorded run of a Pass state that assigns `answer` and has `"OutputPath": "$answer"`, the
output is the old value, 42, not the one assigned (LocalStack's test_assign_reference_
variables.py::test_state_assign_evaluation_order[BASE_EVALUATION_ORDER_PASS_STATE],
recorded 2024-11-06); "Assign and Output evaluate in parallel: new variable values are not
available until the next state" (AWS's Step Functions skill, aws/agent-toolkit-for-aws).
moto set each variable as its Assign was evaluated, so the same state's OutputPath, Output,
ResultSelector or ResultPath read the new value. Here a state's assignments (its own, a
matching Choice rule's, a catcher's) are kept until its output has been evaluated, then
set; a write to a variable of an enclosing scope is still refused at the Assign, by moto.

moto's internals named here are pinned by tests/unit/test_assign_order.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest.mock import patch

_PENDING = "offline_pending_assignments"


def _set_pending(env: Any) -> None:
    store = env.variable_store
    for identifier, value in store.__dict__.pop(_PENDING, []):
        store.set(identifier, value)


@contextmanager
def assignments_after_output() -> Iterator[None]:
    """While the block runs, Assign is applied after the state's output."""
    from moto.stepfunctions.parser.asl.component.common.assign.assign_decl import AssignDecl
    from moto.stepfunctions.parser.asl.component.state.choice.state_choice import StateChoice
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import (
        ExecutionState,
    )
    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField

    # KeyError: moto changed; see tests/unit/test_assign_order.py
    assign = AssignDecl.__dict__["_eval_body"]
    owners = (CommonStateField, ExecutionState, StateChoice)
    outputs = {owner: owner.__dict__["_eval_state_output"] for owner in owners}

    def deferred_assign(declaration: Any, env: Any) -> None:
        store = env.variable_store
        pending = store.__dict__.setdefault(_PENDING, [])
        set_now = store.set

        def keep(variable_identifier: str, variable_value: Any) -> None:
            if variable_identifier in store._outer_scope:
                set_now(variable_identifier, variable_value)  # moto refuses it, as AWS does
            pending.append((variable_identifier, variable_value))

        store.set = keep  # this store's writes, while this Assign is evaluated
        try:
            assign(declaration, env)
        finally:
            del store.set

    def output_then_assigned(original: Any) -> Any:
        def evaluate(state: Any, env: Any) -> None:
            original(state, env)
            _set_pending(env)

        return evaluate

    with ExitStack() as stack:
        stack.enter_context(patch.object(AssignDecl, "_eval_body", deferred_assign))
        for owner, original in outputs.items():
            stack.enter_context(
                patch.object(owner, "_eval_state_output", output_then_assigned(original))
            )
        yield
