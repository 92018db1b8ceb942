"""One Lambda execution environment: a process that loads a handler and runs invocations.

    python -m mlwf.offline.lambda_runtime CODE_DIR MODULE.HANDLER IN_FD OUT_FD

Started by mlwf.offline.environments with the function's environment (its variables,
Lambda's own, and AWS_ENDPOINT_URL naming the offline stack's server). Like Lambda's Python
runtime (awslambdaric), it imports the handler's module from the code folder once (the
init phase), then runs one invocation at a time. Invocations arrive as JSON lines on IN_FD
and results leave as JSON lines on OUT_FD, so that whatever the code prints stays its log:
stdout and stderr are the function's log stream, with Lambda's START/END/REPORT lines and
an unhandled error logged as Lambda logs it (`[ERROR] Type: message` and the traceback).

Init errors are reported as Lambda reports them: Runtime.ImportModuleError for an import
that fails, Runtime.UserCodeSyntaxError for a syntax error, Runtime.HandlerNotFound for a
missing handler, Runtime.MalformedHandlerName for a handler with no module
(`lambda_handler`), Runtime.BuiltInModuleConflict for a built-in module's name, and any
other exception under its class name.
https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html
"""

from __future__ import annotations

import base64
import importlib
import importlib.abc
import importlib.machinery
import json
import math
import os
import resource
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any

# Lambda's own runtime's marshaller (awslambdaric), so a result is what Lambda makes of it
from awslambdaric.lambda_runtime_exception import FaultException  # type: ignore[import-untyped]
from awslambdaric.lambda_runtime_marshaller import LambdaMarshaller  # type: ignore[import-untyped]


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
    deadline_ms: float  # epoch milliseconds, as Lambda's runtime API gives it

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self.deadline_ms - time.time() * 1000))


def error_payload(exc: BaseException, error_type: str | None = None, message: str | None = None):
    frames = traceback.extract_tb(exc.__traceback__)
    # The trace starts at the function's code: Lambda's runtime drops its own leading frames
    # (awslambdaric's bootstrap.py: build_fault_result), and so does this one.
    while frames and frames[0].filename == __file__:
        frames.pop(0)
    return {
        "errorMessage": message if message is not None else str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_list(frames),
    }


def log_error(payload: dict[str, Any], exc: BaseException | None) -> None:
    lines = [f"[ERROR] {payload['errorType']}: {payload['errorMessage']}"]
    if exc is not None:
        lines.append("Traceback (most recent call last):")
        lines += [line.rstrip("\n") for line in payload["stackTrace"]]
    print("\n".join(lines), flush=True)


class LambdaPackages(importlib.abc.MetaPathFinder):
    """Lets a top-level import through only for what Lambda would have: the standard
    library, the code folder's own modules and the names given (the runtime's and the
    layers' packages, mlwf.offline.function_imports); any other fails as a missing module
    does in Lambda, so the handler's init fails with Runtime.ImportModuleError."""

    def __init__(self, code_dir: str, importable: list[str]):
        self.code_dir, self.importable = code_dir, frozenset(importable)

    def allows(self, name: str) -> bool:
        return (
            name in self.importable
            or name in sys.stdlib_module_names
            or importlib.machinery.PathFinder.find_spec(name, [self.code_dir]) is not None
        )

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if path is None and not self.allows(fullname):  # a top-level import
            raise ModuleNotFoundError(f"No module named '{fullname}'", name=fullname)
        return None  # the usual finders look for it


WORKSTATION_PACKAGES = ("mlwf", "training_job")  # this project's, never in a Lambda package


def confine_imports(code_dir: str, importable: list[str]) -> None:
    """From now on, import only what Lambda would have; and forget this project's own
    modules, which the offline runtime imported before the handler, so that importing
    them fails too. What the SDK imported with itself (the zygote's boto3 found awscrt,
    say) stays: the SDK holds it already, as it would hold its runtime's."""
    sys.meta_path.insert(0, LambdaPackages(code_dir, importable))
    for name in list(sys.modules):
        if name.partition(".")[0] in WORKSTATION_PACKAGES:
            del sys.modules[name]


