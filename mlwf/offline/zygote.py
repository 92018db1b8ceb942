"""Execution environments forked from one process that has already imported the AWS SDK.

Lambda's Python runtime includes boto3 ("an environment that includes the SDK for Python",
https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html), and each new execution
environment imports it again in its init: ~0.3 s of CPU of the ~0.6 s an environment takes
to start here, and an offline stack starts three at least, more under concurrency. So, on
Linux, one zygote process per stack process imports the SDK once, with Lambda's base
environment, and forks each new environment from itself. The child then takes the function's
environment variables, code folder and pipes, and runs mlwf.offline.lambda_runtime as a
fresh process would: the function's own module is imported in the child, in its init phase,
with every error Lambda reports there. What differs from a fresh process: the SDK's modules
are imported already, and a variable the SDK reads when it is imported (BOTO_DISABLE_CRT) is
read from the base environment, not the function's.

The parent (the stack) asks the zygote for an environment over a Unix socket, handing it
the child's three pipe ends (requests, answers, log) with SCM_RIGHTS; the zygote answers
with the child's pid and, when the child ends, its exit status (it is the child's parent).
`ForkedProcess` gives the stack what it used from subprocess.Popen.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from typing import IO, Any

# What Lambda's Python runtime provides, imported once (not the layers: Powertools imports
# in ~15 ms, and the X-Ray SDK reads LAMBDA_TASK_ROOT when it is imported).
PRELOADED = ("boto3", "boto3.session", "botocore.session", "botocore.config", "s3transfer")
_MESSAGE_BYTES = 1 << 20


def available() -> bool:
    """fork() without exec is safe for these modules on Linux; macOS forks only to exec."""
    return sys.platform == "linux"


class ForkedProcess:
    """An environment's process, as the stack uses a subprocess.Popen: pid, stdout (its
    log), poll(), kill(), wait(), returncode."""

    def __init__(self, pid: int, stdout: IO[bytes]):
        self.pid, self.stdout = pid, stdout
        self.returncode: int | None = None
        self._ended = threading.Event()

    def _exited(self, code: int) -> None:
        self.returncode = code
        self._ended.set()

    def poll(self) -> int | None:
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # exited: the zygote reports it

    def wait(self, timeout: float | None = None) -> int | None:
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired(f"environment {self.pid}", timeout or 0)
        return self.returncode


def start_process(
    code_dir: str,
    handler: str,
    environment: dict[str, str],
    base_environment: dict[str, str],
    requests: int,
    answers: int,
    importable: list[str] | None = None,
) -> subprocess.Popen[bytes] | ForkedProcess:
    """An environment's process, running mlwf.offline.lambda_runtime: forked by this
    process's zygote where fork() is safe, else a new interpreter. `importable`: the
    packages it may import (mlwf.offline.function_imports); None, no boundary."""
    arguments = [code_dir, handler, str(requests), str(answers)]
    if importable is not None:
        arguments.append(json.dumps(importable))
    if available():
        return shared(base_environment).start(arguments, environment, (requests, answers))
    return subprocess.Popen(
        [sys.executable, "-m", "mlwf.offline.lambda_runtime", *arguments],
        cwd=code_dir,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        pass_fds=(requests, answers),
    )


_SHARED: Zygote | None = None
_SHARED_LOCK = threading.Lock()


def prepare(base_environment: dict[str, str]) -> None:
    """Start this process's zygote now, where fork() is used: its SDK import then overlaps
    the stack's own start, not the first invocation's cold start (Lambda's runtime has the
    SDK before any environment starts). It returns at once; the zygote imports alone."""
    if available():
        shared(base_environment)


def shared(base_environment: dict[str, str]) -> Zygote:
    """This process's zygote, started on first use (again if it has gone); it ends with
    this process."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None or _SHARED.gone:
            _SHARED = Zygote(base_environment)
        return _SHARED


