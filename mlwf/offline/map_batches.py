"""A Distributed Map's ItemBatcher, as Step Functions batches items for its children.

moto's grammar has no ItemBatcher: a Distributed Map with one (batching keys, 10 images a
child execution) was refused at CreateStateMachine in its parser's words, where AWS takes
it. What AWS does (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html):
"If you use batching, Step Functions adds the items to an Items array. It then passes the
array as input to each child workflow execution", `{"Items": [...]}`, with the
ItemBatcher's `BatchInput` beside it when there is one ("Fixed JSON input to include in
each batch"); a batch holds at most MaxItemsPerBatch items and MaxInputBytesPerBatch bytes
(each given or read by its `...Path`, from the state's input or, `$name`, from a workflow
variable: AWS's recorded run of `"MaxItemsPerBatchPath": "$maxItemsPerBatch"` succeeded,
LocalStack's test_reference_in_map_state_max_items_path, 2024-11-14, where offline failed
the Map Run in jsonpath-ng's words), and each child's input at most 256 KiB. Here a
batch's size is its items' JSON text, and an item is shaped by the ItemSelector before it
is batched (mlwf.offline.distributed_map applies it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

MAX_INPUT_BYTES = 256 * 1024  # a child execution's input, as every execution's


Variable = Callable[[str], Any]  # a workflow variable's value by its name
_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")  # `$name`, then any path into it


def batches(
    items: list[Any], batcher: dict[str, Any], state_input: Any, variable: Variable | None = None
) -> list[list[Any]]:
    """The items, in order, grouped as the ItemBatcher groups them."""
    most_items = _limit(batcher, "MaxItemsPerBatch", state_input, variable) or len(items) or 1
    most_bytes = min(
        _limit(batcher, "MaxInputBytesPerBatch", state_input, variable) or MAX_INPUT_BYTES,
        MAX_INPUT_BYTES,
    )
    grouped: list[list[Any]] = []
    size = 0
    for item in items:
        item_bytes = len(json.dumps(item, separators=(",", ":")).encode())
        if not grouped or len(grouped[-1]) >= most_items or size + item_bytes > most_bytes:
            grouped.append([])
            size = 0
        grouped[-1].append(item)
        size += item_bytes
    return grouped


def batch_input(
    items: list[Any],
    batcher: dict[str, Any],
    state_input: Any = None,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A child's input: its items, and the ItemBatcher's BatchInput if it has one (in a
    JSONata state, its `{% ... %}` values evaluated, however nested, with the Map state's
    input and context object as `$states.input` and `$states.context`)."""
    given = {"Items": items}
    if "BatchInput" in batcher:
        value = _evaluated(batcher["BatchInput"], state_input, context)
        given = {"BatchInput": value, **given}
    return given


def _evaluated(value: Any, state_input: Any, context: dict[str, Any] | None) -> Any:
    if isinstance(value, dict):
        return {k: _evaluated(v, state_input, context) for k, v in value.items()}
    if isinstance(value, list):
        return [_evaluated(v, state_input, context) for v in value]
    return _jsonata_value(value, state_input, context)


def _jsonata_value(value: Any, state_input: Any, context: dict[str, Any] | None = None) -> Any:
    """A JSONata state's `{% ... %}` field as its value, `$states.input` the state's input and
    `$states.context` its context object (moto's Distributed Map passed the text on: `int()`
    failed on it, in Python's words, and a BatchInput's `{% $states.context.State.EnteredTime
    %}` reached the children as text, where AWS evaluates them: LocalStack's recording of
    `test_map_item_batching_base_json_max_per_batch_jsonata`); any other value as it is.
    Not bound here: workflow variables; a size that is not a whole number is cut to one
    (AWS's answers to these not recorded)."""
    if not (isinstance(value, str) and value.startswith("{%") and value.endswith("%}")):
        return value
    from mlwf.offline.jsonata_states import evaluate

    bound = json.dumps({"input": state_input, "context": context or {}}, default=str)
    return evaluate(f"($states := {bound}; {value[2:-2].strip()})")


def _limit(
    batcher: dict[str, Any], field: str, state_input: Any, variable: Variable | None = None
) -> int | None:
    if field in batcher:
        return int(_jsonata_value(batcher[field], state_input))
    path = batcher.get(f"{field}Path")
    if not isinstance(path, str):
        return None
    from jsonpath_ng.ext import parse  # moto's own dependency

    source = state_input
    named = _VARIABLE.match(path)
    if named and variable is not None:  # `$name` or `$name.field`: the variable's value
        source, path = variable(named.group(1)), "$" + path[named.end() :]
    found = parse(path).find(source)
    return int(found[0].value) if found else None
