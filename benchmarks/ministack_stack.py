"""The servers benchmarks/ministack_compare.py compares, started and wired as a user would.

- MiniStack (PyPI `ministack`) in its own virtual environment, benchmarks/.venv-ministack,
  installed from benchmarks/requirements-ministack.txt; template.yaml deployed to it with
  `sam build` + `sam deploy` (the SAM CLI of the project's .venv), Powertools as a layer
  published to it, and its classify function's SageMaker runtime calls sent to the endpoint
  of `mlwf offline up` (MiniStack has no SageMaker).
- `mlwf offline up`, the project's offline stack, on its own port.

Every server listens on a free port of 127.0.0.1 and runs in its own process group, which
`Servers.close` ends (the servers' own children, Lambda workers included, go with it).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "benchmarks" / ".venv-ministack"
REQUIREMENTS = ROOT / "benchmarks" / "requirements-ministack.txt"
REGION = "us-east-1"  # the offline stack's (mlwf.offline.runtime.OfflineStack.start)
MINISTACK_KEY = "test"  # MiniStack's account 000000000000 for a non-numeric key
# The layer's name as AWS publishes it (template.yaml, Globals), under MiniStack's account.
POWERTOOLS_LAYER_NAME = "AWSLambdaPowertoolsPythonV3-python313-arm64"
# boto3 takes a per-service endpoint from AWS_ENDPOINT_URL_<service id>, before
# AWS_ENDPOINT_URL: https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
SAGEMAKER_RUNTIME_ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"
READY_TIMEOUT_SECONDS = 300.0
# Before each timed round, the servers together use less than this share of one core, over
# a window of this length. MiniStack has been seen working on for seconds after reporting
# every execution ended (its Step Functions thread pool still calling functions): that
# work must not run during the next subject's round.
QUIET_SHARE_OF_A_CORE = 0.05
QUIET_WINDOW_SECONDS = 0.3
QUIET_WINDOWS = 2  # in a row: one window can fall in a gap between bursts of work
QUIET_TIMEOUT_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def group_cpu_seconds(process_groups: set[int]) -> float:
    """User and system CPU time of every process in these groups, with what the children
    they have waited for used (utime, stime, cutime, cstime of /proc/PID/stat, Linux):
    a function process that has ended and been reaped still counts."""
    ticks = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                # the fields after the command, which is in parentheses and may hold spaces
                fields = stat.read().rpartition(b")")[2].split()
        except OSError:  # ended since the listing
            continue
        if int(fields[2]) in process_groups:  # field 5, pgrp
            ticks += sum(int(field) for field in fields[11:15])  # fields 14-17
    return ticks / os.sysconf("SC_CLK_TCK")


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without its AWS settings, plus `extra`. MiniStack passes
    its own environment on to its functions, so an AWS_ENDPOINT_URL here would send their
    calls elsewhere."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MINISTACK"))}
    return {**kept, "SAM_CLI_TELEMETRY": "0", **extra}


def ensure_venv(say: Callable[[str], None]) -> Path:
    """benchmarks/.venv-ministack with requirements-ministack.txt installed; its python."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".requirements"
    wanted = REQUIREMENTS.read_text()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    say(f"installing {REQUIREMENTS.name} into {VENV.relative_to(ROOT)}")
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    stamp.write_text(wanted)
    return python


