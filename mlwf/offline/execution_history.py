"""GetExecutionHistory answered in pages, in either order, as AWS answers it; moto answered
every event at once, oldest first, whatever was asked.

https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html:
"By default, the results are returned in ascending order of the timeStamp of the events. Use
the reverseOrder parameter to get the latest events first."; maxResults "The default is 100
and the maximum allowed page size is 1000. A value of 0 uses the default."; a nextToken
that is not one: "HTTP 400 InvalidToken error"; includeExecutionData false leaves out "the
input or output of a history event".

moto's answer ignored all four: `aws stepfunctions get-execution-history --reverse-order
--max-items 1` printed the execution's first event, not its last, and a 25,000-event history
came back as one answer. A token here names the next event's id, so a page read while the
execution goes on continues where the last one stopped, in either order; it is signed for
its execution and order, so one this stack did not give is InvalidToken.
moto's internals named here are pinned by tests/unit/test_execution_history.py.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

DEFAULT_PAGE = 100
DATA_FIELDS = ("input", "output", "inputDetails", "outputDetails")


class InvalidToken(Exception):  # noqa: N818 - the API's error code
    """A nextToken this history did not hand out."""


def page_of(
    events: list[dict[str, Any]],
    reverse: bool = False,
    size: int | None = None,
    token: str | None = None,
    include_data: bool = True,
    *,
    signer: TokenSigner,
    execution_arn: str,
) -> dict[str, Any]:
    """One page of a history (its events in id order), with the token for the next."""
    ordered = list(reversed(events)) if reverse else list(events)
    if token:
        start = signer.next_id(token, execution_arn, reverse)
        ordered = [e for e in ordered if (e["id"] <= start if reverse else e["id"] >= start)]
    size = size or DEFAULT_PAGE
    page, rest = ordered[:size], ordered[size:]
    answer: dict[str, Any] = {"events": page if include_data else [_without_data(e) for e in page]}
    if rest:
        answer["nextToken"] = signer.token(execution_arn, rest[0]["id"], reverse)
    return answer


class TokenSigner:
    """Tokens this stack hands out, for one execution and one order: another execution's,
    another order's, or one made up is InvalidToken, as AWS answers a token it did not give."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(16)

    def token(self, execution_arn: str, next_id: int, reverse: bool) -> str:
        mark = self._mark(execution_arn, next_id, reverse)
        return base64.urlsafe_b64encode(json.dumps([next_id, reverse, mark]).encode()).decode()

    def next_id(self, token: str, execution_arn: str, reverse: bool) -> int:
        try:
            next_id, reversed_, mark = json.loads(base64.urlsafe_b64decode(token.encode()))
        except (ValueError, TypeError, binascii.Error):
            raise InvalidToken(f"Invalid Token: '{token}'") from None
        if not (
            isinstance(next_id, int)
            and reversed_ is reverse
            and isinstance(mark, str)
            and hmac.compare_digest(
                mark.encode(), self._mark(execution_arn, next_id, reverse).encode()
            )
        ):
            raise InvalidToken(f"Invalid Token: '{token}'")
        return next_id

    def _mark(self, execution_arn: str, next_id: int, reverse: bool) -> str:
        text = f"{execution_arn}|{next_id}|{reverse}".encode()
        return hmac.new(self._key, text, hashlib.sha256).hexdigest()[:32]


def _without_data(event: dict[str, Any]) -> dict[str, Any]:
    return {
        key: {k: v for k, v in value.items() if k not in DATA_FIELDS}
        if key.endswith("EventDetails") and isinstance(value, dict)
        else value
        for key, value in event.items()
    }


@contextmanager
def histories_paged() -> Iterator[None]:
    """moto's GetExecutionHistory pages, orders and trims as AWS's while the block runs."""
    from moto.core.exceptions import AWSError
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    original = StepFunctionResponse.__dict__["get_execution_history"]  # KeyError: moto changed
    signer = TokenSigner()

    def get_execution_history(response: Any) -> Any:
        events = original(response).result["events"]  # every event, oldest first
        size = response._get_param("maxResults")  # past 1000: refused by request_constraints
        try:
            page = page_of(
                events,
                reverse=bool(response._get_param("reverseOrder")),
                size=size,
                token=response._get_param("nextToken"),
                include_data=response._get_param("includeExecutionData") is not False,
                signer=signer,
                execution_arn=response._get_param("executionArn"),
            )
        except InvalidToken as exc:
            raise AWSError(str(exc), "InvalidToken") from None
        return ActionResult(page)

    with patch.object(StepFunctionResponse, "get_execution_history", get_execution_history):
        yield
