"""A Map state's items that are no array, named in AWS's words.

A Map whose items are not an array fails with States.QueryEvaluationError, "Map state input
must be an array but was: <the value as JSON>": `1`, `"string"`, `true`, `{"foo":"bar"}`,
`null` (LocalStack's recordings of AWS, test_base_scenarios.py::
test_map_state_items_input_types, a JSONata Map whose input is the value). moto 5.2.5 wrote
the value's Python type instead: "but was: <class 'int'>".

The value is the state's effective input (on moto's stack when the state's execution
starts), or what its ItemsPath selects there; a JSONata `Items` expression that is no array
fails earlier, in moto's own words. A JSONPath Map's answer (ItemsPath selecting no array)
is not recorded: moto names it the same way, and so the value is written the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

MOTO_CAUSE = "Map state input must be an array but was: <class "
CAUSE = "Map state input must be an array but was: {}"


@contextmanager
def map_items_named_as_aws() -> Iterator[None]:
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
    from moto.stepfunctions.parser.asl.utils.json_path import extract_json

    original = StateMap.__dict__["_eval_execution"]  # KeyError: moto changed; see the test

    def eval_execution(self: Any, env: Any) -> None:
        given = env.stack[-1] if env.stack else None
        try:
            original(self, env)
        except FailureEventException as exc:
            event: Any = exc.failure_event.event_details or {}
            details = event.get("evaluationFailedEventDetails")
            if details is not None and str(details.get("cause", "")).startswith(MOTO_CAUSE):
                value = given
                if self.items_path is not None:
                    value = extract_json(self.items_path.string_sampler.literal_value, given)
                details["cause"] = CAUSE.format(json.dumps(value, separators=(",", ":")))
            raise

    with patch.object(StateMap, "_eval_execution", eval_execution):
        yield
