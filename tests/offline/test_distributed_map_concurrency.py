"""The batch machine's MaxConcurrency, honoured by the offline Distributed Map
(mlwf.offline.distributed_map): a whole offline stack, so it lives here, not in tests/unit."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from mlwf.offline.runtime import OfflineStack

pytestmark = pytest.mark.offline


def test_no_more_children_run_at_once_than_max_concurrency():
    # Given the batch machine with BatchMaxConcurrency=3, and a serializer that holds each
    # call until more than 3 are in flight, or half a second has passed (what a limit of 3
    # makes each call do)
    limit, images = 3, 12
    in_flight, peak = [0], [0]
    changed = threading.Condition()

    def serialize(event: dict[str, Any], _: Any) -> dict[str, Any]:
        with changed:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
            changed.notify_all()
            changed.wait_for(lambda: in_flight[0] > limit, timeout=0.5)
            in_flight[0] -= 1
        return {**event, "image_data": ""}

    overrides = {"BatchMaxConcurrency": str(limit)}
    with OfflineStack.start(parameter_overrides=overrides, say=lambda _: None) as stack:
        functions = stack.bridge.functions
        for name in functions:
            functions[name] = lambda event, _: {**event, "inferences": [0.99, 0.01]}
        functions[stack.spec.functions["SerializeImageDataFunction"].name] = serialize
        bucket = stack.bucket_name()
        for i in range(images):
            stack.s3.put_object(Bucket=bucket, Key=f"c/{i:02d}.png", Body=b"x")

        # When the batch runs
        started = stack.sfn.start_execution(
            stateMachineArn=stack.state_machine_arn("BatchClassificationStateMachine"),
            input=json.dumps({"s3_bucket": bucket, "s3_prefix": "c/"}),
        )
        description = stack.wait_for_execution(started["executionArn"])

    # Then all ran, never more than 3 at once, and 3 at once did run
    assert description["status"] == "SUCCEEDED"
    assert peak[0] == limit
