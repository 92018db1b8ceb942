"""Run a template's function as Lambda would: its own module, environment, context and logs.

Each function's handler module is loaded from its CodeUri under a module name of its own,
so three `app.py` files do not collide, and it stays loaded between invocations, so module
state (clients, caches) survives warm invocations as it does in Lambda.

A function is one execution environment: it handles one invocation at a time, and
different functions run at the same time, as in Lambda. One process has one `os.environ`
and one `sys.stdout`, so while the offline stack runs (`function_isolation()`), both are
replaced by views that depend on the thread: a thread running a function sees that
function's variables on top of the process's, and what it prints goes to that function's
log; every other thread sees and writes what it did before. (An earlier version patched
the real environment around each invocation under one process-wide lock; at 16
executions in flight that lock was held 82% of the time and capped the throughput.)
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
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from mlwf.offline.bridge import AwsErrorResponse, Invocation
from mlwf.offline.template import ACCOUNT_ID, FunctionSpec
from training_job.errors import MlwfError

_UNSET = object()  # a variable the function deleted, hidden from its view
_THREAD = threading.local()  # .function: the LocalFunction this thread is running, if any


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
        # The function's variables and Lambda's own. Writes by the function's code land here
        # and last as long as its execution environment does.
        self.environment: dict[str, Any] = {
            **spec.environment,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_ACCOUNT_ID": ACCOUNT_ID,
        }
        self._busy = threading.Lock()  # one invocation at a time, as one environment
        with self._busy, self.running():
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
        if _current() is self:
            # A synchronous call to itself would wait for its own environment forever; with
            # one environment, Lambda answers as for reserved concurrency 1.
            raise AwsErrorResponse("TooManyRequestsException", "Rate Exceeded.", 429)
        with self._busy, self.running():
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
    def running(self) -> Iterator[None]:
        """This thread runs the function: it sees its environment and prints to its log."""
        if not isinstance(os.environ, _ThreadEnviron):
            raise MlwfError("functions run only inside function_isolation()")
        if not isinstance(sys.stdout, _ThreadStdout):
            # Something replaced sys.stdout since (pytest's capture does, for each test).
            sys.stdout = _ThreadStdout(sys.stdout)
        outer = getattr(_THREAD, "function", None)  # a function invoked from a function
        _THREAD.function = self
        try:
            yield
        finally:
            _THREAD.function = outer


def _current() -> LocalFunction | None:
    return getattr(_THREAD, "function", None)


class _ThreadEnviron(MutableMapping[str, str]):
    """os.environ as the current thread sees it: its function's variables over the process's."""

    def __init__(self, base: MutableMapping[str, str]):
        self.base = base

    def __getitem__(self, key: str) -> str:
        function = _current()
        if function is not None and key in function.environment:
            value = function.environment[key]
            if value is _UNSET:
                raise KeyError(key)
            return value
        return self.base[key]

    def __setitem__(self, key: str, value: str) -> None:
        function = _current()
        if function is None:
            self.base[key] = value
        elif not isinstance(value, str):
            raise TypeError(f"str expected, not {type(value).__name__}")
        else:
            function.environment[key] = value

    def __delitem__(self, key: str) -> None:
        function = _current()
        if function is None:
            del self.base[key]
            return
        if key not in self:
            raise KeyError(key)
        function.environment[key] = _UNSET

    def _view(self) -> dict[str, str]:
        function = _current()
        if function is None:
            return dict(self.base)
        merged = {**self.base, **function.environment}
        return {key: value for key, value in merged.items() if value is not _UNSET}

    def __iter__(self) -> Iterator[str]:
        return iter(self._view())

    def __len__(self) -> int:
        return len(self._view())

    def copy(self) -> dict[str, str]:
        return self._view()


class _ThreadStdout:
    """sys.stdout as the current thread writes it: its function's log, or the old stdout."""

    def __init__(self, base: Any):
        self.base = base

    def _target(self) -> Any:
        function = _current()
        return function.log if function is not None else self.base

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding...: the old stdout's
        return getattr(self.base, name)


@contextlib.contextmanager
def function_isolation() -> Iterator[None]:
    """Install the thread-dependent os.environ and sys.stdout (process-wide) for a while."""
    environ, stdout = _ThreadEnviron(os.environ), _ThreadStdout(sys.stdout)
    # The process's real environment is untouched: _ThreadEnviron writes through to it
    # outside functions, so subprocesses and C code see what they saw before.
    os.environ, sys.stdout = environ, stdout  # noqa: B003
    try:
        yield
    finally:
        if os.environ is environ:
            # Puts the original mapping back (B003 is about clearing the environment by
            # assignment, which is not what this does).
            os.environ = environ.base  # noqa: B003
        if sys.stdout is stdout:
            sys.stdout = stdout.base


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
