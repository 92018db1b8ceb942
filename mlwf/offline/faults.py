"""Fault injection for the offline stack: make the endpoint or a function fail, the first
N calls (transient) or every call (permanent), with the error AWS would return.

    endpoint:throttle:3              the first 3 InvokeEndpoint calls are throttled (the
                                     function's SDK retries 2, the workflow the third)
    endpoint:model-error             every call fails in the model (ModelError)
    ClassifyImageFunction:throttle:1 Lambda throttles the first invocation
    FilterInferencesFunction:service-error   Lambda fails every invocation (5xx)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from mlwf.offline.bridge import AwsErrorResponse, EndpointModelError
from training_job.errors import MlwfError

ENDPOINT = "endpoint"
# kind -> (applies to, the error raised)
KINDS = {
    ("endpoint", "throttle"): lambda: AwsErrorResponse("ThrottlingException", "Rate exceeded", 400),
    ("endpoint", "unavailable"): lambda: AwsErrorResponse(
        "ServiceUnavailable", "The service is unavailable (injected fault)", 503
    ),
    ("endpoint", "model-error"): lambda: EndpointModelError("injected model failure"),
    ("function", "throttle"): lambda: AwsErrorResponse(
        "TooManyRequestsException", "Rate Exceeded. (injected fault)", 429
    ),
    ("function", "service-error"): lambda: AwsErrorResponse(
        "ServiceException", "Lambda service error (injected fault)", 500
    ),
}


@dataclass
class Fault:
    target: str
    kind: str
    count: int | None  # calls that fail; None: every call
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def parse(cls, text: str, function_ids: list[str]) -> Fault:
        parts = text.split(":")
        if len(parts) not in (2, 3):
            raise MlwfError(f"fault {text!r}: expected TARGET:KIND[:COUNT]")
        target, kind = parts[0], parts[1]
        if target != ENDPOINT and target not in function_ids:
            targets = ", ".join([ENDPOINT, *function_ids])
            raise MlwfError(f"fault {text!r}: unknown target {target!r}; targets: {targets}")
        scope = "endpoint" if target == ENDPOINT else "function"
        if (scope, kind) not in KINDS:
            kinds = ", ".join(k for s, k in KINDS if s == scope)
            raise MlwfError(f"fault {text!r}: a {scope} fault is one of: {kinds}")
        count = None
        if len(parts) == 3:
            if not parts[2].isdigit() or int(parts[2]) < 1:
                raise MlwfError(f"fault {text!r}: COUNT must be a whole number >= 1")
            count = int(parts[2])
        return cls(target, kind, count)

    @property
    def scope(self) -> str:
        return "endpoint" if self.target == ENDPOINT else "function"

    def strike(self) -> None:
        """Raise the fault's error if this call is one that fails."""
        with self._lock:
            self.calls += 1
            failing = self.count is None or self.calls <= self.count
        if failing:
            raise KINDS[(self.scope, self.kind)]()

    def __str__(self) -> str:
        times = "every call" if self.count is None else f"first {self.count} call(s)"
        return f"{self.target}: {self.kind} on {times}"
