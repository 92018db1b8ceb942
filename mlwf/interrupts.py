"""Ctrl-C and SIGTERM stop a long-running command (`mlwf offline up`, `mlwf console`), however
it was started.

A script's background job inherits SIGINT ignored, and Python then keeps ignoring it: `kill
-INT` did nothing to `mlwf offline up` (a README walk and a CI run started in the background
both met it), and SIGTERM, a script's usual stop, ended the process without its cleanup.
Both now raise KeyboardInterrupt, which the commands catch to stop cleanly.
"""

from __future__ import annotations

import signal
from typing import Any


def stopped_by_ctrl_c_or_sigterm() -> None:
    """From now on in this process, SIGINT and SIGTERM raise KeyboardInterrupt (main thread)."""
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
