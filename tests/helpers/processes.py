"""Stopping a process a test started (an `mlwf offline up`, an `mlwf console`) so that none
outlives the test run: one that does not stop on its signal in time is killed, and the test
fails saying so, rather than leaving it serving after pytest has ended."""

from __future__ import annotations

import signal
import subprocess


def stop(
    process: subprocess.Popen[str],
    how: signal.Signals,
    *,
    timeout: float,
    what: str,
    read_output: bool = False,
) -> tuple[int, str]:
    """Send `how` and wait up to `timeout` seconds for `process` to end: its exit code, and
    with `read_output` what it printed (read here, so that a full pipe cannot hold it up;
    leave it False when another thread reads its stdout). If it is still running then, it
    is killed, and AssertionError names `what`."""
    process.send_signal(how)
    try:
        if read_output:
            printed, _ = process.communicate(timeout=timeout)
        else:
            printed = ""
            process.wait(timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        process.kill()
        process.communicate() if read_output else process.wait()
        # not `from None`: in a finally, the failure on its way out stays in the report
        raise AssertionError(
            f"{what} did not stop within {timeout:.0f} s of {how.name}: killed"
        ) from expired
    return process.returncode, printed or ""
