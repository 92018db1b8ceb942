"""A template's function as Lambda runs it: execution environments in processes of their own.

Each execution environment is a worker process (mlwf.offline.lambda_runtime; on Linux
forked by mlwf.offline.zygote) with the function's code, handler and environment: its
variables, Lambda's own, the offline credentials, and AWS_ENDPOINT_URL naming the offline
stack's server, so that its SDK calls reach the offline stack as they would reach AWS. As in
Lambda:
- an environment runs one invocation at a time; a function scales out to more environments
  under concurrency, up to its ReservedConcurrentExecutions (then TooManyRequestsException,
  429, which the workflow retries) or, without one, MAX_ENVIRONMENTS here;
- the init (importing the handler's module) happens once per environment, and its errors
  fail that function's invocations only (Runtime.ImportModuleError, ...); the next
  invocation tries a new environment;
- the function's Timeout is enforced: past it the environment is stopped and replaced, and
  the invocation fails with Sandbox.Timedout;
- a process that exits mid-invocation fails it with Runtime.ExitError;
- what the code prints, tracebacks included, is the function's log, with Lambda's
  START/END/REPORT lines; Powertools' cold_start is true on each environment's first call.
https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html (environments),
https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html#troubleshooting-timeouts
(Sandbox.Timedout), https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
(a reservation throttles past its value).
"""

from __future__ import annotations

import base64
import json
import os
import select
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlwf.offline import zygote
from mlwf.offline.bridge import AwsErrorResponse, FunctionError, Invocation
from mlwf.offline.function_imports import importable
from mlwf.offline.template_spec import ACCOUNT_ID, FunctionSpec

# Environments per function without a reservation. Lambda would go on to the account's
# concurrency; each environment here is a process on the user's machine.
MAX_ENVIRONMENTS = 10
INIT_TIMEOUT_SECONDS = 10  # Lambda's init phase limit
# Why Invoke throttles past a reservation: TooManyRequestsException's Reason
# (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors)
THROTTLED = {"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"}


LogSink = Callable[[str, list[str]], None]  # (log stream, lines)


class FunctionLog:
    """One function's log group: what its code prints, plus Lambda's START/END/REPORT lines,
    each line in its environment's log stream. The file has them as `sam logs` prints them:
    `<stream> <line>`, so that one environment's lines can be read apart from another's."""

    def __init__(self, path: Path | None = None, sink: LogSink | None = None):
        self.lines: list[str] = []
        self.streams: dict[str, list[str]] = {}
        self.sink = sink  # where each invocation's lines go too (CloudWatch Logs)
        self._pending: dict[str, list[str]] = {}
        self._lock = threading.Condition()
        self._file = path.open("a", encoding="utf-8") if path else None

    def write(self, text: str, stream: str = "offline") -> int:
        with self._lock:
            lines = self.streams.setdefault(stream, [])
            pending = self._pending.setdefault(stream, [])
            ended = False
            for line in text.splitlines():
                self.lines.append(line)
                lines.append(line)
                pending.append(line)
                ended |= line.startswith("REPORT RequestId: ")
                if self._file:
                    self._file.write(f"{stream} {line}\n")
            if self._file:
                self._file.flush()
            self._lock.notify_all()
        if ended:
            self.flush_stream(stream)
        return len(text)

    def flush_stream(self, stream: str) -> None:
        """Hand the stream's lines not yet handed to the sink: at each invocation's end,
        and when its environment stops."""
        with self._lock:
            lines, self._pending[stream] = self._pending.get(stream, []), []
            sink = self.sink
        if lines and sink is not None:
            sink(stream, lines)

    def wait_for(self, prefix: str, stream: str, timeout: float) -> bool:
        """Whether a line starting with `prefix` reached `stream` within `timeout` s: the
        worker prints its lines before it answers, but they travel through another pipe
        and thread."""

        def arrived() -> bool:
            # One invocation at a time per stream: its REPORT is among the last lines.
            return any(line.startswith(prefix) for line in self.streams.get(stream, [])[-3:])

        with self._lock:
            return self._lock.wait_for(arrived, timeout)

    def request_lines(self, request_id: str, timeout: float = 5.0) -> list[str]:
        """One invocation's lines, START to REPORT, once its REPORT has arrived."""
        start, report = f"START RequestId: {request_id} ", f"REPORT RequestId: {request_id}\t"
        with self._lock:
            self._lock.wait_for(
                lambda: any(line.startswith(report) for line in self.lines), timeout
            )
            for lines in self.streams.values():
                first = next((i for i, line in enumerate(lines) if line.startswith(start)), None)
                if first is None:
                    continue
                last = next(
                    (i for i in range(first, len(lines)) if lines[i].startswith(report)),
                    len(lines) - 1,
                )
                return lines[first : last + 1]
        return []

    def close(self) -> None:
        """No more lines to the file or the sink: the stack has stopped, and its moto with
        it (a late line would land in whatever moto holds next: another stack's)."""
        with self._lock:
            self.sink = None
            if self._file:
                self._file.close()
                self._file = None


