"""A Distributed Map written with the legacy `Iterator` field runs as one written with
`ItemProcessor` (mlwf.offline.distributed_map): its result is each child's output, as AWS
gives it (LocalStack's recording of AWS, `test_map_state_legacy_config_distributed`, as a
user-edit walk read it); moto's worker for it recorded no child, and the result was a null
per item."""

from __future__ import annotations

import json

import pytest

from mlwf.offline.runtime import OfflineStack
from tests.helpers.executions import run_to_end

pytestmark = pytest.mark.offline


def test_a_legacy_iterator_in_distributed_mode_gives_each_childs_output():
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
        "StartAt": "Greet",
        "States": {"Greet": {"Type": "Pass", "Parameters": {"hello.$": "$"}, "End": True}},
    }
    outputs = {}
    with OfflineStack.start(say=lambda _: None) as stack:
        for field in ("Iterator", "ItemProcessor"):
            definition = {
                "StartAt": "M",
                "States": {"M": {"Type": "Map", field: processor, "End": True}},
            }
            ended = run_to_end(stack.sfn, definition, json.dumps(["a", "b"]))
            assert ended["status"] == "SUCCEEDED", ended
            outputs[field] = json.loads(ended["output"])
            run = stack.sfn.list_map_runs(executionArn=ended["executionArn"])["mapRuns"][0]
            counts = stack.sfn.describe_map_run(mapRunArn=run["mapRunArn"])["itemCounts"]
            assert (counts["total"], counts["succeeded"]) == (2, 2)
    assert outputs["Iterator"] == outputs["ItemProcessor"] == [{"hello": "a"}, {"hello": "b"}]