def load_handler(code_dir: str, handler: str) -> Any:
    """The handler, or the error payload Lambda reports for a failed init. The handler's name
    is read as awslambdaric's _get_handler reads it: `module.function`, the module's path
    given with dots or slashes, and not a built-in module."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:  # no dot: Lambda's words, from Python's
        message = f"Bad handler '{handler}': {exc}"
        return {"errorMessage": message, "errorType": "Runtime.MalformedHandlerName"}, None
    if module_name.split(".")[0] in sys.builtin_module_names:
        message = f"Cannot use built-in module {module_name} as a handler module"
        return {"errorMessage": message, "errorType": "Runtime.BuiltInModuleConflict"}, None
    sys.path.insert(0, code_dir)
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    # Their stackTrace is awslambdaric's: none for an import, the line for a syntax error
    # (_get_handler in awslambdaric/bootstrap.py, Lambda's Python runtime interface client)
    except SyntaxError as exc:
        message = f"Syntax error in module '{module_name}': {exc}"
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        return {
            **error_payload(exc, "Runtime.UserCodeSyntaxError", message),
            "stackTrace": trace,
        }, exc
    except ImportError as exc:
        message = f"Unable to import module '{module_name}': {exc}"
        return {**error_payload(exc, "Runtime.ImportModuleError", message), "stackTrace": []}, exc
    except Exception as exc:  # an error in the module's own code: Lambda names its class
        return error_payload(exc), exc
    function = getattr(module, function_name, None)
    if not callable(function):
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        return {"errorMessage": message, "errorType": "Runtime.HandlerNotFound"}, None
    return function, None


def max_memory_used_mb() -> int:
    """The process's peak resident memory, as REPORT's Max Memory Used gives it."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB; bytes on macOS
    return int(peak // (1024 * 1024 if sys.platform == "darwin" else 1024))


def report_line(request_id: str, duration_ms: float, memory_mb: int, init_ms: float | None) -> str:
    """Lambda's REPORT line, its fields as python-logging.html shows them. Billed Duration
    is rounded up to the millisecond and, on an environment's first invocation, counts its
    init too. No AWS page reachable here states that last part; a REPORT line from AWS
    quoted in open-telemetry/opentelemetry-lambda#2011 shows it (Duration 395.99 ms, Init
    Duration 265.72 ms, Billed Duration 662 ms)."""
    billed = duration_ms + (init_ms or 0.0)
    fields = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {math.ceil(billed)} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {max_memory_used_mb()} MB",
    ]
    if init_ms is not None:
        fields.append(f"Init Duration: {init_ms:.2f} ms")
    return "\t".join(fields)


def serve(code_dir: str, handler: str, incoming: Any, outgoing: Any) -> int:
    init_started = time.perf_counter()
    function, init_exception = load_handler(code_dir, handler)
    init_ms: float | None = (time.perf_counter() - init_started) * 1000  # the first REPORT's
    if isinstance(function, dict):  # the init failed: say so, and leave (Lambda does too)
        log_error(function, init_exception)
        outgoing.write(json.dumps({"init_error": function}) + "\n")
        outgoing.flush()
        return 1
    outgoing.write(json.dumps({"ready": True}) + "\n")
    outgoing.flush()
    environ = os.environ
    # Made now: its encoder reads AWS_EXECUTION_ENV (UTF-8 unescaped on python3.12 and later)
    marshaller = LambdaMarshaller()
    for line in incoming:
        request = json.loads(line)
        request_id = request["request_id"]
        context = LambdaContext(
            function_name=environ["AWS_LAMBDA_FUNCTION_NAME"],
            function_version=environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            invoked_function_arn=request["invoked_function_arn"],
            memory_limit_in_mb=int(environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")),
            aws_request_id=request_id,
            log_group_name=environ.get("AWS_LAMBDA_LOG_GROUP_NAME", ""),
            log_stream_name=environ.get("AWS_LAMBDA_LOG_STREAM_NAME", ""),
            deadline_ms=request["deadline_ms"],
        )
        print(f"START RequestId: {request_id} Version: $LATEST", flush=True)
        started = time.perf_counter()
        answer: dict[str, Any]
        try:
            result = function(request["event"], context)
        except Exception as exc:  # the function's error, reported as Lambda reports it
            payload = error_payload(exc)
            log_error(payload, exc)
            answer = {"error": payload}
        else:
            try:
                answer = _marshalled(marshaller, result)
            except FaultException as fault:  # "Unable to marshal response: ..."
                # As awslambdaric's make_error and log_error give it: no trace, and the
                # log's "Traceback" line with nothing under it
                payload = {
                    "errorMessage": fault.msg,
                    "errorType": fault.exception_type,
                    "stackTrace": fault.trace or [],
                }
                log_error(payload, fault)
                answer = {"error": payload}
        duration = (time.perf_counter() - started) * 1000
        print(f"END RequestId: {request_id}", flush=True)
        print(report_line(request_id, duration, context.memory_limit_in_mb, init_ms), flush=True)
        init_ms = None
        outgoing.write(json.dumps(answer) + "\n")
        outgoing.flush()
    return 0


def _marshalled(marshaller: Any, result: Any) -> dict[str, str]:
    """The answer line for a result, as Lambda's runtime posts it: JSON text (a Decimal as its
    number, NaN as NaN), or the bytes a handler returned, as they are (base64 on the line)."""
    body, content_type = marshaller.marshal_response(result)
    if content_type == "application/json":
        return {"result": body}
    return {"result_base64": base64.b64encode(body).decode()}


def main(argv: list[str]) -> int:
    """CODE_DIR MODULE.HANDLER IN_FD OUT_FD [IMPORTABLE]: IMPORTABLE, a JSON list of the
    top-level names the function may import beyond the standard library and its folder
    (absent: no boundary, a layer's contents being unknown)."""
    code_dir, handler, in_fd, out_fd, *importable = argv
    with os.fdopen(int(in_fd), "r") as incoming, os.fdopen(int(out_fd), "w") as outgoing:
        if importable:
            confine_imports(code_dir, json.loads(importable[0]))
        return serve(code_dir, handler, incoming, outgoing)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
