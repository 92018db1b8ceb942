"""The offline endpoint's container: local models served from a process of their own.

A SageMaker endpoint runs its model on its own instances, beside the Lambda functions and
the state machine. The offline mode does the same on one machine: models are loaded and
invoked in one child process, while moto's interpreter and the handlers run in this one.

That is also what makes it fast. In-process, the model's many short numpy calls each let go
of the GIL, and with the interpreter's threads busy each one waited a switch interval to get
it back: 6 ms of model work took ~20 ms at 16 executions in flight. In a child process the
model keeps a core to itself, and a call costs this process one socket round trip.

The child is a fresh `python -m mlwf.offline.model_server` (forking a process that runs
moto's threads is unsafe, and multiprocessing's "spawn" would re-run the caller's main
script), started with the offline stack (or on first use) and talked to over a socket
pair. One is shared by the offline stacks of a process and stops with it. Calls are
answered one at a time, in the order they arrive, as a single-worker model server answers
them. If the child dies, the call in progress fails and the next call starts a new one,
which reloads its models, as SageMaker replaces a failed container.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from mlwf.offline.local_model import LocalModel, LocalModelError, OneThread

# SageMaker's own limit for a model container to answer InvokeEndpoint.
INVOKE_TIMEOUT_SECONDS = 60.0
# Loading imports numpy, scikit-learn and Pillow in a fresh process first.
LOAD_TIMEOUT_SECONDS = 120.0
# The child has one core to itself at most (this process has the other): BLAS and OpenMP
# threads beyond one would only spin.
_CHILD_ENVIRONMENT = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
_ROOT = str(Path(__file__).resolve().parents[2])


class ModelServer:
    """A child process that loads local-model artifacts and answers invocations."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: Any = None
        self._socket: socket.socket | None = None
        self._artifacts: dict[str, bytes] = {}  # model id -> artifact, to reload after a crash
        self._loaded: set[str] = set()  # model ids the running child has loaded
        self._timeout: float | None = None  # the receive timeout the socket has now

    def load(self, artifact: bytes) -> RemoteModel:
        """Load an artifact (LocalModelError if it is not a model) and return its handle."""
        model_id = hashlib.sha256(artifact).hexdigest()
        with self._lock:
            self._artifacts[model_id] = artifact
            try:
                self._ensure_loaded(model_id)
            except LocalModelError:
                self._artifacts.pop(model_id, None)
                raise
        return RemoteModel(self, model_id)

    def invoke(self, model_id: str, body: bytes, content_type: str) -> bytes:
        with self._lock:
            self._ensure_loaded(model_id)
            return self._call(("invoke", model_id, body, content_type), INVOKE_TIMEOUT_SECONDS)

    def unload(self, model_id: str) -> None:
        with self._lock:
            self._artifacts.pop(model_id, None)
            if model_id in self._loaded:
                self._loaded.discard(model_id)
                try:
                    self._call(("unload", model_id), INVOKE_TIMEOUT_SECONDS)
                except LocalModelError:
                    pass  # the child has stopped, and its models went with it

    def start(self) -> None:
        """Start the child now, if it is not running, without waiting for it: it imports
        the model's libraries (~1 s) while this process does something else."""
        with self._lock:
            if not self._running():
                self._start()

    def close(self) -> None:
        with self._lock:
            self._stop()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    # -- the child ----------------------------------------------------------------------
    def _running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _ensure_loaded(self, model_id: str) -> None:
        if not self._running():
            self._start()
        if model_id not in self._loaded:
            if model_id not in self._artifacts:
                raise LocalModelError("the model was unloaded from the offline endpoint")
            self._call(("load", model_id, self._artifacts[model_id]), LOAD_TIMEOUT_SECONDS)
            self._loaded.add(model_id)

    def _start(self) -> None:
        self._stop()
        ours, theirs = socket.socketpair()
        environment = {
            **os.environ,
            **_CHILD_ENVIRONMENT,
            "PYTHONPATH": os.pathsep.join(filter(None, [_ROOT, os.environ.get("PYTHONPATH")])),
        }
        with theirs:
            process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                env=environment,
                stdin=subprocess.DEVNULL,
            )
        self._process, self._socket, self._timeout = process, ours, None
        self._loaded = set()

    def _stop(self) -> None:
        if self._socket is not None:
            self._socket.close()  # the child reads end-of-file and exits
        if self._process is not None:
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = self._socket = None
        self._loaded = set()

    def _call(self, message: tuple[Any, ...], timeout: float) -> Any:
        sock = self._socket
        assert sock is not None
        try:
            if timeout != self._timeout:
                _set_receive_timeout(sock, timeout)
                self._timeout = timeout
            _send(sock, message)
            status, payload = _receive(sock)
        except TimeoutError:
            self._stop()
            raise LocalModelError(f"the model did not answer within {timeout:.0f} s") from None
        except (EOFError, OSError):
            code = self._process.poll() if self._process is not None else None
            self._stop()
            raise LocalModelError(f"the model server stopped (exit code {code})") from None
        if status == "error":
            raise LocalModelError(payload)
        return payload


