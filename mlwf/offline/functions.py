"""Run a template's function as Lambda would: its own module, environment, context and logs.

Each function's handler module is loaded from its CodeUri under a module name of its own,
so three `app.py` files do not collide, and it stays loaded between invocations, so module
state (clients, caches) survives warm invocations as it does in Lambda. Invocations run one
at a time under a process-wide lock, because each one sets the process environment to the
function's own variables, as its execution environment would have them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from mlwf.offline.bridge import Invocation
from mlwf.offline.template import ACCOUNT_ID, FunctionSpec
from training_job.errors import MlwfError

_INVOKE_LOCK = threading.RLock()


@dataclass
class LambdaContext:
    """The attributes of Lambda's Python context object that handlers and Powertools read."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class FunctionLog(io.TextIOBase):
    """One function's log: what its code prints, plus Lambda's START/END/REPORT lines."""

    def __init__(self, path: Path | None = None):
        self.lines: list[str] = []
        self._partial = ""
        self._file = path.open("a", encoding="utf-8") if path else None

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._partial += text
        *complete, self._partial = self._partial.split("\n")
        for line in complete:
            self.lines.append(line)
            if self._file:
                self._file.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        if self._file:
            self._file.flush()

    def close(self) -> None:
        if self._file:
            self._file.close()
            self._file = None


class LocalFunction:
    """A function of the template, loaded once and invoked like Lambda."""

    def __init__(self, spec: FunctionSpec, region: str, log: FunctionLog | None = None):
        self.spec, self.region = spec, region
        self.log = log or FunctionLog()
        self.invocations = 0
        with _INVOKE_LOCK, self._environment():
            self.module = _load_module(spec)
        handler_name = spec.handler.rsplit(".", 1)[1]
        self.handler = getattr(self.module, handler_name, None)
        if not callable(self.handler):
            raise MlwfError(f"{spec.logical_id}: {spec.handler} is not a function")

    def __call__(self, event: Any, invocation: Invocation) -> Any:
        spec = self.spec
        context = LambdaContext(
            function_name=spec.name,
            function_version="$LATEST",
            invoked_function_arn=spec.arn,
            memory_limit_in_mb=spec.memory_size,
            aws_request_id=invocation.request_id,
            log_group_name=f"/aws/lambda/{spec.name}",
            log_stream_name=f"offline/[$LATEST]{spec.logical_id}",
            deadline=time.monotonic() + spec.timeout,
        )
        with _INVOKE_LOCK, self._environment():
            self.invocations += 1
            self.log.write(f"START RequestId: {invocation.request_id} Version: $LATEST\n")
            started = time.perf_counter()
            try:
                return self.handler(event, context)
            except Exception as exc:
                # Lambda's runtime logs the unhandled error as one JSON line.
                error = {"errorMessage": str(exc), "errorType": type(exc).__name__}
                self.log.write(f"[ERROR] {json.dumps(error)}\n")
                raise
            finally:
                duration = (time.perf_counter() - started) * 1000
                self.log.write(f"END RequestId: {invocation.request_id}\n")
                self.log.write(
                    f"REPORT RequestId: {invocation.request_id}\tDuration: {duration:.2f} ms\t"
                    f"Memory Size: {spec.memory_size} MB\n"
                )

    @contextlib.contextmanager
    def _environment(self) -> Iterator[None]:
        """The function's variables and Lambda's own, and its log as stdout, for a moment."""
        spec = self.spec
        variables = {
            **spec.environment,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_ACCOUNT_ID": ACCOUNT_ID,
        }
        with patched_environ(variables), contextlib.redirect_stdout(self.log):
            yield


@contextlib.contextmanager
def patched_environ(values: dict[str, str], unset: tuple[str, ...] = ()) -> Iterator[None]:
    """os.environ with `values` set and `unset` removed, restored afterwards."""
    saved = {name: os.environ.get(name) for name in (*values, *unset)}
    for name in unset:
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _load_module(spec: FunctionSpec) -> ModuleType:
    module_file, _ = spec.handler.rsplit(".", 1)
    path = spec.code_uri / (module_file.replace(".", "/") + ".py")
    if not path.is_file():
        raise MlwfError(f"{spec.logical_id}: handler module not found: {path}")
    name = f"mlwf_offline_functions.{spec.logical_id}.{module_file}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    try:
        module_spec.loader.exec_module(module)
    except Exception:
        sys.modules.pop(name, None)
        raise
    return module
