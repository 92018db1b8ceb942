"""One BLAS/OpenMP thread while the local model computes."""

from __future__ import annotations

import threading
from typing import Any


class OneThread:
    """Run the numeric work with one BLAS/OpenMP thread, process-wide, while any is active.

    OpenBLAS and OpenMP threads spin while they wait: measured on 2 cores with one other busy
    process (with the earlier, bigger defaults), training took 50-70 s instead of 15 s and
    an invocation 40 ms instead of 7 ms.
    One thread costs ~15% when the machine is otherwise idle. The limit is global, so nested
    and concurrent users share one: the first in sets it, the last out restores it. Setting
    and restoring it costs ~2.5 ms, a third of an invocation: a process that serves many
    invocations (the model server) holds one for its whole life, so each call only counts.
    """

    _lock = threading.Lock()
    _active = 0
    _controller: Any = None
    _limiter: Any = None

    def __enter__(self) -> None:
        with self._lock:
            cls = type(self)
            if cls._active == 0:
                if cls._controller is None:
                    # The controller limits only the libraries loaded when it is made: load
                    # scipy's BLAS and scikit-learn's OpenMP (importing sklearn loads it)
                    # first. Made before sklearn, it left k-means on every core, spinning.
                    # (none ships type information)
                    import scipy.linalg  # type: ignore[import-untyped]  # noqa: F401
                    import sklearn  # noqa: F401
                    from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

                    cls._controller = ThreadpoolController()
                cls._limiter = cls._controller.limit(limits=1)
            cls._active += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            cls = type(self)
            cls._active -= 1
            if cls._active == 0:
                cls._limiter.restore_original_limits()
                cls._limiter = None