class _Environment:
    """One worker process, started and initialised by the constructor."""

    def __init__(self, function: LocalFunction):
        self.function = function
        self._start_process()
        started = time.monotonic()
        ready = self._read(started + INIT_TIMEOUT_SECONDS)
        if ready is None:
            # Past the 10 s init limit, Lambda retries the init within the first invocation,
            # with the function's timeout (https://docs.aws.amazon.com/lambda/latest/dg/
            # lambda-runtime-environment.html, "Init phase").
            self._log_init_report(time.monotonic() - started, "timeout")
            self.stop()
            self._start_process()
            started = time.monotonic()
            ready = self._read(started + function.spec.timeout)
            if ready is None:
                self.stop()
                seconds = time.monotonic() - started
                raise FunctionError(
                    {
                        "errorType": "Sandbox.Timedout",
                        "errorMessage": f"Task timed out after {seconds:.2f} seconds",
                    }
                )
        if not ready or "init_error" in ready:
            self.stop()
            payload = (ready or {}).get("init_error") or {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"Runtime exited with error: exit status {self.process.returncode}",
            }
            # As Lambda reports a crashed init (lambda-runtime-environment.html, "Failures
            # during the Init phase")
            self._log_init_report(time.monotonic() - started, "error", payload.get("errorType"))
            raise FunctionError(payload)

    def _start_process(self) -> None:
        """A new worker process, its init under way (a new log stream, as a new
        environment has)."""
        function = self.function
        self.environment = function.process_environment()
        self.stream = self.environment["AWS_LAMBDA_LOG_STREAM_NAME"]
        requests_read, requests_write = os.pipe()
        answers_read, answers_write = os.pipe()
        spec = function.spec
        self.process = zygote.start_process(
            str(spec.code_uri),
            spec.handler,
            self.environment,
            function.base_environment(),
            requests_read,
            answers_write,
            function.importable,
        )
        os.close(requests_read)
        os.close(answers_write)
        self._requests = os.fdopen(requests_write, "w")
        self._answers = answers_read
        self._buffer = b""
        self._log_copier = threading.Thread(target=self._copy_log, daemon=True)
        self._log_copier.start()

    def _log_init_report(self, seconds: float, status: str, error_type: str | None = None) -> None:
        line = f"INIT_REPORT Init Duration: {seconds * 1000:.2f} ms\tPhase: init\tStatus: {status}"
        error = f"\tError Type: {error_type or 'Runtime.Unknown'}" if status == "error" else ""
        self.function.log.write(line + error + "\n", self.stream)

    def _copy_log(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            self.function.log.write(raw.decode("utf-8", "replace"), self.stream)

    def _read(self, deadline: float) -> dict[str, Any] | None:
        """The next answer; None when the deadline passes; {} when the process has gone."""
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self._answers], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self._answers, 65536)
            if not chunk:
                return {}  # the process closed its end: it exited
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return dict(json.loads(line))

    def invoke(self, event: Any, invocation: Invocation) -> Any:
        spec = self.function.spec
        started = time.monotonic()
        deadline_ms = (time.time() + spec.timeout) * 1000
        request = {
            "event": event,
            "request_id": invocation.request_id,
            "deadline_ms": deadline_ms,
            "invoked_function_arn": spec.arn,
        }
        try:
            self._requests.write(json.dumps(request) + "\n")
            self._requests.flush()
        except BrokenPipeError:
            pass  # gone: the read below reports it
        answer = self._read(started + spec.timeout)
        if not answer:  # None: past the Timeout; {}: the process exited
            return self._failed(invocation.request_id, time.monotonic() - started, answer is None)
        # Its END/REPORT lines are in the log before the invocation is over, as in Lambda.
        report = f"REPORT RequestId: {invocation.request_id}\t"  # its last line
        self.function.log.wait_for(report, self.stream, timeout=5)
        if "error" in answer:
            raise FunctionError(answer["error"])
        # The payload as the runtime wrote it (Invoke answers these bytes): JSON text, or the
        # bytes the handler returned
        if "result_base64" in answer:
            return base64.b64decode(answer["result_base64"])
        return answer["result"].encode()

    def _failed(self, request_id: str, seconds: float, timed_out: bool) -> Any:
        """The invocation timed out or its process exited: stop it, log it, raise it."""
        self.stop()
        exited = self.process.returncode
        log, stream = self.function.log, self.stream
        if timed_out:  # still running past its Timeout
            stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            log.write(f"END RequestId: {request_id}\n", stream)
            log.write(
                f"REPORT RequestId: {request_id}\tDuration: {seconds * 1000:.2f} ms\n", stream
            )
            log.write(f"{stamp} {request_id} Task timed out after {seconds:.2f} seconds\n", stream)
            message = f"RequestId: {request_id} Error: Task timed out after {seconds:.2f} seconds"
            raise FunctionError({"errorType": "Sandbox.Timedout", "errorMessage": message})
        message = f"RequestId: {request_id} Error: Runtime exited with error: exit status {exited}"
        log.write(message + "\n", stream)
        raise FunctionError({"errorType": "Runtime.ExitError", "errorMessage": message})

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._log_copier.join(timeout=5)  # its last lines land before what follows
        self.function.log.flush_stream(self.stream)
        for close in (self._requests.close, lambda: os.close(self._answers)):
            try:
                close()
            except OSError:
                pass


