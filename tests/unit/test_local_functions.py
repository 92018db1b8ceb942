"""Functions run as Lambda runs them (mlwf/offline/functions.py): each execution environment
a process with the function's environment; one invocation at a time per environment, more
environments under concurrency; Timeout enforced; init errors and crashes reported with
Lambda's error types; the code's output, tracebacks included, in the function's log."""

from __future__ import annotations

import math
import os
import re
import threading
import time
from pathlib import Path

import pytest

from mlwf.offline.bridge import AwsErrorResponse
from mlwf.offline.functions import LocalFunction
from tests.helpers.local_functions import failure, invoke, make_function, project_layers


def test_a_function_sees_its_variables_and_lambdas_and_keeps_its_writes(tmp_path, functions):
    counter = make_function(tmp_path, "Counter", greeting="hi")
    other = make_function(tmp_path, "Other", greeting="other")
    functions += [counter, other]

    answer = invoke(counter, {"action": "environ"})
    environ = answer["environ"]
    assert environ["GREETING"] == "hi"
    assert environ["AWS_LAMBDA_FUNCTION_NAME"] == "offline-Counter"
    assert environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"
    assert answer["pid"] != os.getpid()  # a process of its own

    # Writes last as long as the environment, and reach neither another function nor us
    assert invoke(counter, {"action": "count"}) == {"count": "1"}
    assert invoke(counter, {"action": "count"}) == {"count": "2"}
    assert "COUNT" not in invoke(other, {"action": "environ"})["environ"]
    assert "COUNT" not in os.environ and "GREETING" not in os.environ


def test_the_log_has_lambdas_lines_the_output_and_the_traceback(tmp_path, functions):
    function = make_function(tmp_path, "Failing")
    functions.append(function)

    payload = failure(function, {"action": "fail"})

    assert payload["errorType"] == "LookupError" and payload["errorMessage"] == "no such thing"
    log = "\n".join(function.log.lines)
    assert "START RequestId: request-id Version: $LATEST" in log
    assert "about to fail" in log
    assert "[ERROR] LookupError: no such thing" in log
    assert "Traceback (most recent call last):" in log and 'app.py", line' in log
    assert "END RequestId: request-id" in log and "REPORT RequestId: request-id" in log
    # and the trace starts at the function's code, as Lambda's runtime leaves out its own
    # frames (awslambdaric's bootstrap.py)
    assert payload["stackTrace"][0].startswith(f'  File "{function.spec.code_uri / "app.py"}"')
    assert "lambda_runtime.py" not in log


def test_an_invocation_ends_after_its_report_line_is_in_the_log(tmp_path, functions, monkeypatch):
    # Given a log copier slow to deliver the REPORT line (a busy machine: CI saw it late)
    from mlwf.offline.functions import FunctionLog

    write = FunctionLog.write

    def late_report(self, text, stream="offline"):
        if text.startswith("REPORT RequestId: "):
            time.sleep(0.3)  # the delay under test, not a wait
        return write(self, text, stream)

    monkeypatch.setattr(FunctionLog, "write", late_report)
    function = make_function(tmp_path, "Reported")
    functions.append(function)
    # When an invocation returns, then its REPORT is the log's last line, as in Lambda
    invoke(function, {"action": "environ"}, request_id="reported-1")
    assert function.log.lines[-1].startswith("REPORT RequestId: reported-1\t")


REPORT = re.compile(
    r"REPORT RequestId: (?P<id>\S+)\tDuration: (?P<duration>[\d.]+) ms"
    r"\tBilled Duration: (?P<billed>\d+) ms\tMemory Size: 128 MB"
    r"\tMax Memory Used: (?P<used>\d+) MB(\tInit Duration: (?P<init>[\d.]+) ms)?$"
)


