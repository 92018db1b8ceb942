"""Functions of a test's own, run as Lambda runs them (mlwf.offline.functions): a handler
that does what its event asks, and the calls the tests make of it."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from mlwf.offline.bridge import FunctionError, Invocation
from mlwf.offline.functions import LocalFunction
from mlwf.offline.template import load_template
from mlwf.offline.template_spec import FunctionSpec
from tests.helpers.paths import PROJECT_ROOT

HANDLER = """
import os
import sys
import time
from pathlib import Path

GREETING_AT_IMPORT = os.environ.get("GREETING")
CALLS = 0


def handler(event, context):
    global CALLS
    CALLS += 1
    action = event["action"]
    if action == "environ":
        return {"environ": dict(os.environ), "calls": CALLS, "pid": os.getpid()}
    if action == "count":
        os.environ["COUNT"] = str(int(os.environ.get("COUNT", "0")) + 1)
        return {"count": os.environ["COUNT"]}
    if action == "fail":
        print("about to fail")
        raise LookupError("no such thing")
    if action == "sleep":
        time.sleep(event["seconds"])
        return {"slept": True}
    if action == "exit":
        sys.stdout.flush()
        os._exit(3)
    if action == "unmarshallable":
        return {1, 2}
    if action == "meet":  # wait inside the handler until `count` environments are inside
        folder = Path(event["folder"])
        (folder / str(os.getpid())).touch()
        deadline = time.monotonic() + 30
        while len(list(folder.iterdir())) < event["count"] and time.monotonic() < deadline:
            time.sleep(0.01)
        return {"pid": os.getpid(), "met": len(list(folder.iterdir()))}
    if action == "hold":
        (Path(event["folder"]) / "inside").touch()
        while not (Path(event["folder"]) / "release").exists():
            time.sleep(0.01)
        return {}
    return {"remaining_ms": context.get_remaining_time_in_millis()}
"""


def make_function(
    tmp_path: Path,
    logical_id: str,
    *,
    source: str = HANDLER,
    timeout: int = 10,
    reserved: int | None = None,
    greeting: str = "hello",
    layers: tuple[str, ...] = (),
    handler: str = "app.handler",
) -> LocalFunction:
    code = tmp_path / logical_id
    code.mkdir()
    (code / "app.py").write_text(source)
    spec = FunctionSpec(
        logical_id=logical_id,
        name=f"offline-{logical_id}",
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:offline-{logical_id}",
        code_uri=code,
        handler=handler,
        environment={"GREETING": greeting},
        timeout=timeout,
        memory_size=128,
        reserved_concurrency=reserved,
        layers=layers,
    )
    # No AWS is called by these handlers: the endpoint is never reached.
    return local(spec)


def local(spec: FunctionSpec) -> LocalFunction:
    """The function run as Lambda runs it; its AWS calls go nowhere (port 9, discard)."""
    return LocalFunction(
        spec, "us-east-1", endpoint_url="http://127.0.0.1:9", credentials={"AWS_ACCESS_KEY_ID": "k"}
    )


@cache
def project_functions() -> dict[str, FunctionSpec]:
    return load_template(PROJECT_ROOT / "template.yaml").functions


def project_layers() -> tuple[str, ...]:
    """The layers template.yaml gives its functions: AWS's Powertools layer."""
    return next(iter(project_functions().values())).layers


def project_function(logical_id: str, **changes: Any) -> LocalFunction:
    """A function of template.yaml (its code, handler, variables, layers), with `changes`
    to its spec; its AWS calls go nowhere."""
    spec = replace(project_functions()[logical_id], **changes)
    return local(spec)


def invoke(function: LocalFunction, event: dict, request_id: str = "request-id") -> Any:
    """The function's result: the JSON payload its runtime answered, read."""
    return json.loads(function(event, Invocation(function.spec.name, request_id)))


def failure(function: LocalFunction, event: dict) -> dict:
    with pytest.raises(FunctionError) as raised:
        invoke(function, event)
    return raised.value.payload