class LocalFunction:
    """A function of the template, invoked like Lambda: `function(event, invocation)`."""

    def __init__(
        self,
        spec: FunctionSpec,
        region: str,
        log: FunctionLog | None = None,
        *,
        endpoint_url: str,
        credentials: dict[str, str],
    ):
        self.spec, self.region, self.endpoint_url = spec, region, endpoint_url
        self.credentials = credentials
        self.log = log or FunctionLog()
        self.invocations = 0
        # what Lambda would let it import: the runtime's SDK, its layers', its requirements'
        self.importable = importable(spec.code_uri, spec.layers)
        # A reservation of 0 is one: the function is throttled, every invocation
        # (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html)
        reserved = spec.reserved_concurrency
        self.limit = MAX_ENVIRONMENTS if reserved is None else reserved
        self._idle: list[_Environment] = []
        self._all: list[_Environment] = []  # to stop them all when the stack stops
        self._busy = 0
        self._changed = threading.Condition()
        self._closed = False

    def reserve(self, reserved: int | None) -> None:
        """The function's reserved concurrency changed (None: no reservation)."""
        with self._changed:
            self.spec.reserved_concurrency = reserved
            self.limit = MAX_ENVIRONMENTS if reserved is None else reserved
            self._changed.notify_all()

    @staticmethod
    def base_environment() -> dict[str, str]:
        """What every environment's process starts with, before the function's own."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PYTHONUNBUFFERED": "1",  # each line reaches the log as it is printed
        }

    def process_environment(self) -> dict[str, str]:
        """What the worker's os.environ holds: the function's variables and Lambda's own."""
        spec = self.spec
        stream = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        return {
            **self.base_environment(),
            **spec.environment,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "LAMBDA_TASK_ROOT": str(spec.code_uri),
            "_HANDLER": spec.handler,
            "AWS_ACCOUNT_ID": ACCOUNT_ID,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            # No X-Ray here: with LAMBDA_TASK_ROOT set, Powertools' Tracer would trace, and
            # the X-Ray SDK would look for a segment Lambda never made.
            "POWERTOOLS_TRACE_DISABLED": "true",
            **self.credentials,
        }

    def __call__(self, event: Any, invocation: Invocation) -> Any:
        environment = self._acquire()  # an idle environment, or a new one (init errors)
        self.invocations += 1
        try:
            return environment.invoke(event, invocation)
        finally:
            self._release(environment)

    def _acquire(self) -> _Environment:
        with self._changed:
            if self._closed:  # its stack has stopped; an execution thread of moto's has not
                raise self._gone()
            for dead in [e for e in self._idle if not e.alive]:  # killed while idle: gone
                self._idle.remove(dead)
                dead.stop()
            if self._busy >= self.limit and self.spec.reserved_concurrency is not None:
                # Lambda throttles past a reservation (all of them at 0, idle environments
                # or not); the workflow's Retry absorbs it.
                raise AwsErrorResponse(
                    "TooManyRequestsException", "Rate Exceeded.", 429, fields=THROTTLED
                )
            if self._idle:
                self._busy += 1
                return self._idle.pop()
            if self._busy >= self.limit:
                self._changed.wait_for(lambda: bool(self._idle) or self._busy < self.limit)
                if self._idle:
                    self._busy += 1
                    return self._idle.pop()
            self._busy += 1
        try:
            environment = _Environment(self)  # the init runs outside the lock: others go on
            with self._changed:
                closed = self._closed
                if not closed:
                    self._all = [e for e in self._all if e.alive] + [environment]
            if closed:  # while it started: close() has not seen it
                environment.stop()
                raise self._gone()
            return environment
        except BaseException:
            with self._changed:
                self._busy -= 1
                self._changed.notify()
            raise

    def _gone(self) -> AwsErrorResponse:
        """Invoke's answer for a function that does not exist (404,
        https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors)."""
        return AwsErrorResponse(
            "ResourceNotFoundException", f"Function not found: {self.spec.arn}", 404
        )

    def _release(self, environment: _Environment) -> None:
        with self._changed:
            self._busy -= 1
            if environment.alive and not self._closed:
                self._idle.append(environment)
            self._changed.notify()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._idle, environments, self._all = [], self._all, []
        for environment in environments:
            environment.stop()
        self.log.close()