def test_the_report_line_has_lambdas_fields_and_the_init_only_once(tmp_path, functions):
    # Lambda's REPORT line (python-logging.html): Billed Duration rounded up, counting the
    # init on the environment's first invocation (Lambda bills the init phase)
    function = make_function(tmp_path, "Reported")
    functions.append(function)
    for request_id in ("first", "second"):
        invoke(function, {"action": "environ"}, request_id=request_id)
    reports = [REPORT.match(line) for line in function.log.lines if line.startswith("REPORT")]
    assert all(reports) and [r["id"] for r in reports] == ["first", "second"], reports
    first, second = reports
    assert first["init"] is not None and second["init"] is None
    assert int(first["billed"]) == math.ceil(float(first["duration"]) + float(first["init"]))
    assert int(second["billed"]) == math.ceil(float(second["duration"]))
    assert 0 < int(first["used"]) <= int(second["used"])


def test_the_timeout_is_enforced_and_the_environment_replaced(tmp_path, functions):
    function = make_function(tmp_path, "Slow", timeout=1)
    functions.append(function)
    first_pid = invoke(function, {"action": "environ"})["pid"]

    payload = failure(function, {"action": "sleep", "seconds": 30})

    assert payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.0" in payload["errorMessage"]
    assert any("Task timed out after" in line for line in function.log.lines)
    # The next invocation gets a new environment, with its own cold start
    answer = invoke(function, {"action": "environ"})
    assert answer["pid"] != first_pid and answer["calls"] == 1


def test_the_remaining_time_counts_down_from_the_timeout(tmp_path, functions):
    function = make_function(tmp_path, "Timer", timeout=7)
    functions.append(function)
    remaining = invoke(function, {"action": "remaining"})["remaining_ms"]
    assert 5000 < remaining <= 7000


@pytest.mark.parametrize(
    ("source", "error_type", "message"),
    [
        (
            "def handler(event, context)\n    return 1\n",
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module 'app'",
        ),
        (
            "import no_such_module\n",
            "Runtime.ImportModuleError",
            "Unable to import module 'app': No module named 'no_such_module'",
        ),
        ("x = 1\n", "Runtime.HandlerNotFound", "Handler 'handler' missing on module 'app'"),
        (
            "class BadConfig(Exception): pass\nraise BadConfig('THRESHOLD is missing')\n",
            "BadConfig",
            "THRESHOLD is missing",
        ),
    ],
)
def test_an_init_error_fails_only_that_functions_invocations(
    tmp_path, functions, source, error_type, message
):
    broken = make_function(tmp_path, "Broken", source=source)
    healthy = make_function(tmp_path, "Healthy")
    functions += [broken, healthy]

    for _ in range(2):  # each invocation tries a new environment, as Lambda does
        payload = failure(broken, {"action": "environ"})
        assert payload["errorType"] == error_type and message in payload["errorMessage"]
    assert any(line.startswith(f"[ERROR] {error_type}") for line in broken.log.lines)
    reports = [line for line in broken.log.lines if line.startswith("INIT_REPORT")]
    assert len(reports) == 2 and all(
        line.rstrip("\n").endswith(f"Phase: init\tStatus: error\tError Type: {error_type}")
        for line in reports
    ), reports
    assert invoke(healthy, {"action": "environ"})["environ"]["GREETING"] == "hello"


@pytest.mark.parametrize(
    ("handler", "error_type", "message"),
    [
        # awslambdaric's _get_handler, in its words (offline said ValueError, "Empty module
        # name", which a Retry on Lambda's name never matched)
        (
            "handler",
            "Runtime.MalformedHandlerName",
            "Bad handler 'handler': not enough values to unpack (expected 2, got 1)",
        ),
        ("sys.handler", "Runtime.BuiltInModuleConflict", "Cannot use built-in module sys as a"),
    ],
)
def test_a_malformed_handler_name_fails_as_lambdas_runtime_fails_it(
    tmp_path, functions, handler, error_type, message
):
    function = make_function(tmp_path, "Malformed", handler=handler)
    functions.append(function)
    payload = failure(function, {"action": "environ"})
    assert payload["errorType"] == error_type and payload["errorMessage"].startswith(message)


def test_a_handler_module_may_be_given_as_a_path(tmp_path, functions):
    # awslambdaric imports `modname.replace("/", ".")`: a handler in src/app.py
    function = make_function(tmp_path, "Nested", handler="src/app.handler")
    (function.spec.code_uri / "src").mkdir()
    (function.spec.code_uri / "app.py").rename(function.spec.code_uri / "src" / "app.py")
    functions.append(function)
    assert invoke(function, {"action": "environ"})["environ"]["GREETING"] == "hello"


