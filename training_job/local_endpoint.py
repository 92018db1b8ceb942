"""AWS_ENDPOINT_URL naming a port of this machine that nothing listens on, said at once.

Most likely the exports of an `mlwf offline up` that has stopped. botocore retries a refused
connection with backoff: ~10 s before a command could say what is wrong. A refused connection
to this machine is not transient, so one attempt before the first AWS session says it at
once. Endpoints on other hosts are left to botocore: a remote one may be slow, not gone.
"""

from __future__ import annotations

import os
import socket
import urllib.parse

from training_job.errors import MlwfError

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class EndpointNotAnswering(MlwfError):
    """Nothing listens where AWS_ENDPOINT_URL points, on this machine."""


def nothing_answers(endpoint: str) -> str:
    return (
        f"nothing answers at AWS_ENDPOINT_URL ({endpoint}): is its `mlwf offline up` still "
        "running? Start it again, or unset AWS_ENDPOINT_URL"
    )


def check_local_endpoint() -> None:
    """EndpointNotAnswering if AWS_ENDPOINT_URL names a port of this machine that refuses."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if not endpoint:
        return
    url = urllib.parse.urlsplit(endpoint)
    try:
        port = url.port or (443 if url.scheme == "https" else 80)
    except ValueError:  # not a port number: botocore names that better
        return
    if url.hostname not in _LOOPBACK_HOSTS:
        return
    try:
        with socket.create_connection((url.hostname, port), timeout=2):
            return
    except OSError:
        raise EndpointNotAnswering(nothing_answers(endpoint)) from None
