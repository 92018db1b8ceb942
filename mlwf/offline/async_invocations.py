"""Lambda's asynchronous invocation (`InvocationType: Event`), as Lambda runs it.

Lambda puts the event on a queue and answers 202 at once; the function runs after. "If the
function returns an error, by default Lambda attempts to run it two more times, with a
one-minute wait between the first two attempts, and two minutes between the second and
third attempts". A throttled event (no concurrency left) or one that meets a system error
goes back to the queue and is retried "for up to 6 hours, with exponential backoff"
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html). The
retries keep the invocation's request id. Offline, the backoff doubles from one second up
to five minutes (AWS's intervals are not given). Events still waiting when the stack stops
are dropped with it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

LOG = logging.getLogger(__name__)
FUNCTION_ERROR_RETRY_SECONDS = (60.0, 120.0)  # before the second and the third attempt
MAX_EVENT_AGE_SECONDS = 6 * 3600.0
THROTTLE_BACKOFF_SECONDS = (1.0, 300.0)  # the first wait, the longest


class AsyncInvocations:
    """The events invoked asynchronously and not yet done, each on a thread of its own."""

    def __init__(self, not_run: type[Exception]) -> None:
        """`not_run`: the exception by which Lambda answers an invocation it did not run
        (throttled, the function gone), as opposed to an error of the function."""
        self._not_run = not_run
        self._stopped = threading.Event()
        self._pending = 0
        self._changed = threading.Condition()

    def submit(self, run: Callable[[], Any], name: str) -> None:
        """Run `run()` (one attempt: it raises to fail) later, with Lambda's retries."""
        with self._changed:
            self._pending += 1
        thread = threading.Thread(target=self._done_after, args=(run,), name=f"async {name}")
        thread.daemon = True
        thread.start()

    def wait_until_done(self, timeout: float) -> bool:
        """Whether every event submitted has run or been given up within `timeout`."""
        with self._changed:
            return self._changed.wait_for(lambda: self._pending == 0, timeout)

    def stop(self) -> None:
        """Drop what is still queued or waiting for a retry."""
        self._stopped.set()

    def _done_after(self, run: Callable[[], Any]) -> None:
        try:
            self._attempts(run)
        finally:
            with self._changed:
                self._pending -= 1
                self._changed.notify_all()

    def _attempts(self, run: Callable[[], Any]) -> None:
        queued = time.monotonic()
        function_retries = list(FUNCTION_ERROR_RETRY_SECONDS)
        backoff = THROTTLE_BACKOFF_SECONDS[0]
        while not self._stopped.is_set():
            try:
                run()
                return
            except self._not_run as answer:  # Lambda did not run it: throttled, or gone
                status = getattr(answer, "status", 400)
                if status != 429 and status < 500:
                    LOG.info("asynchronous event dropped: %s", answer)
                    return
                wait, backoff = backoff, min(backoff * 2, THROTTLE_BACKOFF_SECONDS[1])
                if time.monotonic() + wait - queued > MAX_EVENT_AGE_SECONDS:
                    return
            except Exception:  # the function's error: tried twice more at most
                if not function_retries:
                    return
                wait = function_retries.pop(0)
            if self._stopped.wait(wait):
                return
