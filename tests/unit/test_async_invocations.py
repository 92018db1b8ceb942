"""Lambda's asynchronous invocation: 202 at once, the function run after, a failed event
tried twice more, a throttled one queued (mlwf/offline/async_invocations.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
import pytest

from mlwf.offline import async_invocations
from mlwf.offline.bridge import Bridge
from tests.helpers.local_functions import make_function
from tests.helpers.paths import REGION

COUNTING = """
from pathlib import Path


def handler(event, context):
    folder = Path(event["folder"])
    (folder / f"attempt-{len(list(folder.iterdir()))}-{context.aws_request_id}").touch()
    if event.get("fail"):
        raise RuntimeError("failed on purpose")
    return {}
"""
HELD = """
import time
from pathlib import Path


def handler(event, context):
    folder = Path(event["folder"])
    while not (folder / "release").exists():
        time.sleep(0.01)
    (folder / "done").touch()
    return {}
"""


def invoke_event(name: str, event: dict) -> dict:
    client = boto3.client("lambda", region_name=REGION)
    return client.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(event))


def function_and_folder(tmp_path: Path, functions: list, name: str, **spec) -> tuple:
    """A test function (closed after the test) and an empty folder its handler writes to."""
    function = make_function(tmp_path, name, **spec)
    functions.append(function)
    folder = tmp_path / "marks"
    folder.mkdir()
    return function, folder


def marks(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@pytest.fixture
def quick_retries(monkeypatch):
    # the schedule's shape, shortened: AWS waits one minute, then two
    monkeypatch.setattr(async_invocations, "FUNCTION_ERROR_RETRY_SECONDS", (0.1, 0.2))
    monkeypatch.setattr(async_invocations, "THROTTLE_BACKOFF_SECONDS", (0.05, 0.1))


def test_an_event_is_answered_before_the_function_has_run(tmp_path, functions):
    # Given a function that cannot finish until the caller has its answer and releases it
    function, folder = function_and_folder(tmp_path, functions, "Held", source=HELD)
    with Bridge(functions={function.spec.name: function}) as bridge:
        answered = invoke_event(function.spec.name, {"folder": str(folder)})
        (folder / "release").touch()
        assert bridge.asynchronous.wait_until_done(timeout=30)
    # Then Lambda's answer came first (a synchronous run would have timed out, held)
    assert answered["StatusCode"] == 202
    assert (folder / "done").exists()


def test_a_failed_event_is_tried_twice_more_with_its_request_id(tmp_path, functions, quick_retries):
    function, folder = function_and_folder(tmp_path, functions, "Failing", source=COUNTING)
    with Bridge(functions={function.spec.name: function}) as bridge:
        invoke_event(function.spec.name, {"folder": str(folder), "fail": True})
        assert bridge.asynchronous.wait_until_done(timeout=30)
    tried = marks(folder)
    assert len(tried) == 3, tried
    assert len({mark.split("-", 2)[2] for mark in tried}) == 1  # one request id throughout


def test_a_throttled_event_is_queued_then_run(tmp_path, functions, quick_retries):
    # Given a function with no concurrency to spare (a reservation of 0 throttles it)
    function, folder = function_and_folder(
        tmp_path, functions, "Throttled", source=COUNTING, reserved=0
    )
    with Bridge(functions={function.spec.name: function}) as bridge:
        # When it is invoked asynchronously, Lambda takes the event (a synchronous call is
        # refused with 429)
        answered = invoke_event(function.spec.name, {"folder": str(folder)})
        assert answered["StatusCode"] == 202
        assert not marks(folder)
        # Then, once concurrency frees up, the queued event runs
        function.limit = 1
        assert bridge.asynchronous.wait_until_done(timeout=30)
    assert len(marks(folder)) == 1


def test_a_stopped_stack_drops_what_waits_for_a_retry(tmp_path, functions):
    # Given a failed event waiting a minute for its retry, as in Lambda
    function, folder = function_and_folder(tmp_path, functions, "Waiting", source=COUNTING)
    with Bridge(functions={function.spec.name: function}) as bridge:
        invoke_event(function.spec.name, {"folder": str(folder), "fail": True})
        deadline = time.monotonic() + 30
        while not marks(folder) and time.monotonic() < deadline:
            time.sleep(0.02)
    # When the bridge closes (the stack stops), the waiting event is dropped at once
    assert bridge.asynchronous.wait_until_done(timeout=5)
    assert len(marks(folder)) == 1
