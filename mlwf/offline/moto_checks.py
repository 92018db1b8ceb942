"""A check run before a moto backend's method, on the arguments it was called with: how the
offline stack makes moto refuse what AWS refuses (mlwf.offline.ssm_parameters, sns_publish,
dynamodb_tables). The method is taken from the class's own dict, so a moto that renames or
moves it fails at start (KeyError) and in the modules' pinning tests, not silently."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was


@contextmanager
def checked_before(
    owner: type, name: str, check: Callable[[dict[str, Any]], None]
) -> Iterator[None]:
    """While the block runs, `owner.name` runs `check` on its bound arguments (`self`
    included) first; the check raises moto's exception to refuse the call."""
    original = owner.__dict__[name]
    signature = inspect.signature(original)

    def checked(self: Any, *args: Any, **kwargs: Any) -> Any:
        check(signature.bind(self, *args, **kwargs).arguments)
        return original(self, *args, **kwargs)

    with patch.object(owner, name, checked):
        yield
