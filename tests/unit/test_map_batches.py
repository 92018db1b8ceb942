"""How a Distributed Map's ItemBatcher groups items (mlwf.offline.map_batches)."""

from __future__ import annotations

import json

from mlwf.offline.map_batches import MAX_INPUT_BYTES, batch_input, batches
from mlwf.offline.map_states import map_state


def test_items_are_grouped_in_order_up_to_the_most_items():
    assert batches(list(range(5)), {"MaxItemsPerBatch": 2}, {}) == [[0, 1], [2, 3], [4]]


def test_a_batch_stops_before_the_most_bytes():
    items = ["x" * 8] * 5  # 10 bytes each as JSON
    assert batches(items, {"MaxInputBytesPerBatch": 25}, {}) == [items[:2], items[2:4], items[4:]]


def test_no_batch_passes_an_executions_input_limit():
    items = ["x" * 100_000] * 3
    grouped = batches(items, {"MaxItemsPerBatch": 10}, {})
    assert [len(b) for b in grouped] == [2, 1]
    assert all(len(json.dumps(b).encode()) <= MAX_INPUT_BYTES for b in grouped)


def test_limits_may_come_from_the_input():
    assert batches([1, 2, 3], {"MaxItemsPerBatchPath": "$.n"}, {"n": 2}) == [[1, 2], [3]]


def test_limits_may_come_from_workflow_variables():
    # "$name" and "$name.field" read the variable (AWS's recorded run: "$maxItemsPerBatch")
    variables = {"most": "2", "limits": {"bytes": 10}}
    batcher = {"MaxItemsPerBatchPath": "$most", "MaxInputBytesPerBatchPath": "$limits.bytes"}
    assert batches([1, 2, 3], batcher, {}, variables.__getitem__) == [[1, 2], [3]]
    assert batches(["abcdefgh", "ij"], batcher, {}, variables.__getitem__) == [["abcdefgh"], ["ij"]]


def test_a_childs_input_is_its_items_and_the_batch_input():
    assert batch_input([1], {}) == {"Items": [1]}
    assert batch_input([1], {"BatchInput": {"k": "v"}}) == {"BatchInput": {"k": "v"}, "Items": [1]}


def test_a_map_state_is_found_however_nested():
    inner = {
        "StartAt": "M",
        "States": {"M": {"Type": "Map", "ItemBatcher": {"MaxItemsPerBatch": 1}}},
    }
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [inner]}}}
    assert map_state(json.dumps(definition), "M") == inner["States"]["M"]
    assert map_state(json.dumps(definition), "P") is None  # not a Map
