"""`mlwf offline up` as a user runs it: the project's own integration tests, unchanged, pass
against it over HTTP, with only the exported variables set, for both workflow types."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from mlwf.offline.server import free_port
from tests.helpers.paths import PROJECT_ROOT

pytestmark = pytest.mark.offline
STACK = "offline-up-test"
READY = "export AWS_ENDPOINT_URL="
STARTUP_SECONDS = 180


@pytest.fixture(params=["STANDARD", "EXPRESS"])
def offline_up(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The variables `mlwf offline up` tells the user to export, while it serves."""
    port = free_port()
    command = [
        sys.executable, "-m", "mlwf.cli", "offline", "up", "--port", str(port),
        "--stack-name", STACK, "--parameter-overrides", f"WorkflowType={request.param}",
    ]  # fmt: skip
    server = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert server.stdout is not None
        for line in server.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    printed: list[str] = []
    try:
        while True:  # until it prints what to export (or ends, or takes too long)
            line = lines.get(timeout=STARTUP_SECONDS)
            assert line is not None, "".join(printed)
            printed.append(line)
            if line.startswith(READY):
                break
        exported = dict(word.split("=", 1) for word in line.split()[1:])
        yield {**exported, "AWS_SAM_STACK_NAME": STACK, "WORKFLOW_TYPE": request.param}
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C
        code = server.wait(timeout=60)
    assert code == 0, "".join(printed)


def test_the_integration_tests_pass_against_it(offline_up):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    command = [sys.executable, "-m", "pytest", "tests/integration", "-q", "-p", "no:cacheprovider"]
    expected = "7 passed"
    if offline_up.pop("WORKFLOW_TYPE") == "EXPRESS":
        # The missing-parameter test invokes the function directly, whatever the type, and
        # waits out its 60 s name cache: once, with STANDARD, is enough.
        command += ["-k", "not missing_parameter"]
        expected = "6 passed"
    completed = subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env={**environment, **offline_up},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    assert expected in completed.stdout
