"""PutParameter refuses what SSM refuses (mlwf.offline.ssm_parameters), and the moto method
the check wraps still takes what it reads."""

from __future__ import annotations

import inspect

from mlwf.offline.ssm_parameters import STANDARD_MAX, TOO_LARGE, refusal


def test_a_value_its_allowed_pattern_does_not_match_whole_is_refused():
    # The user guide's example: \d{1,4} refuses 10000 (a search would find 1000 in it)
    assert refusal("/p", "10000", r"\d{1,4}", None) == (
        "ParameterPatternMismatchException",
        r"Parameter value, cannot be validated against allowedPattern: \d{1,4}",
    )
    assert refusal("/p", "1000", r"\d{1,4}", None) is None


def test_a_name_with_a_slash_must_start_with_one():
    assert refusal("app/threshold", "1", None, None) == (
        "ValidationException",
        "Parameter name must be a fully qualified name",
    )
    assert refusal("/app/threshold", "1", None, None) is None
    assert refusal("threshold", "1", None, None) is None


def test_a_standard_value_holds_4096_characters_an_advanced_one_more():
    assert refusal("/p", "x" * STANDARD_MAX, None, None) is None
    assert refusal("/p", "x" * (STANDARD_MAX + 1), None, "Standard") == (
        "ValidationException",
        TOO_LARGE,
    )
    assert refusal("/p", "x" * (STANDARD_MAX + 1), None, "Advanced") is None


def test_the_pinned_moto_put_parameter_takes_what_the_check_reads():
    from moto.ssm.models import SimpleSystemManagerBackend

    names = inspect.signature(SimpleSystemManagerBackend.put_parameter).parameters
    assert {"name", "value", "allowed_pattern", "tier"} <= set(names)
