"""Functions run as Lambda runs them (mlwf/offline/functions.py): each with its own module,
environment and log; different functions at the same time, one function one invocation at a
time."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from mlwf.offline.bridge import AwsErrorResponse, Invocation
from mlwf.offline.functions import LocalFunction, function_isolation
from mlwf.offline.template import FunctionSpec
from training_job.errors import MlwfError

HANDLER = """
import os
import threading

GREETING_AT_IMPORT = os.environ.get("GREETING")
entered = threading.Event()


def handler(event, context):
    entered.set()
    action = event["action"]
    if action == "meet":  # both functions inside their handlers at once
        event["barrier"].wait(timeout=30)
        greeting = os.environ["GREETING"]
        print(f"greeting {greeting}")
        event["barrier"].wait(timeout=30)
        return {"greeting": greeting, "at_import": GREETING_AT_IMPORT}
    if action == "count":
        os.environ["COUNT"] = str(int(os.environ.get("COUNT", "0")) + 1)
        os.environ.pop("GREETING", None)
        return {"count": os.environ["COUNT"], "greeting": os.environ.get("GREETING")}
    if action == "recurse":  # a synchronous call to itself
        return event["invoke"]({"action": "environ"})
    if action == "hold":  # stay inside until the test has tried a second invocation
        event["started"].set()
        event["release"].wait(timeout=30)
        return {}
    return {"environ": dict(os.environ)}
"""


def make_function(tmp_path: Path, logical_id: str, greeting: str) -> LocalFunction:
    code = tmp_path / logical_id
    code.mkdir()
    (code / "app.py").write_text(HANDLER)
    spec = FunctionSpec(
        logical_id=logical_id,
        name=f"offline-{logical_id}",
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:offline-{logical_id}",
        code_uri=code,
        handler="app.handler",
        environment={"GREETING": greeting},
        timeout=10,
        memory_size=128,
    )
    return LocalFunction(spec, "us-east-1")


def invoke(function: LocalFunction, event: dict) -> dict:
    return function(event, Invocation(function.spec.name, "request-id"))


@pytest.fixture
def isolation():
    with function_isolation():
        yield


def test_two_functions_at_once_each_see_their_own_environment_and_log(tmp_path, isolation):
    # Given two functions whose GREETING differs
    hello = make_function(tmp_path, "Hello", "hello")
    bye = make_function(tmp_path, "Bye", "bye")
    barrier = threading.Barrier(2)
    results: dict[str, dict] = {}

    def run(function: LocalFunction) -> None:
        results[function.spec.logical_id] = invoke(function, {"action": "meet", "barrier": barrier})

    # When both run in their handlers at the same time, on two threads
    threads = [threading.Thread(target=run, args=(f,)) for f in (hello, bye)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then each saw its own variable, at import and while invoked, and printed to its own log
    assert results == {
        "Hello": {"greeting": "hello", "at_import": "hello"},
        "Bye": {"greeting": "bye", "at_import": "bye"},
    }
    assert "greeting hello" in hello.log.lines and "greeting bye" not in hello.log.lines
    assert "greeting bye" in bye.log.lines and "greeting hello" not in bye.log.lines
    # and the process's own environment never had either
    assert "GREETING" not in os.environ


def test_a_function_sees_lambdas_variables_and_keeps_its_own_writes(tmp_path, isolation):
    counter = make_function(tmp_path, "Counter", "hi")
    other = make_function(tmp_path, "Other", "other")

    environ = invoke(counter, {"action": "environ"})["environ"]
    assert environ["AWS_LAMBDA_FUNCTION_NAME"] == "offline-Counter"
    assert environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert environ["GREETING"] == "hi"

    # Writes and deletions last for the function's environment, as in one Lambda sandbox
    assert invoke(counter, {"action": "count"}) == {"count": "1", "greeting": None}
    assert invoke(counter, {"action": "count"}) == {"count": "2", "greeting": None}
    # and reach neither another function nor the process
    assert "COUNT" not in invoke(other, {"action": "environ"})["environ"]
    assert "COUNT" not in os.environ


def test_one_function_handles_one_invocation_at_a_time(tmp_path, isolation):
    # Given an invocation that stays inside the handler
    function = make_function(tmp_path, "Single", "x")
    started, release = threading.Event(), threading.Event()
    first = threading.Thread(
        target=invoke, args=(function, {"action": "hold", "started": started, "release": release})
    )
    first.start()
    assert started.wait(timeout=30)
    function.module.entered.clear()

    # When a second invocation of the same function comes in
    second = threading.Thread(target=invoke, args=(function, {"action": "environ"}))
    second.start()

    # Then it does not enter the handler until the first has returned
    assert not function.module.entered.wait(timeout=0.5)
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert function.module.entered.is_set()
    assert function.invocations == 2


def test_functions_only_run_inside_function_isolation(tmp_path):
    with pytest.raises(MlwfError, match="function_isolation"):
        make_function(tmp_path, "Outside", "x")


def test_a_function_calling_itself_is_throttled_not_deadlocked(tmp_path, isolation):
    function = make_function(tmp_path, "Recursive", "x")
    with pytest.raises(AwsErrorResponse) as raised:
        invoke(function, {"action": "recurse", "invoke": lambda e: invoke(function, e)})
    assert raised.value.code == "TooManyRequestsException"
    # and the function is free again afterwards
    assert invoke(function, {"action": "environ"})["environ"]["GREETING"] == "x"
