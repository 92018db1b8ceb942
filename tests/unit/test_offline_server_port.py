"""`mlwf offline up` on a port that is taken: a one-line error at once, not a wait for ever
for a server that never started (moto's server prints werkzeug's message from its thread
and leaves its caller waiting)."""

from __future__ import annotations

import socket
import threading

from mlwf.offline.server import HOST, serving
from training_job.errors import MlwfError


def enter_serving(port: int) -> dict[str, str]:
    """What `with serving(port)` did, from a thread given 10 s (it used to hang)."""
    outcome: dict[str, str] = {}

    def enter() -> None:
        try:
            with serving(port) as url:
                outcome["served"] = url
        except MlwfError as exc:
            outcome["error"] = str(exc)

    thread = threading.Thread(target=enter, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "serving() waited for a server that never started"
    return outcome


def test_a_port_in_use_is_refused_at_once():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind((HOST, 0))
        other.listen()
        port = other.getsockname()[1]
        outcome = enter_serving(port)
    assert "served" not in outcome
    assert f"port {port}" in outcome["error"] and "in use" in outcome["error"]


def test_a_port_a_stopped_server_has_just_left_is_served_again():
    # Given a port whose last server closed a connection first, as werkzeug closes each
    # one: that connection lingers in TIME_WAIT on the port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as old_server:
        old_server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        old_server.bind((HOST, 0))
        old_server.listen()
        port = old_server.getsockname()[1]
        with socket.create_connection((HOST, port)) as client:
            accepted, _ = old_server.accept()
            accepted.close()  # the server's side closes first
            client.recv(1)  # the client sees the close
    # When the port is served again at once, then it is, as werkzeug's own bind allows
    assert enter_serving(port)["served"] == f"http://{HOST}:{port}"
