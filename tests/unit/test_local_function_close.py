"""A function after its offline stack has stopped (LocalFunction.close): gone, with no
process left and no log line delivered. moto's execution threads can outlive the stack and
invoke it still; their log lines used to land in the next stack's moto, where its
CreateLogGroup then failed with ResourceAlreadyExistsException."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from mlwf.offline.bridge import AwsErrorResponse
from mlwf.offline.functions import FunctionLog
from tests.helpers.local_functions import invoke, make_function

SLOW_INIT = """
import os
import time
from pathlib import Path

Path(os.environ["PID_FILE"]).write_text(str(os.getpid()))
time.sleep(1)


def handler(event, context):
    return {}
"""


def is_running(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)  # reaped if it is our exited child
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_closed_function_is_not_found_and_starts_no_environment(tmp_path, functions):
    # Given a function with one environment, then closed with its stack
    function = make_function(tmp_path, "Closed")
    functions.append(function)
    pid = invoke(function, {"action": "environ"})["pid"]
    function.close()

    # When it is invoked again, then it is not found, and no environment runs
    with pytest.raises(AwsErrorResponse) as raised:
        invoke(function, {"action": "environ"})
    assert (raised.value.code, raised.value.status) == ("ResourceNotFoundException", 404)
    assert not is_running(pid)
    assert function._all == []


def test_an_environment_starting_while_its_function_closes_is_stopped(tmp_path, functions):
    # Given an invocation whose environment is still in its init
    function = make_function(tmp_path, "Racing", source=SLOW_INIT)
    function.spec.environment["PID_FILE"] = str(tmp_path / "pid")
    functions.append(function)
    outcome: list[BaseException | dict] = []

    def call() -> None:
        try:
            outcome.append(invoke(function, {}))
        except BaseException as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 10
    while not (tmp_path / "pid").exists() and time.monotonic() < deadline:
        time.sleep(0.01)  # polls for the init's first line: the file it writes
    pid = int((tmp_path / "pid").read_text())

    # When the function closes meanwhile
    function.close()
    caller.join(timeout=30)

    # Then the invocation finds it gone, and the environment it started is stopped
    (result,) = outcome
    assert isinstance(result, AwsErrorResponse), result
    assert result.code == "ResourceNotFoundException"
    assert not is_running(pid)


def test_lines_written_after_close_reach_neither_the_sink_nor_the_file(tmp_path: Path):
    delivered: list[tuple[str, list[str]]] = []
    log = FunctionLog(tmp_path / "function.log", sink=lambda s, lines: delivered.append((s, lines)))
    log.write("START RequestId: a\nREPORT RequestId: a\tDuration: 1 ms\n", "stream")

    log.close()
    log.write("START RequestId: b\nREPORT RequestId: b\tDuration: 1 ms\n", "stream")
    log.flush_stream("stream")

    assert delivered == [("stream", ["START RequestId: a", "REPORT RequestId: a\tDuration: 1 ms"])]
    assert "RequestId: b" not in (tmp_path / "function.log").read_text()
