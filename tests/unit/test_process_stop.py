"""tests/helpers/processes.stop: a process a test started never outlives the test run."""

from __future__ import annotations

import signal
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator

import pytest

from tests.helpers.processes import stop

# Prints once it ignores SIGINT, then sleeps: a stack that does not stop on Ctrl-C.
DEAF = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


@pytest.fixture
def started() -> Iterator[Callable[[str], subprocess.Popen[str]]]:
    """Starts a Python process running `source` once it has printed "ready"; each is
    killed (if it still runs) and its pipe closed after the test."""
    processes: list[subprocess.Popen[str]] = []

    def start(source: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-c", source], stdout=subprocess.PIPE, text=True
        )
        processes.append(process)
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        return process

    yield start
    for process in processes:
        with process:  # closes the pipe, waits for it
            if process.poll() is None:
                process.kill()


def test_a_process_that_stops_gives_its_exit_code(started):
    process = started("import time\nprint('ready', flush=True)\ntime.sleep(60)\n")
    assert stop(process, signal.SIGTERM, timeout=10, what="sleeper") == (-signal.SIGTERM, "")


# Prints more than a pipe holds once asked to stop, then exits 0.
TALKER = (
    "import signal, sys, time\n"
    "def talk(*_):\n"
    "    print('x' * 200_000, flush=True)\n"
    "    sys.exit(0)\n"
    "signal.signal(signal.SIGTERM, talk)\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


@pytest.mark.parametrize("read_output", [True, False])
def test_what_it_prints_while_it_stops_is_read_or_it_cannot_stop(started, read_output):
    process = started(TALKER)
    if read_output:
        code, printed = stop(process, signal.SIGTERM, timeout=10, what="talker", read_output=True)
        assert (code, len(printed)) == (0, 200_001)
    else:  # nobody reads: it blocks on the full pipe, as console_process would without it
        with pytest.raises(AssertionError, match="talker did not stop within 2 s"):
            stop(process, signal.SIGTERM, timeout=2, what="talker")


def test_a_process_that_ignores_its_signal_is_killed_and_the_test_told(started):
    # Given a process that ignores SIGINT
    process = started(DEAF)

    # When it is stopped with SIGINT, then it is killed and the failure names it
    with pytest.raises(AssertionError, match="deaf did not stop within 1 s of SIGINT: killed"):
        stop(process, signal.SIGINT, timeout=1, what="deaf")
    assert process.returncode == -signal.SIGKILL


def test_a_failure_that_was_on_its_way_out_stays_in_the_report(started):
    # stop() runs in a finally: the test's own failure is the context of stop's
    process = started(DEAF)
    with pytest.raises(AssertionError) as raised:
        try:
            raise ValueError("the test's own failure")
        finally:
            stop(process, signal.SIGINT, timeout=1, what="deaf")
    report = "".join(traceback.format_exception(raised.value))
    assert "ValueError: the test's own failure" in report
