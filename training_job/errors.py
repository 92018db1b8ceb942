"""The one exception type the command line turns into a one-line message, and the one line
it prints for an AWS error answer."""

from __future__ import annotations

import http
import os
from collections.abc import Mapping
from typing import Any


class MlwfError(Exception):
    """A failure the user can act on: bad input, missing stack output, a failed job.

    The CLI prints its message on one line and exits non-zero, never a traceback.
    """


BODY_EXCERPT_CHARS = 200


def client_error_message(operation: str, response: Mapping[str, Any]) -> str:
    """One line for a service's error answer, saying what came back when it is not AWS's
    error shape (a proxy, a wrong AWS_ENDPOINT_URL, an emulator without the API)."""
    error = response.get("Error", {})
    code, message = str(error.get("Code", "")), str(error.get("Message", "")).strip()
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code and not code.isdigit():
        return f"{operation}: {code}: {message or f'(no message, HTTP {status})'}"
    # botocore names the error by the HTTP status when the body holds no AWS error code.
    status = status or (int(code) if code.isdigit() else None)
    try:
        phrase = f" {http.HTTPStatus(status).phrase}" if status else ""
    except ValueError:
        phrase = ""
    if message:
        excerpt = " ".join(message.split())
        if len(excerpt) > BODY_EXCERPT_CHARS:
            excerpt = excerpt[:BODY_EXCERPT_CHARS] + "..."
        body = f"a body that is not an AWS error: {excerpt!r}"
    else:
        body = "an empty body"
    where = os.environ.get("AWS_ENDPOINT_URL")
    hint = f"; is AWS_ENDPOINT_URL={where} an endpoint for this service?" if where else ""
    return f"{operation}: HTTP {status}{phrase} with {body}{hint}"
