"""A path that names nothing, and the event a States.Runtime cause names, in AWS's words.

Step Functions reads JSONPath with Jayway JsonPath and words a path that names nothing as
Jayway does (LocalStack's recordings of AWS, test_base_scenarios.py and
test_timeouts.py snapshots):
- a path whose last property is missing: "Invalid path '$.NoSuchOutputPath' : No results
  for path: $['NoSuchOutputPath']" (InputPath, OutputPath, TimeoutSecondsPath alike);
- a path with a property missing before its end: "Invalid path '$.no.such.result.path' :
  Missing property in path $['no']", the path up to that property (test_catch_states_runtime).
moto wrote the whole path as one name, "No results for path: $['no.such.result.path']".
Here a path of names and indexes is walked as Jayway walks it; any other path, or one that
meets a value that is no object or array, keeps moto's words (Jayway's are not recorded).

"An error occurred while executing the state 'X' (entered at the event id #N)": N is the
state's own entered event, #2 for a Task that failed on its OutputPath after three Lambda
events (test_catch_states_runtime), #4 for a Map after a Pass (test_map_state_items_input_
types). moto named the state's latest event instead (#5 in that Task's case).

The patched methods are pinned by tests/unit/test_path_failures.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest.mock import patch

PREFIXED = ("States.Runtime", "States.QueryEvaluationError")  # the causes moto prefixes


def jayway_words(path: str, data: Any) -> str | None:
    """What Jayway says of a definite path of names and indexes that names nothing in
    `data`; None for any other path or case."""
    steps = _steps(path)
    if not steps:
        return None
    node, shown = data, "$"
    for number, (name, index) in enumerate(steps):
        last = number == len(steps) - 1
        if name is not None:
            if not isinstance(node, dict):
                return None
            shown += f"['{name}']"
            if name not in node:
                return (
                    f"No results for path: {shown}" if last else f"Missing property in path {shown}"
                )  # noqa: E501
            node = node[name]
        else:
            if not isinstance(node, list) or not -len(node) <= index < len(node):
                return None
            shown += f"[{index}]"
            node = node[index]
    return None


def _steps(path: str) -> list[tuple[str | None, int]] | None:
    """(name, 0) or (None, index) for each step of a path of single names and indexes."""
    from jsonpath_ng.jsonpath import Child, Fields, Index, Root

    from mlwf.offline.json_paths import parsed

    try:
        node = parsed(path)
    except Exception:  # moto reports a path it cannot parse
        return None
    steps: list[tuple[str | None, int]] = []
    while isinstance(node, Child):
        step = node.right
        if isinstance(step, Fields) and len(step.fields) == 1 and step.fields[0] != "*":
            steps.append((step.fields[0], 0))
        elif isinstance(step, Index) and len(step.indices) == 1:
            steps.append((None, step.indices[0]))
        else:
            return None
        node = node.left
    return steps[::-1] if isinstance(node, Root) else None


def _worded(original: Callable[..., Any]) -> Callable[..., Any]:
    """A method that raises moto's failure for a NoSuchJsonPathError, its cause in Jayway's
    words."""
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.utils.json_path import NoSuchJsonPathError

    def method(self: Any, env: Any) -> Any:
        try:
            return original(self, env)
        except FailureEventException as exc:
            missing = exc.__context__
            if isinstance(missing, NoSuchJsonPathError):
                words = jayway_words(missing.json_path, missing.data)
                details: Any = exc.failure_event.event_details or {}
                for detail in details.values():
                    cause = str(detail.get("cause", ""))
                    if words is not None and " : No results for path: " in cause:
                        detail["cause"] = cause.split(" : ", 1)[0] + " : " + words
            raise

    return method


def _entered_event_named(original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """A state's evaluation whose States.Runtime or QueryEvaluationError names the event the
    state was entered at (the innermost state's: it is set once)."""
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEventException,
    )

    def eval_body(self: Any, env: Any) -> None:
        try:
            original(self, env)
        except FailureEventException as exc:
            failure: Any = exc.failure_event
            name = getattr(failure.error_name, "error_name", None)
            if name in PREFIXED and not getattr(failure, "mlwf_entered", False):
                entered = _entered_event(env, self)
                if entered is not None:
                    failure.source_event_id = entered
                failure.mlwf_entered = True
            raise

    return eval_body


def _entered_event(env: Any, state: Any) -> int | None:
    """The id of the last event that entered this state in its history, None if none."""
    wanted = getattr(state, "state_entered_event_type", None)
    entered = entered_event(env, state.name, wanted)
    return None if entered is None else int(entered["id"])


def entered_event(env: Any, name: str, event_type: Any = None) -> dict[str, Any] | None:
    """The last event in the execution's history that entered the state of that name (of
    that type, when given), None if none."""
    for event in reversed(env.event_manager.get_event_history()):
        details = event.get("stateEnteredEventDetails") or {}
        if details.get("name") == name and event_type in (None, event.get("type")):
            return dict(event)
    return None


@contextmanager
def path_failures_as_aws() -> Iterator[None]:
    from moto.stepfunctions.parser.asl.component.common.path.input_path import InputPath
    from moto.stepfunctions.parser.asl.component.common.path.output_path import OutputPath
    from moto.stepfunctions.parser.asl.component.common.timeouts.heartbeat import (
        HeartbeatSecondsPath,
    )
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import (
        TimeoutSecondsPath,
    )
    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField

    with ExitStack() as stack:
        for cls, name in (
            (InputPath, "_eval_body"),
            (OutputPath, "_eval_body"),
            (TimeoutSecondsPath, "_eval_seconds"),
            (HeartbeatSecondsPath, "_eval_seconds"),
        ):
            original = cls.__dict__[name]  # KeyError: moto changed; see the test
            stack.enter_context(patch.object(cls, name, _worded(original)))
        body = CommonStateField.__dict__["_eval_body"]  # KeyError: moto changed
        stack.enter_context(
            patch.object(CommonStateField, "_eval_body", _entered_event_named(body))
        )
        yield
