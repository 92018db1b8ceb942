"""StartSyncExecution's billingDetails offline (mlwf.offline.express.billing_details): the
duration rounded up to the next 100 ms, at least 100, as Express Workflows are billed; the
memory its first 64-MB chunk, as AWS answered in every recorded run."""

from __future__ import annotations

import pytest

from mlwf.offline.express import billing_details


@pytest.mark.parametrize(
    ("seconds", "billed_ms"),
    [
        (0.0, 100),  # nothing is billed less than its first 100 ms
        (0.0004, 100),
        (0.1, 100),  # exactly 100 ms (0.1 * 1000 is 100.00000000000001 in floating point)
        (0.1004, 200),
        (0.25, 300),
        (7.5, 7500),
        (7.5001, 7600),
    ],
)
def test_the_duration_is_rounded_up_to_the_next_100_ms(seconds, billed_ms):
    assert billing_details(seconds) == {
        "billedDurationInMilliseconds": billed_ms,
        "billedMemoryUsedInMB": 64,
    }
