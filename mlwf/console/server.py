"""The console's HTTP server: the page and its scripts (package data, nothing from a CDN)
and a JSON API over mlwf.console's readers. It binds 127.0.0.1 only.

Every failure becomes {"error": "..."} with a status, shown in the page, and one line on
the terminal (each distinct message once): never a stack trace. The page is served with a
Content-Security-Policy that allows only its own scripts and styles, so even a mistake in
escaping could not run a script that came from AWS data.
"""

from __future__ import annotations

import json
import mimetypes
import sys
import threading
import traceback
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from mlwf.console.api import Console
from mlwf.console.aws import ConsoleError
from mlwf.console.detail import execution, logs
from mlwf.console.monitoring import monitoring, parse_moment

HOST = "127.0.0.1"
STATIC = resources.files("mlwf.console") / "static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
MAX_BODY = 256 * 1024  # StartExecution's input is at most 256 KiB


class ConsoleServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        console: Console,
        port: int,
        *,
        labels: str | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        self.console = console
        self.labels = labels
        self.say = say
        self._said: set[str] = set()
        self._said_lock = threading.Lock()
        super().__init__((HOST, port), Handler)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}/"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that drops its connection (a closed tab, a reset) is not an error of
        the console's: socketserver printed a traceback for each. Anything else is reported
        as before."""
        if isinstance(sys.exc_info()[1], ConnectionError):  # reset, aborted, broken pipe
            return
        super().handle_error(request, client_address)

    def report(self, message: str) -> None:
        """One terminal line per distinct problem."""
        with self._said_lock:
            if message in self._said:
                return
            self._said.add(message)
        self.say(f"mlwf console: {message}")


class Handler(BaseHTTPRequestHandler):
    server: ConsoleServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass  # requests are not news; problems are reported once, by report()

    # -- routing -------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if not self._host_allowed():
            return
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if url.path in ("/", "/index.html"):
            self._static("index.html")
        elif url.path.startswith("/static/"):
            self._static(url.path.removeprefix("/static/"))
        elif url.path.startswith("/api/"):
            self._api(url.path.removeprefix("/api/"), query)
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {url.path}"})

    def do_POST(self) -> None:  # noqa: N802
        if not self._host_allowed():
            return
        url = urlsplit(self.path)
        if url.path != "/api/start-execution":
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such action: {url.path}"})
            return
        # A form on another site cannot send JSON: only the page itself can start one.
        if self.headers.get("Content-Type", "").split(";")[0] != "application/json":
            self._json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"error": "send application/json"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "input over 256 KiB"})
            return
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            arn, text = str(body["arn"]), str(body["input"])
        except (ValueError, KeyError, TypeError):
            self._json(HTTPStatus.BAD_REQUEST, {"error": "expected {arn, input, name?}"})
            return
        self._answer(lambda: self.server.console.start_execution(arn, text, body.get("name")))

    def _host_allowed(self) -> bool:
        """Only requests addressed to this server by its loopback name (DNS rebinding)."""
        port = self.server.server_address[1]
        host = self.headers.get("Host", "")
        if host in (f"127.0.0.1:{port}", f"localhost:{port}"):
            return True
        self._json(HTTPStatus.FORBIDDEN, {"error": "the console answers only 127.0.0.1"})
        return False

    def _api(self, route: str, query: dict[str, str]) -> None:
        console = self.server.console
        arn = query.get("arn", "")
        routes: dict[str, Callable[[], Any]] = {
            "stack": console.stack,
            "state-machine": lambda: console.state_machine(arn),
            "executions": lambda: console.executions(arn, int(query.get("since") or 0)),
            "execution": lambda: execution(console, arn),
            "execution-logs": lambda: logs(console, arn),
            "monitoring": lambda: self._monitoring(query),
        }
        if route not in routes:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such API: {route}"})
            return
        if route not in ("stack", "monitoring") and not arn:
            self._json(HTTPStatus.BAD_REQUEST, {"error": "missing ?arn="})
            return
        self._answer(routes[route])

    def _monitoring(self, query: dict[str, str]) -> Any:
        console = self.server.console
        stack = console.stack()
        return monitoring(
            console.aws.client("s3"),
            stack["bucket"],
            stack["threshold"],
            start=parse_moment(query.get("from"), "from"),
            end=parse_moment(query.get("to"), "to"),
            labels=self.server.labels,
        )

    def _answer(self, produce: Callable[[], Any]) -> None:
        try:
            result = produce()
        except ConsoleError as exc:
            self.server.report(exc.message)
            self._json(exc.status, {"error": exc.message})
            return
        except Exception as exc:  # a bug: say so in one line; the trace goes to no page
            where = traceback.extract_tb(exc.__traceback__)[-1]
            message = (
                f"internal error {type(exc).__name__}: {exc} "
                f"({where.filename.rsplit('/', 1)[-1]}:{where.lineno})"
            )
            self.server.report(message)
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": message})
            return
        self._json(HTTPStatus.OK, result)

    # -- answers -------------------------------------------------------------------------
    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body, default=str).encode()
        self._send(status, data, "application/json; charset=utf-8")

    def _static(self, name: str) -> None:
        if not name or "/" in name or name.startswith("."):
            self._json(HTTPStatus.NOT_FOUND, {"error": "no such file"})
            return
        resource = STATIC / name
        if not resource.is_file():
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such file: {name}"})
            return
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if name.endswith(".js"):
            kind = "text/javascript"
        self._send(HTTPStatus.OK, resource.read_bytes(), f"{kind}; charset=utf-8")

    def _send(self, status: int, data: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)
