"""The console's AWS access: one boto3 session, and every AWS failure as one readable line.

The console reads only AWS APIs (Step Functions, CloudWatch Logs, S3, CloudFormation), so
it works the same against a deployed stack (the user's credentials) and against
`mlwf offline up` (AWS_ENDPOINT_URL). Whatever goes wrong there (an unknown stack, no
credentials, an endpoint that is not running, an execution that is gone) becomes a
ConsoleError: an HTTP status and a sentence, shown in the page and on the terminal.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from training_job.errors import client_error_message

# Codes AWS answers for something that does not exist (the page says so, with 404).
NOT_FOUND_CODES = {
    "ExecutionDoesNotExist",
    "StateMachineDoesNotExist",
    "ResourceNotFoundException",
    "NoSuchKey",
    "NoSuchBucket",
    "404",
}


class ConsoleError(Exception):
    """A failure the page shows as a message (never a stack trace)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def endpoint_hint() -> str:
    where = os.environ.get("AWS_ENDPOINT_URL")
    return f" at {where}" if where else ""


def console_error(exc: Exception, what: str) -> ConsoleError:
    """`exc` from boto3 as a ConsoleError saying what the console was doing."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    if isinstance(exc, ConsoleError):
        return exc
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return ConsoleError(
            401,
            f"{what}: no AWS credentials: run `aws configure` or set AWS_PROFILE; for the "
            "offline stack, export the variables `mlwf offline up` prints",
        )
    if isinstance(exc, NoRegionError):
        return ConsoleError(400, f"{what}: no AWS region: pass --region or set AWS_REGION")
    if isinstance(exc, EndpointConnectionError):
        where = os.environ.get("AWS_ENDPOINT_URL")
        hint = (
            f"; nothing answers at AWS_ENDPOINT_URL={where}: is `mlwf offline up` running?"
            if where
            else "; check the network and the region"
        )
        return ConsoleError(503, f"{what}: cannot reach AWS ({exc}){hint}")
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = 404 if code in NOT_FOUND_CODES else 502
        return ConsoleError(
            status, f"{what}: {client_error_message(exc.operation_name, exc.response)}"
        )
    from botocore.exceptions import BotoCoreError

    if isinstance(exc, BotoCoreError):
        return ConsoleError(502, f"{what}: {exc}")
    raise exc


class Aws:
    """Clients made once (boto3 clients are thread-safe; sessions are not)."""

    def __init__(self, region: str | None = None) -> None:
        import boto3
        from botocore.config import Config

        self.session = boto3.Session(region_name=region or os.environ.get("AWS_REGION") or None)
        # Few retries and short timeouts: a page waiting on a dead endpoint should say so soon.
        config = Config(
            retries={"max_attempts": 2, "mode": "standard"},
            connect_timeout=3,
            read_timeout=30,
            max_pool_connections=16,
        )
        self._clients: dict[str, Any] = {}
        self._config = config
        self._lock = threading.Lock()

    @property
    def region(self) -> str | None:
        return self.session.region_name

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                try:
                    session: Any = self.session  # any service by name: not one stub's overload
                    self._clients[service] = session.client(service, config=self._config)
                except Exception as exc:  # no region, a bad AWS_ENDPOINT_URL: one line
                    raise console_error(exc, f"{service} client") from None
            return self._clients[service]
