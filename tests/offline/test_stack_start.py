"""What a stack has under way when OfflineStack.start returns, so that a user's first
invocation pays only for what Lambda's first invocation pays for (its environment's init)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlwf.offline import zygote
from mlwf.offline.runtime import OfflineStack

pytestmark = pytest.mark.offline


@pytest.fixture
def no_zygote_yet(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process without a zygote (an earlier stack's, restored after), and the one the
    test makes stopped after it."""
    if not zygote.available():
        pytest.skip("fork() without exec is used on Linux only")
    monkeypatch.setattr(zygote, "_SHARED", None)
    yield
    made = zygote._SHARED
    if made is not None:
        made._process.kill()
        made._process.wait(timeout=10)


@pytest.mark.usefixtures("no_zygote_yet")
def test_the_zygote_imports_the_sdk_while_the_stack_starts_not_at_the_first_invocation():
    with OfflineStack.start(say=lambda _: None) as stack:
        # Then, before any function is invoked, the zygote is running (importing the SDK)
        started = zygote._SHARED
        assert started is not None and not started.gone

        # And the first environment is forked by that zygote, not by a new one
        logical_id, spec = next(iter(stack.spec.functions.items()))
        stack.client("lambda").invoke(FunctionName=spec.name, Payload=b"{}")
        (environment,) = stack.functions[logical_id]._all
        assert isinstance(environment.process, zygote.ForkedProcess)
        assert zygote._SHARED is started