class Zygote:
    """The parent's side: starts the zygote and asks it for environments."""

    def __init__(self, base_environment: dict[str, str]):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "mlwf.offline.zygote", str(theirs.fileno())],
            env=base_environment,
            stdin=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),),
        )
        theirs.close()
        self._socket = ours
        self._lock = threading.Lock()  # one request, one answer at a time
        self._processes: dict[int, ForkedProcess] = {}
        self._exit_codes: dict[int, int] = {}  # ended before its ForkedProcess was made
        self._answers: list[dict[str, Any]] = []
        self._answered = threading.Condition()
        threading.Thread(target=self._read, daemon=True, name="zygote-reader").start()

    def start(
        self, arguments: list[str], environment: dict[str, str], pipes: tuple[int, int]
    ) -> ForkedProcess:
        """A new environment running lambda_runtime.main(arguments), reading requests from
        the fd pipes[0], writing answers to pipes[1], its log on the returned stdout. The
        fds in the arguments are renumbered for the child."""
        requests, answers = pipes
        log_read, log_write = os.pipe()
        spec = {"arguments": arguments, "environment": environment}
        try:
            with self._lock:
                with self._answered:
                    socket.send_fds(
                        self._socket, [json.dumps(spec).encode()], [requests, answers, log_write]
                    )
                    if not self._answered.wait_for(lambda: bool(self._answers), timeout=30):
                        raise OSError("the offline stack's zygote did not answer")
                    answer = self._answers.pop(0)
        except BaseException:
            os.close(log_read)
            raise
        finally:
            os.close(log_write)
        if "error" in answer:
            os.close(log_read)
            raise OSError(f"the offline stack's zygote could not fork: {answer['error']}")
        process = ForkedProcess(int(answer["pid"]), os.fdopen(log_read, "rb"))
        with self._answered:
            self._processes[process.pid] = process
            if process.pid in self._exit_codes:
                process._exited(self._exit_codes.pop(process.pid))
        return process

    def _read(self) -> None:
        while True:
            try:
                data = self._socket.recv(_MESSAGE_BYTES)
            except OSError:
                data = b""
            if not data:  # the zygote has gone: what it forked can no longer be followed
                with self._answered:
                    for process in self._processes.values():
                        process.kill()
                        process._exited(-signal.SIGKILL)
                    self._answers.append({"error": "the zygote has exited"})
                    self._answered.notify_all()
                return
            message = json.loads(data)
            with self._answered:
                if "exited" in message:
                    pid, code = int(message["exited"]), int(message["code"])
                    if pid in self._processes:
                        self._processes.pop(pid)._exited(code)
                    else:
                        self._exit_codes[pid] = code
                else:
                    self._answers.append(message)
                    self._answered.notify_all()

    @property
    def gone(self) -> bool:
        return self._process.poll() is not None


# -- the zygote's side ---------------------------------------------------------------------


def main(control_fd: int) -> None:
    import importlib
    import selectors

    for name in PRELOADED:
        importlib.import_module(name)
    importlib.import_module("mlwf.offline.lambda_runtime")  # what each child runs
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the stack's to handle
    control = socket.socket(fileno=control_fd)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the selector through the fd
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj is control:
                try:
                    data, fds, _, _ = socket.recv_fds(control, _MESSAGE_BYTES, 3)
                except OSError:
                    data, fds = b"", []
                if not data:
                    return  # the stack has closed its end
                own = (wake_read, wake_write, control_fd, selector.fileno())
                _fork(control, json.loads(data), fds, own)
            else:
                os.read(wake_read, 4096)
        _reap(control)


def _fork(control: socket.socket, spec: dict[str, Any], fds: list[int], own: tuple) -> None:
    try:
        pid = os.fork()
    except OSError as exc:
        control.send(json.dumps({"error": str(exc)}).encode())
        for fd in fds:
            os.close(fd)
        return
    if pid == 0:
        _child(spec, fds, own)  # never returns
    for fd in fds:
        os.close(fd)
    control.send(json.dumps({"pid": pid}).encode())


def _reap(control: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        code = os.waitstatus_to_exitcode(status)
        control.send(json.dumps({"exited": pid, "code": code}).encode())


def _child(spec: dict[str, Any], fds: list[int], own: tuple) -> None:
    """In the forked child: become a fresh environment's process, then run it."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for fd in own:
            os.close(fd)
        requests, answers, log = fds
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        for fd in (devnull, log):
            os.close(fd)
        # as PYTHONUNBUFFERED=1 gives a fresh process: each line reaches the log as printed
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=True)
        sys.stderr = io.TextIOWrapper(
            io.FileIO(2, "w", closefd=False), write_through=True, errors="backslashreplace"
        )
        os.environ.clear()
        os.environ.update(spec["environment"])
        import time

        time.tzset()
        code_dir, handler, _, _, *importable = spec["arguments"]
        os.chdir(code_dir)
        sys.path[0] = code_dir  # as `python -m` run from the code folder has it
        from mlwf.offline import lambda_runtime

        code = lambda_runtime.main([code_dir, handler, str(requests), str(answers), *importable])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


if __name__ == "__main__":
    main(int(sys.argv[1]))
