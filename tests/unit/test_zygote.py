"""Execution environments forked by the zygote (mlwf/offline/zygote.py) behave as fresh
processes: the function's environment and nothing else, its own init, its exit status, its
output in its log. Without fork (macOS), they are new interpreters, with the same
behaviour. tests/unit/test_local_functions.py covers the rest of Lambda's semantics."""

from __future__ import annotations

import os
import signal

import pytest

from mlwf.offline import zygote
from tests.helpers.local_functions import failure, invoke, make_function

REPORTS_ITS_START = """
import os
import sys

SDK_LOADED_BEFORE_INIT = "boto3" in sys.modules
GREETING = os.environ.get("GREETING")


def handler(event, context):
    print("printed without flush")
    return {
        "sdk_loaded_before_init": SDK_LOADED_BEFORE_INIT,
        "greeting": GREETING,
        "environ": dict(os.environ),
        "cwd": os.getcwd(),
        "path0": sys.path[0],
        "parent": os.getppid(),
    }
"""


def test_an_environment_has_the_functions_variables_and_folder_only(
    tmp_path, functions, way, monkeypatch: pytest.MonkeyPatch
):
    # Given a variable of the stack's process that no function declares
    monkeypatch.setenv("STACK_PROCESS_ONLY", "1")
    function = make_function(tmp_path, "Fresh", source=REPORTS_ITS_START, greeting="hi")
    functions.append(function)

    seen = invoke(function, {})

    assert seen["greeting"] == "hi"  # read at init, from the function's variables
    assert "STACK_PROCESS_ONLY" not in seen["environ"]
    # (a new interpreter coerces a missing C locale, setting LC_CTYPE: PEP 538)
    assert set(seen["environ"]) - {"LC_CTYPE"} == set(function.process_environment())
    assert seen["cwd"] == seen["path0"] == str(function.spec.code_uri)
    assert "printed without flush" in function.log.lines
    # forked: by the zygote, which has the SDK imported already; else by this process
    assert seen["sdk_loaded_before_init"] == (way == "forked")
    assert (seen["parent"] == os.getpid()) == (way == "new interpreter")


def test_an_environment_reports_its_init_error_and_exit_status(tmp_path, functions, way):
    broken = make_function(tmp_path, "Broken", source="import no_such_module\n")
    exits = make_function(tmp_path, "Exits")
    functions += [broken, exits]

    assert failure(broken, {})["errorType"] == "Runtime.ImportModuleError"
    assert failure(exits, {"action": "exit"})["errorMessage"].endswith("exit status 3")


def test_a_zygote_that_has_gone_is_replaced_with_its_environments(tmp_path, functions, way):
    if way != "forked":
        pytest.skip("the zygote forks only")
    function = make_function(tmp_path, "Survivor")
    functions.append(function)
    first_pid = invoke(function, {"action": "environ"})["pid"]

    # When the zygote is killed
    gone = zygote.shared(function.base_environment())
    os.kill(gone._process.pid, signal.SIGKILL)
    gone._process.wait(timeout=10)
    (environment,) = function._all
    assert environment.process.wait(timeout=10) == -signal.SIGKILL  # nobody can follow it

    # Then the next invocation gets a new environment, from a new zygote
    again = invoke(function, {"action": "environ"})
    assert again["calls"] == 1 and again["pid"] != first_pid
    assert zygote.shared(function.base_environment()) is not gone
