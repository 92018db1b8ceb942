"""A port of 127.0.0.1 that something listens on, for the duration of a `with`."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def listening_port() -> Iterator[int]:
    """A free port of 127.0.0.1 with a listening socket (connections are queued, unanswered)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]