def pinned_version(package: str) -> str:
    """The exact version pyproject.toml pins for `package` (one source of truth)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name, _, version = requirement.partition("==")
        if name.strip() == package:
            return version.strip()
    raise SystemExit(f"pyproject.toml pins no {package}")


def build_powertools_layer(python: Path, workdir: Path) -> Path:
    """A layer zip of the Powertools release pyproject.toml pins (the one AWS's layer 27
    carries, template.yaml), laid out as Lambda reads layers: python/ on sys.path. With the
    tracer extra, as AWS's layer ships it: the handlers refuse to start without the X-Ray
    SDK (PowertoolsLayerMissing)."""
    version = pinned_version("aws-lambda-powertools")
    target = workdir / "powertools-layer"
    subprocess.run(
        # --no-warn-conflicts: the one conflict is the layer's botocore, removed below
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-warn-conflicts", "--target", str(target / "python"),
         f"aws-lambda-powertools[tracer]=={version}"],
        check=True,
    )  # fmt: skip
    shutil.rmtree(target / "python" / "bin", ignore_errors=True)  # console scripts only
    # The X-Ray SDK pulls in botocore, newer than MiniStack's boto3 accepts. Powertools
    # "relies on the AWS SDK bundled in the Lambda runtime"
    # (https://docs.aws.amazon.com/powertools/python/3.24.0/getting-started/install/), so
    # the layer leaves it out: the functions get MiniStack's boto3 and botocore, a pair.
    for sdk in ("boto3", "botocore", "s3transfer"):
        for path in (target / "python").glob(f"{sdk}*"):
            shutil.rmtree(path)
    return Path(shutil.make_archive(str(workdir / "powertools-layer"), "zip", target))


class Servers:
    """The processes this benchmark started, each in its own process group."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.processes: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        """`command` started; its stderr goes to <workdir>/<name>.log, its stdout is piped
        (read it with wait_for_line)."""
        log = (self.workdir / f"{name}.log").open("w")
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=True,
            # a shell's background job ignores SIGINT, and its children would too: Ctrl-C
            # (SIGINT) is how close() asks each server to clean up
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.processes.append((name, process))
        return process

    def cpu_seconds(self) -> float:
        """CPU time used so far by the servers' process groups."""
        return group_cpu_seconds({process.pid for _, process in self.processes})

    def wait_until_quiet(self, timeout: float = QUIET_TIMEOUT_SECONDS) -> tuple[float, bool]:
        """(seconds waited, quiet): waits until the servers use less than
        QUIET_SHARE_OF_A_CORE of one core in QUIET_WINDOWS windows of QUIET_WINDOW_SECONDS
        in a row, or `timeout`. A window whose total went down (a process reaped between
        reading its parent and reading it) counts as busy."""
        started = before_time = time.monotonic()
        before, quiet_windows = self.cpu_seconds(), 0
        while True:
            time.sleep(QUIET_WINDOW_SECONDS)  # the window the CPU use is measured over
            now, used = time.monotonic(), self.cpu_seconds()
            share = (used - before) / (now - before_time)
            quiet_windows = quiet_windows + 1 if 0 <= share < QUIET_SHARE_OF_A_CORE else 0
            if quiet_windows == QUIET_WINDOWS:
                return now - started, True
            if now - started >= timeout:
                return now - started, False
            before, before_time = used, now

    def close(self) -> None:
        for _, process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: each server's own cleanup
        for name, process in reversed(self.processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop on Ctrl-C within 30 s: killing it", file=sys.stderr)
            try:
                os.killpg(process.pid, signal.SIGKILL)  # what is left of its group
            except ProcessLookupError:
                pass


def wait_for_line(process: subprocess.Popen, marker: str, name: str) -> str:
    """The first stdout line of `process` containing `marker` (it prints it when ready);
    the rest of its stdout is drained in the background, so a full pipe never blocks it."""
    assert process.stdout is not None
    stdout = process.stdout
    for line in stdout:
        if marker in line:
            threading.Thread(target=stdout.read, daemon=True).start()
            return line.strip()
    raise SystemExit(f"{name} ended (exit {process.wait()}) before it was ready: see its log")


def wait_for_http(url: str, process: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} ended (exit {process.returncode}): see its log")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)  # a server that is still binding its port: ask again
    raise SystemExit(f"{name} did not answer {url} within {READY_TIMEOUT_SECONDS:.0f} s")


def start_ministack(servers: Servers, python: Path) -> str:
    port = free_port()
    tmp = servers.workdir / "ministack-tmp"  # its functions' code, removed with workdir
    tmp.mkdir()
    env = clean_environment(GATEWAY_PORT=str(port), BIND_HOST="127.0.0.1", TMPDIR=str(tmp))
    process = servers.start("ministack", [str(python), "-m", "ministack"], env)
    url = f"http://127.0.0.1:{port}"
    threading.Thread(target=process.stdout.read, daemon=True).start()  # a full pipe blocks
    wait_for_http(f"{url}/_ministack/health", process, "MiniStack")
    return url


def start_offline_up(servers: Servers) -> str:
    port = free_port()
    mlwf = ROOT / ".venv" / "bin" / "mlwf"
    process = servers.start("offline-up", [str(mlwf), "offline", "up", "--port", str(port)],
                            clean_environment())  # fmt: skip
    wait_for_line(process, "export AWS_ENDPOINT_URL=", "mlwf offline up")
    return f"http://127.0.0.1:{port}"


def client_options(url: str, key: str) -> dict[str, Any]:
    return {
        "endpoint_url": url,
        "region_name": REGION,
        "aws_access_key_id": key,
        "aws_secret_access_key": key,
    }


def deploy_to_ministack(url: str, python: Path, workdir: Path, stack_name: str) -> None:
    """template.yaml through `sam build` and `sam deploy`, pointed at MiniStack by
    AWS_ENDPOINT_URL (the SAM CLI's boto3 honours it), with Powertools published to it."""
    import boto3

    options = client_options(url, MINISTACK_KEY)
    layer = boto3.client("lambda", **options).publish_layer_version(
        LayerName=POWERTOOLS_LAYER_NAME,
        Content={"ZipFile": build_powertools_layer(python, workdir).read_bytes()},
        CompatibleRuntimes=["python3.13"],
        CompatibleArchitectures=["arm64"],
    )["LayerVersionArn"]
    artifacts = "sam-artifacts"
    boto3.client("s3", **options).create_bucket(Bucket=artifacts)
    env = clean_environment(
        AWS_ENDPOINT_URL=url,
        AWS_ACCESS_KEY_ID=MINISTACK_KEY,
        AWS_SECRET_ACCESS_KEY=MINISTACK_KEY,
        AWS_REGION=REGION,
        AWS_DEFAULT_REGION=REGION,
    )
    sam = str(ROOT / ".venv" / "bin" / "sam")
    build = workdir / "sam-build"
    commands = [
        [sam, "build", "--template", "template.yaml", "--build-dir", str(build),
         "--cache-dir", str(workdir / "sam-cache")],
        # samconfig.toml (read from ROOT) asks to confirm and to resolve an S3 bucket: the
        # flags answer both, as a CI deploy would.
        [sam, "deploy", "--template-file", str(build / "template.yaml"),
         "--stack-name", stack_name, "--region", REGION, "--s3-bucket", artifacts,
         "--no-resolve-s3", "--no-confirm-changeset", "--no-progressbar",
         "--capabilities", "CAPABILITY_IAM",
         "--parameter-overrides", f"PowertoolsLayerArn={layer}"],
    ]  # fmt: skip
    for command in commands:
        with (workdir / f"sam-{command[1]}.log").open("w") as log:
            done = subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        if done.returncode != 0:
            raise SystemExit(f"sam {command[1]} failed: see {log.name}")


def stack_outputs(url: str, key: str, stack_name: str) -> dict[str, str]:
    import boto3

    cloudformation = boto3.client("cloudformation", **client_options(url, key))
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def wire_classify_to_offline(ministack: str, offline: str, stack_name: str) -> str:
    """MiniStack's classify function calls `mlwf offline up`'s SageMaker runtime; MiniStack's
    SSM parameter names the endpoint offline deployed. The endpoint's name."""
    import boto3

    ms = client_options(ministack, MINISTACK_KEY)
    outputs = stack_outputs(ministack, MINISTACK_KEY, stack_name)
    offline_outputs = stack_outputs(offline, "offline", stack_name)
    offline_ssm = boto3.client("ssm", **client_options(offline, "offline"))
    parameter = offline_outputs["EndpointNameParameter"]
    endpoint = offline_ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    boto3.client("ssm", **ms).put_parameter(
        Name=outputs["EndpointNameParameter"], Value=endpoint, Type="String", Overwrite=True
    )
    functions = boto3.client("lambda", **ms)
    name = outputs["ClassifyImageFunctionName"]
    variables = functions.get_function_configuration(FunctionName=name)["Environment"]
    variables = {**variables["Variables"], SAGEMAKER_RUNTIME_ENDPOINT_VARIABLE: offline}
    functions.update_function_configuration(FunctionName=name, Environment={"Variables": variables})
    return endpoint