# Messages are pickles (between this process and its own child), each preceded by its
# length. Every blocking socket call lets go of the GIL and may wait up to a switch
# interval to get it back when other threads are busy, so a call is one sendall and,
# for the short answers, one recv: no poll() before it, and the timeout is the kernel's
# (SO_RCVTIMEO) rather than Python's, which would poll() first.
_HEADER = struct.Struct("!I")


def _send(sock: socket.socket, message: Any) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_HEADER.pack(len(payload)) + payload)


def _receive(sock: socket.socket) -> Any:
    buffer = bytearray()
    size = None
    while size is None or len(buffer) < _HEADER.size + size:
        try:
            chunk = sock.recv(1 << 16)
        except BlockingIOError:  # SO_RCVTIMEO expired
            raise TimeoutError from None
        if not chunk:
            raise EOFError
        buffer += chunk
        if size is None and len(buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(buffer)
    return pickle.loads(buffer[_HEADER.size :])


def _set_receive_timeout(sock: socket.socket, seconds: float) -> None:
    whole = int(seconds)
    timeval = struct.pack("ll", whole, int((seconds - whole) * 1_000_000))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)


class RemoteModel:
    """A model loaded in the server: the same `invoke` contract as LocalModel."""

    def __init__(self, server: ModelServer, model_id: str):
        self.server, self.model_id = server, model_id

    def invoke(self, body: bytes, content_type: str) -> bytes:
        return self.server.invoke(self.model_id, body, content_type)

    def unload(self) -> None:
        self.server.unload(self.model_id)


_SHARED: ModelServer | None = None
_SHARED_LOCK = threading.Lock()


def shared_server() -> ModelServer:
    """The process's model server, stopped when the process exits."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = ModelServer()
            atexit.register(_SHARED.close)
        return _SHARED


def _serve(sock: socket.socket) -> None:
    """The child's loop: one request at a time until the parent closes the socket."""
    # Ctrl-C, or a `kill` of the whole process group, is for the parent to handle: it
    # closes the socket as it stops, and the child exits at the end of it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # What loading and running a model needs, imported before the first request asks.
    import skimage.feature  # noqa: F401
    import sklearn.decomposition  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.pipeline  # noqa: F401
    import sklearn.preprocessing  # noqa: F401
    import sklearn.svm  # noqa: F401

    with OneThread():  # once, not per invocation: see OneThread
        _answer(sock)


def _answer(sock: socket.socket) -> None:
    models: dict[str, LocalModel] = {}
    while True:
        try:
            kind, model_id, *args = _receive(sock)
        except (EOFError, OSError):
            return
        try:
            if kind == "load":
                models[model_id] = LocalModel.from_artifact(args[0])
                reply: tuple[str, Any] = ("ok", None)
            elif kind == "unload":
                models.pop(model_id, None)
                reply = ("ok", None)
            else:
                reply = ("ok", models[model_id].invoke(*args))
        except LocalModelError as exc:
            reply = ("error", str(exc))
        except Exception as exc:  # a bug in the model: the container's 5xx, not a crash
            reply = ("error", f"{type(exc).__name__}: {exc}")
        _send(sock, reply)


if __name__ == "__main__":
    _serve(socket.socket(fileno=int(sys.argv[1])))
