"""A Choice rule's Timestamp comparisons read the date-times AWS reads.

The States Language's timestamps "MUST conform to the RFC3339 profile of ISO 8601, with the
further restrictions that an uppercase "T" character MUST be used to separate date and
time, and an uppercase "Z" character MUST be present in the absence of a numeric time zone
offset" (https://states-language.net/spec.html#timestamps; state-wait.html and
state-choice.html say the same). RFC 3339 has fractional seconds and numeric offsets, and
AWS's own times have milliseconds: `$$.Execution.StartTime` is "2023-11-21T06:27:31.545Z"
(mlwf.offline.context_objects). moto read only "%Y-%m-%dT%H:%M:%SZ", so every comparison of
such a time, or of one with an offset, was false offline and the Choice took its Default,
while CreateStateMachine (mlwf.offline.definition_fields) took the same literal as a
Timestamp. Both now read them here. Past microseconds, digits are dropped (Python's
datetime), so two times a nanosecond apart compare equal offline.

moto's internal named here is pinned by tests/unit/test_choice_timestamps.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from unittest.mock import patch

_TIMESTAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)")


def choice_timestamp(value: Any) -> datetime | None:
    """The time a Timestamp comparison reads in `value` (aware, so times in different
    offsets compare as instants); None when it is no such date-time."""
    matched = _TIMESTAMP.fullmatch(value) if isinstance(value, str) else None
    if matched is None:
        return None
    seconds, fraction, offset = matched.groups()
    micros = (fraction or "")[:6].ljust(6, "0")
    try:
        return datetime.fromisoformat(f"{seconds}.{micros}{'+00:00' if offset == 'Z' else offset}")
    except ValueError:  # a date or time out of range: 2016-13-05, 25:00:00
        return None


@contextmanager
def choice_timestamps_as_aws() -> Iterator[None]:
    """While the block runs, moto's Timestamp comparisons (and IsTimestamp) read RFC 3339."""
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.is_operator import (  # noqa: E501
        IsTimestamp,
    )

    # KeyError: moto changed; see tests/unit/test_choice_timestamps.py
    IsTimestamp.__dict__["string_to_timestamp"]
    with patch.object(IsTimestamp, "string_to_timestamp", staticmethod(choice_timestamp)):
        yield
