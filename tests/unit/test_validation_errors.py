"""AWS's words for a refused parameter (mlwf/offline/validation_errors.py), shared by the
offline APIs that check one."""

from __future__ import annotations

from mlwf.offline.validation_errors import HIDDEN, bound_constraint, validation_errors


def test_a_number_outside_its_range_names_the_bound_it_passed():
    assert bound_constraint("value", 100, 0, 100) is None
    too_big = bound_constraint("value", 101, 0, 100)
    assert validation_errors([("maxResults", too_big, 101)]) == (
        "1 validation error detected: Value '101' at 'maxResults' failed to satisfy "
        "constraint: Member must have value less than or equal to 100"
    )
    assert bound_constraint("value", -1, 0, 100) == (
        "Member must have value greater than or equal to 0"
    )


def test_several_problems_are_counted_and_a_sensitive_value_left_out():
    assert validation_errors(
        [("input", "Member must not be null", HIDDEN), ("type", "Member must be X", "Y")]
    ) == (
        "2 validation errors detected: Value at 'input' failed to satisfy constraint: "
        "Member must not be null; Value 'Y' at 'type' failed to satisfy constraint: "
        "Member must be X"
    )
