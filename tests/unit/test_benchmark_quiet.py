"""benchmarks/ministack_compare.py starts each subject's timed round only once the servers
are quiet: MiniStack goes on running Lambda calls of executions it reports ended, and that
work used to run during the next subject's round. These tests check the wait and the CPU
accounting it rests on, with real processes."""

from __future__ import annotations

import importlib.util
import os
import sys
import textwrap

import pytest

from tests.helpers.paths import PROJECT_ROOT

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads Linux's /proc")


@pytest.fixture(scope="module")
def ministack_stack():
    path = PROJECT_ROOT / "benchmarks" / "ministack_stack.py"
    spec = importlib.util.spec_from_file_location("ministack_stack", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def servers(ministack_stack, tmp_path):
    started = ministack_stack.Servers(tmp_path)
    yield started
    started.close()


def start(servers, name: str, code: str):
    process = servers.start(name, [sys.executable, "-c", textwrap.dedent(code)], dict(os.environ))
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "started"
    return process


def test_a_server_burning_a_core_is_not_quiet_until_it_stops(servers, tmp_path):
    # Given a server that keeps a core busy until a file appears, then waits idle
    stop = tmp_path / "stop"
    start(
        servers,
        "burner",
        f"""
        import os, threading
        print("started", flush=True)
        while not os.path.exists({str(stop)!r}):
            pass
        threading.Event().wait()
        """,
    )
    # When the benchmark waits for quiet while it burns
    waited, quiet = servers.wait_until_quiet(timeout=1.0)
    # Then it gives up at the timeout, not quiet
    assert not quiet and waited >= 1.0
    # When it stops burning
    stop.touch()
    waited, quiet = servers.wait_until_quiet(timeout=30.0)
    # Then the wait ends, quiet
    assert quiet, f"not quiet after {waited:.1f} s"


def test_the_cpu_of_a_reaped_child_still_counts(ministack_stack, servers):
    # Given a server whose child process used 0.5 s of CPU, ended and was waited for
    server = start(
        servers,
        "parent",
        """
        import subprocess, sys, threading
        print("started", flush=True)
        burn = "import time\\nwhile time.process_time() < 0.5: pass"
        subprocess.run([sys.executable, "-c", burn])
        print("reaped", flush=True)
        threading.Event().wait()
        """,
    )
    assert server.stdout.readline().strip() == "reaped"
    # Then its process group's CPU time holds the child's (the parent alone used ~0.05 s)
    assert ministack_stack.group_cpu_seconds({server.pid}) >= 0.45  # ticks round
