"""`mlwf offline up` as a user runs it: the project's own integration tests, unchanged, pass
against it over HTTP, with only the exported variables set, for both workflow types (a
class each, so that pytest-xdist's loadscope serves the two stacks side by side)."""

from __future__ import annotations

import base64
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from mlwf.offline.server import HOST, free_port
from tests.helpers.paths import EVENTS_DIR, PROJECT_ROOT
from tests.helpers.processes import stop

pytestmark = pytest.mark.offline
STACK = "offline-up-test"
READY = "export AWS_ENDPOINT_URL="
STARTUP_SECONDS = 180
# The classify function's endpoint-name cache (EndpointNameCacheSeconds): short, so that the
# integration tests' missing-parameter test waits seconds for it, not the default minute.
NAME_CACHE_SECONDS = 5


@pytest.fixture(scope="class")
def offline_up(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The variables `mlwf offline up` tells the user to export, while it serves."""
    workflow_type = request.cls.WORKFLOW_TYPE
    port = free_port()
    command = [
        sys.executable, "-m", "mlwf.cli", "offline", "up", "--port", str(port),
        "--stack-name", STACK, "--parameter-overrides", f"WorkflowType={workflow_type}",
        f"EndpointNameCacheSeconds={NAME_CACHE_SECONDS}",
    ]  # fmt: skip
    # Started as a script's background job starts it, SIGINT ignored: Ctrl-C must stop it
    # still (it did not: a CI run started in the background failed every stop here).
    ignoring = "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    ignoring += "os.execv(sys.argv[1], sys.argv[1:])"
    server = subprocess.Popen(
        [sys.executable, "-c", ignoring, *command],
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
        yield {**exported, "AWS_SAM_STACK_NAME": STACK, "WORKFLOW_TYPE": workflow_type}
        printed.clear()  # what it printed while serving is not the test's to show
    finally:
        code, _ = stop(server, signal.SIGINT, timeout=60, what="mlwf offline up")  # Ctrl-C
    assert code == 0, "".join(printed)


def exported(offline_up: dict[str, str]) -> dict[str, str]:
    """The environment of a shell where the user pasted the export line."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**environment, **{k: v for k, v in offline_up.items() if k != "WORKFLOW_TYPE"}}


def mlwf(offline_up: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mlwf.cli", *args]
    return subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env=exported(offline_up),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


WINDOW = ("--start-time", "10min ago", "--end-time", "now")


def tool(
    environment: dict[str, str], *command: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """A tool of the venv (the AWS CLI, the SAM CLI) run as from the user's shell."""
    path = str(Path(sys.executable).parent)
    env = {**environment, "PATH": f"{path}:{environment.get('PATH', '')}", "SAM_CLI_TELEMETRY": "0"}
    return subprocess.run(
        list(command), cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def stack_outputs(offline_up: dict[str, str]) -> dict[str, str]:
    """The stack's outputs, read with DescribeStacks at the exported endpoint."""
    environment = exported(offline_up)
    client = boto3.Session(region_name=environment["AWS_REGION"]).client(
        "cloudformation", endpoint_url=environment["AWS_ENDPOINT_URL"]
    )
    described = client.describe_stacks(StackName=STACK)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}


class TestOnStandard:
    """Against `mlwf offline up` serving a STANDARD machine. (pytest-xdist's loadscope runs
    each class on a worker of its own: the two stacks serve side by side.)"""

    WORKFLOW_TYPE = "STANDARD"

    def test_mlwf_invoke_and_run_use_the_running_stack(self, offline_up):
        # mlwf invoke: the stack's function, its log from LogType=Tail, nothing seeded anew
        event = "events/classify_image.json"
        invoked = mlwf(
            offline_up, "invoke", "ClassifyImageFunction", "-e", event, "--stack-name", STACK
        )
        assert invoked.returncode == 0, invoked.stderr[-2000:]
        assert len(json.loads(invoked.stdout)["inferences"]) == 2
        assert "START RequestId" in invoked.stderr and "REPORT RequestId" in invoked.stderr
        assert "seeding the offline stack" not in invoked.stderr
        # what configures a stack of its own is refused, in one line
        refused = mlwf(offline_up, "invoke", "ClassifyImageFunction", "-e", event, "--fault", "x")
        assert refused.returncode != 0 and "AWS_ENDPOINT_URL" in refused.stderr
        assert "Traceback" not in refused.stderr
        # mlwf run --offline: executions of the running stack's machine, on its staged images
        ran = mlwf(offline_up, "run", "--offline", "--stack-name", STACK, "--count", "3")
        assert ran.returncode == 0, ran.stderr[-2000:]
        assert f"using the offline stack at {offline_up['AWS_ENDPOINT_URL']}" in ran.stderr
        assert "executions:            3" in ran.stdout
        # mlwf batch --offline: the running stack's batch machine, on its staged test split
        batched = mlwf(offline_up, "batch", "--offline", "--stack-name", STACK)
        assert batched.returncode == 0, batched.stderr[-2000:]
        assert f"using the offline stack at {offline_up['AWS_ENDPOINT_URL']}" in batched.stderr

    def test_mlwf_demo_runs_on_the_running_stack(self, offline_up, tmp_path):
        """Given `mlwf offline up` serving, when `mlwf demo` runs with only the exported
        variables set, then it uses that stack's data and model (no stack, no training of its
        own), its executions start as production starts them, and it writes what a demo
        writes: results, capture files, plots and each function's log of this run."""
        out = tmp_path / "demo"
        done = mlwf(offline_up, "demo", "--count", "6", "--out", str(out), "--stack-name", STACK)
        assert done.returncode == 0, done.stderr[-3000:]
        printed = done.stdout + done.stderr
        assert f"the running stack {STACK} at {offline_up['AWS_ENDPOINT_URL']}" in printed
        assert "== stage, train, deploy" not in printed and "Traceback" not in printed
        if offline_up["WORKFLOW_TYPE"] == "STANDARD":
            assert "6 test images uploaded under incoming/" in printed
        else:  # EXPRESS executions cannot be described: started with StartSyncExecution
            assert "6 executions started directly (an EXPRESS machine)" in printed
        report = json.loads((out / "results.json").read_text())
        assert report["summary"]["stack"] == STACK and len(report["executions"]) == 6
        assert report["summary"]["unexpected_failures"] == 0
        # every execution reached the endpoint, and its capture record was waited for
        assert report["threshold_analysis"]["records"] == 6
        assert list((out / "data_capture").rglob("*.jsonl"))
        assert (out / "plots" / "thresholds.csv").is_file() and list((out / "plots").glob("*.png"))
        classify_log = (out / "logs" / "ClassifyImageFunction.log").read_text()
        assert classify_log.count("START RequestId") == 6, classify_log[-2000:]

    def test_the_integration_tests_pass_against_it(self, offline_up):
        environment = exported(offline_up)
        command = [sys.executable, "-m", "pytest", "tests/integration", "-q"]
        command += ["-p", "no:cacheprovider"]
        completed = subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert completed.returncode == 0, completed.stdout[-3000:]
        # every one of them ran: none skipped, none left out
        collected = subprocess.run(
            [*command, "--collect-only"],
            cwd=PROJECT_ROOT,
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        count = sum(1 for line in collected.splitlines() if "::test_" in line)
        assert count > 0 and f"{count} passed" in completed.stdout

    def test_the_aws_cli_uploads_and_sam_logs_reads_the_functions_log(self, offline_up, tmp_path):
        # Given an image uploaded under incoming/ with the AWS CLI
        environment = exported(offline_up)
        outputs = stack_outputs(offline_up)
        image = tmp_path / "cli.png"
        event = json.loads((EVENTS_DIR / "classify_image.json").read_text())
        image.write_bytes(base64.b64decode(event["image_data"]))
        key = f"incoming/cli-{uuid.uuid4().hex[:8]}.png"
        copied = tool(
            environment, "aws", "s3", "cp", str(image), f"s3://{outputs['ImagesBucketName']}/{key}"
        )
        assert copied.returncode == 0, copied.stderr

        # Then the rule started the workflow on it: its serializer's log line, read with sam logs
        # by the function's logical ID, which it looks up in the stack's resources
        name = ("-n", "SerializeImageDataFunction", "--stack-name", STACK)
        deadline = time.monotonic() + 60
        while True:
            # (from another folder: the project's samconfig.toml makes sam logs tail)
            logs = tool(environment, "sam", "logs", *name, *WINDOW, cwd=tmp_path)
            if key in logs.stdout or time.monotonic() > deadline:
                break
            time.sleep(1)  # the execution runs on; sam logs reads what has arrived so far
        assert logs.returncode == 0, logs.stderr[-2000:]
        # (sam logs prints a JSON line indented, over several lines)
        assert '"message": "Serialized image"' in logs.stdout, logs.stdout[-3000:]
        assert f'"s3_key": "{key}"' in logs.stdout
        assert "[$LATEST]" in logs.stdout  # the environment's stream, as sam logs prints it

    def test_the_workstation_commands_run_against_it(self, offline_up, tmp_path):
        """mlwf stage, train, deploy, run, monitor, threshold and teardown with only the
        exported variables set, as against a deployed stack. Last in the module: it restages
        the data and tears the endpoint down."""
        if offline_up["WORKFLOW_TYPE"] != "STANDARD":
            pytest.skip("independent of the workflow type: run once, with STANDARD")
        stack = ("--stack-name", STACK)

        def ok(*args: str) -> str:
            done = mlwf(offline_up, *args)
            assert done.returncode == 0, f"mlwf {' '.join(args)}:\n{done.stderr[-2000:]}"
            assert "Traceback" not in done.stderr
            return done.stdout + done.stderr

        ok("stage", "--source", "synthetic", "--count", "24", "--test-count", "6", *stack)
        trained = ok("train", *stack)
        assert "validation" in trained.lower()
        deployed = ok("deploy", "--poll-interval", "0", "--drain-seconds", "0", *stack)
        assert "InService" in deployed or "in service" in deployed.lower()
        ok("run", "--count", "3", *stack)
        deadline = time.monotonic() + 30  # (offline up writes capture files every 5 s)
        while (
            monitored := mlwf(offline_up, "monitor", "--out", str(tmp_path / "monitor"), *stack)
        ).returncode:
            assert "no capture records" in monitored.stderr and time.monotonic() < deadline, (
                monitored.stderr
            )
            time.sleep(1)
        assert list((tmp_path / "monitor").glob("*.png"))
        outputs = stack_outputs(offline_up)
        labels = f"s3://{outputs['ImagesBucketName']}/dataset/test.lst"
        # (until the capture files of the run above are written: offline up writes them every 5 s)
        deadline = time.monotonic() + 30
        threshold = ("threshold", "--labels", labels, "--out", str(tmp_path / "threshold"), *stack)
        while (chose := mlwf(offline_up, *threshold)).returncode:
            assert "no labelled records" in chose.stderr, chose.stderr[-2000:]
            assert time.monotonic() < deadline, chose.stderr[-2000:]
            time.sleep(1)
        ok("teardown", "--yes", *stack)

        # Then the workflow names the missing endpoint, as it would on AWS after a teardown
        event = "events/classify_image.json"
        invoked = mlwf(offline_up, "invoke", "ClassifyImageFunction", "-e", event, *stack)
        assert invoked.returncode == 1
        assert json.loads(invoked.stdout)["errorType"] in {
            "EndpointNotFound",
            "EndpointParameterNotFound",
        }


class TestOnExpress(TestOnStandard):
    """The same, against an EXPRESS machine."""

    WORKFLOW_TYPE = "EXPRESS"


def test_offline_up_refuses_a_port_in_use_before_it_starts_anything(monkeypatch, capsys):
    # Given a port in use and a stack that must not start (it was refused only once the
    # stack, started, began to serve: ~14 s in, a README walk found)
    from mlwf.cli import main
    from mlwf.offline.runtime import OfflineStack

    def start(*args, **kwargs):
        raise AssertionError("the offline stack was started on a port in use")

    monkeypatch.setattr(OfflineStack, "start", start)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind((HOST, 0))
        other.listen()
        port = other.getsockname()[1]
        code = main(["offline", "up", "--port", str(port)])
    # Then it is one line and exit 1
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"mlwf offline: error: port {port} on {HOST} is in use (")
    assert err.count("\n") == 1