def test_an_import_or_syntax_error_carries_the_trace_lambdas_runtime_gives(tmp_path, functions):
    # awslambdaric's _get_handler: no frames for an import, the offending line for syntax
    # (offline gave the importer's frames, the runtime's own among them)
    missing = make_function(tmp_path, "Missing", source="import no_such_module\n")
    broken = make_function(tmp_path, "Syntax", source="def handler(event, context)\n    pass\n")
    functions += [missing, broken]
    assert failure(missing, {})["stackTrace"] == []
    (line,) = failure(broken, {})["stackTrace"]
    assert line.startswith(f'  File "{broken.spec.code_uri / "app.py"}" Line 1\n    def handler')


SLOW_INIT = """
import os
import time
from pathlib import Path

# The first environment's init outlasts the (shortened) init limit; the retried one is quick.
marker = Path(os.environ["MARKER"])
first = not marker.exists()
marker.touch()
time.sleep(float(os.environ["INIT_SECONDS"]) if first else 0)


def handler(event, context):
    return {"remaining_ms": context.get_remaining_time_in_millis()}
"""


def slow_init_function(tmp_path: Path, init_seconds: float, timeout: int) -> LocalFunction:
    function = make_function(tmp_path, "SlowInit", source=SLOW_INIT, timeout=timeout)
    function.spec.environment["MARKER"] = str(tmp_path / "first-init-done")
    function.spec.environment["INIT_SECONDS"] = str(init_seconds)
    return function


def test_an_init_past_the_limit_is_retried_within_the_invocation(tmp_path, functions, monkeypatch):
    # Given Lambda's 10 s init limit, shortened to 0.3 s, and a first init that takes 30 s
    monkeypatch.setattr("mlwf.offline.functions.INIT_TIMEOUT_SECONDS", 0.3)
    function = slow_init_function(tmp_path, init_seconds=30, timeout=10)
    functions.append(function)
    # When it is invoked, then the init is retried (with the function's timeout), and the
    # invocation succeeds, as on Lambda; the log says the first init timed out
    assert invoke(function, {})["remaining_ms"] > 5000
    assert any(
        line.startswith("INIT_REPORT Init Duration:") and line.rstrip().endswith("Status: timeout")
        for line in function.log.lines
    ), function.log.lines


def test_a_retried_init_past_the_timeout_fails_as_a_timeout(tmp_path, functions, monkeypatch):
    monkeypatch.setattr("mlwf.offline.functions.INIT_TIMEOUT_SECONDS", 0.3)
    source = "import time\ntime.sleep(30)\n\ndef handler(event, context):\n    return {}\n"
    function = make_function(tmp_path, "NeverReady", source=source, timeout=1)
    functions.append(function)
    payload = failure(function, {})
    assert payload["errorType"] == "Sandbox.Timedout"
    assert payload["errorMessage"].startswith("Task timed out after 1.")


def test_a_process_that_exits_during_init_fails_with_runtime_exit_error(tmp_path, functions):
    function = make_function(tmp_path, "ExitsAtInit", source="import os\nos._exit(4)\n")
    functions.append(function)
    payload = failure(function, {})
    assert payload == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "Runtime exited with error: exit status 4",
    }


def test_a_process_that_exits_fails_the_invocation_with_runtime_exit_error(tmp_path, functions):
    function = make_function(tmp_path, "Exiting")
    functions.append(function)
    payload = failure(function, {"action": "exit"})
    assert payload["errorType"] == "Runtime.ExitError"
    assert payload["errorMessage"].endswith("Runtime exited with error: exit status 3")
    assert invoke(function, {"action": "environ"})["calls"] == 1  # a new environment


def test_a_result_that_is_not_json_fails_with_runtime_marshal_error(tmp_path, functions):
    function = make_function(tmp_path, "Marshal")
    functions.append(function)
    payload = failure(function, {"action": "unmarshallable"})
    assert payload["errorType"] == "Runtime.MarshalError"
    assert payload["errorMessage"].startswith("Unable to marshal response:")


