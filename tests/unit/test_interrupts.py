"""mlwf/interrupts.py: Ctrl-C and SIGTERM stop a long-running command however it was started,
SIGINT ignored (as a script's background job inherits it) included."""

from __future__ import annotations

import signal

import pytest

from mlwf.interrupts import stopped_by_ctrl_c_or_sigterm

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@pytest.fixture
def handlers_restored():
    saved = {number: signal.getsignal(number) for number in SIGNALS}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


@pytest.mark.parametrize("number", SIGNALS, ids=["SIGINT", "SIGTERM"])
def test_each_signal_raises_keyboard_interrupt_though_sigint_was_ignored(handlers_restored, number):
    # Given a process started with SIGINT ignored
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # When a command has asked to be stopped by them
    stopped_by_ctrl_c_or_sigterm()
    # Then each interrupts it, which the command catches to stop cleanly
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(number)
