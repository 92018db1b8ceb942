"""When a Distributed Map's failed items pass its tolerated threshold
(mlwf.offline.map_run_failures; maprun-fail-threshold.html)."""

from __future__ import annotations

import pytest

from mlwf.offline.map_run_failures import exceeded


@pytest.mark.parametrize(
    ("failed", "total", "count", "percentage", "state", "fails"),
    [
        (0, 4, 0, 0.0, {}, False),
        (1, 4, 0, 0.0, {}, True),  # no threshold given: any failure fails the Map Run
        (1, 4, 1, 0.0, {"ToleratedFailureCount": 1}, False),
        (2, 4, 1, 0.0, {"ToleratedFailureCount": 1}, True),
        (2, 4, 0, 50.0, {"ToleratedFailurePercentage": 50}, False),  # 50% is not over 50%
        (3, 4, 0, 50.0, {"ToleratedFailurePercentage": 50}, True),
        (4, 4, 0, 100.0, {"ToleratedFailurePercentage": 100}, False),  # the batch machine's
        # both given: whichever is passed first
        (2, 10, 1, 50.0, {"ToleratedFailureCount": 1, "ToleratedFailurePercentage": 50}, True),
        (1, 2, 5, 40.0, {"ToleratedFailureCount": 5, "ToleratedFailurePercentage": 40}, True),
        # a ...Path counts as given; its value was evaluated into the count
        (1, 4, 1, 0.0, {"ToleratedFailureCountPath": "$.n"}, False),
        (1, 4, 0, 0.0, {"ToleratedFailureCountPath": "$.n"}, True),
    ],
)
def test_the_threshold_is_the_one_given_and_passing_it_fails(
    failed, total, count, percentage, state, fails
):
    assert exceeded(failed, total, count, percentage, state) is fails