def test_concurrent_invocations_scale_out_to_environments_of_their_own(tmp_path, functions):
    # Given two invocations that each wait inside the handler for the other
    function = make_function(tmp_path, "Wide")
    functions.append(function)
    folder = tmp_path / "meet"
    folder.mkdir()
    answers: list[dict] = []
    threads = [
        threading.Thread(
            target=lambda i=i: answers.append(
                invoke(function, {"action": "meet", "folder": str(folder), "count": 2}, f"r{i}")
            )
        )
        for i in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Then both were inside at once, each in its own environment
    assert [a["met"] for a in answers] == [2, 2]
    assert answers[0]["pid"] != answers[1]["pid"]


def test_past_its_reserved_concurrency_a_function_is_throttled(tmp_path, functions):
    function = make_function(tmp_path, "Reserved", reserved=1)
    functions.append(function)
    folder = tmp_path / "hold"
    folder.mkdir()
    holder = threading.Thread(
        target=invoke, args=(function, {"action": "hold", "folder": str(folder)})
    )
    holder.start()
    try:
        # Once the first invocation is inside the handler (its only environment busy)
        for _ in range(600):
            if (folder / "inside").exists():
                break
            holder.join(timeout=0.05)
        assert (folder / "inside").exists()
        with pytest.raises(AwsErrorResponse) as raised:
            invoke(function, {"action": "environ"})
        assert (raised.value.code, raised.value.status) == ("TooManyRequestsException", 429)
    finally:
        (folder / "release").touch()
        holder.join(timeout=30)
    assert invoke(function, {"action": "environ"})["calls"] == 2  # the same, warm environment


def test_a_reserved_concurrency_of_zero_throttles_every_invocation(tmp_path, functions):
    # "Reserved concurrency ... 0": the function is throttled, every invocation
    # (configuration-concurrency.html); a reservation of 0 once read as none
    function = make_function(tmp_path, "Stopped", reserved=0)
    functions.append(function)
    for _ in range(2):
        with pytest.raises(AwsErrorResponse) as raised:
            invoke(function, {"action": "environ"})
        assert (raised.value.code, raised.value.status) == ("TooManyRequestsException", 429)
    # and no environment ever started: nothing was logged
    assert function.log.lines == []


TRACED_HANDLER = """
import botocore.client
from aws_lambda_powertools import Tracer

tracer = Tracer()


@tracer.capture_lambda_handler
def handler(event, context):
    # X-Ray's patch replaces the method with a wrapt FunctionWrapper
    patched = type(botocore.client.BaseClient.__dict__["_make_api_call"]).__name__ != "function"
    return {"disabled": tracer.disabled, "botocore_patched": patched}
"""


def test_powertools_tracer_is_disabled_cleanly_in_a_function(tmp_path, functions):
    # Given a handler traced as the functions are, in an environment that looks like
    # Lambda's (LAMBDA_TASK_ROOT is set) but has no X-Ray daemon nor trace header
    traced = make_function(tmp_path, "Traced", source=TRACED_HANDLER, layers=project_layers())
    functions.append(traced)

    # When it is invoked
    answer = invoke(traced, {})

    # Then the tracer is off and botocore unpatched: no segment is looked for or sent
    assert answer == {"disabled": True, "botocore_patched": False}


def test_a_throttled_invoke_says_why_as_lambda_does(tmp_path, functions):
    # TooManyRequestsException's Reason (botocore's model of Invoke): past a reservation,
    # ReservedFunctionConcurrentInvocationLimitExceeded; offline it was missing
    import boto3
    from botocore.exceptions import ClientError

    from mlwf.offline.bridge import Bridge
    from tests.helpers.paths import REGION

    function = make_function(tmp_path, "Reserved", reserved=0)
    functions.append(function)
    with Bridge(functions={function.spec.name: function}), pytest.raises(ClientError) as raised:
        boto3.client("lambda", region_name=REGION).invoke(FunctionName=function.spec.name)
    answer = raised.value.response
    assert answer["Error"]["Code"] == "TooManyRequestsException"
    assert answer["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
