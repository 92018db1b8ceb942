"""The console's HTTP server: a browser dropping its connection is not reported as an
error (a README walk saw a ConnectionResetError traceback for each), anything else is."""

from __future__ import annotations

import pytest

from mlwf.console.server import ConsoleServer


@pytest.fixture
def server():
    console_server = ConsoleServer(console=None, port=0, say=lambda _: None)  # type: ignore[arg-type]
    yield console_server
    console_server.server_close()


@pytest.mark.parametrize("dropped", [ConnectionResetError, BrokenPipeError, ConnectionAbortedError])
def test_a_dropped_connection_prints_nothing(server, capsys, dropped):
    try:
        raise dropped(104, "Connection reset by peer")
    except ConnectionError:
        server.handle_error(None, ("127.0.0.1", 50000))
    assert capsys.readouterr().err == ""


def test_any_other_error_is_still_reported(server, capsys):
    try:
        raise ValueError("a bug")
    except ValueError:
        server.handle_error(None, ("127.0.0.1", 50000))
    assert "ValueError: a bug" in capsys.readouterr().err
