"""SSM's PutParameter refusing what AWS refuses and moto makes (found by a user-edit walk
on a template's AWS::SSM::Parameter, which CloudFormation makes with PutParameter):

- a value its own AllowedPattern does not match: "ParameterPatternMismatchException:
  Parameter value, cannot be validated against allowedPattern: \\d{1,4}" (the pattern must
  match the whole value: the user guide's example refuses 10000 for \\d{1,4},
  https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-cli.html);
- a name with a slash that does not start with one (`app/threshold`): "ValidationException:
  Parameter name must be a fully qualified name" (as deploy logs and the CLI quote it);
- a Standard-tier value over 4096 characters (the quota,
  https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html),
  in the words recorded deploys quote.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mlwf.offline.moto_checks import checked_before

STANDARD_MAX = 4096
TOO_LARGE = (
    f"Standard tier parameters support a maximum parameter value of {STANDARD_MAX} "
    "characters. To create a larger parameter value, upgrade the parameter to use the "
    "advanced-parameter tier. For more information, see "
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html"
)


def refusal(
    name: str, value: str, allowed_pattern: str | None, tier: str | None
) -> tuple[str, str] | None:
    """(error code, message) for a PutParameter SSM refuses; None when it does not."""
    if "/" in name and not name.startswith(("/", "arn:")):
        return "ValidationException", "Parameter name must be a fully qualified name"
    if allowed_pattern:
        try:
            matched = re.fullmatch(allowed_pattern, value) is not None
        except re.error:  # a Java construct Python's re lacks: not checked offline
            matched = True
        if not matched:
            return (
                "ParameterPatternMismatchException",
                f"Parameter value, cannot be validated against allowedPattern: {allowed_pattern}",
            )
    if (tier or "Standard") == "Standard" and len(value) > STANDARD_MAX:
        return "ValidationException", TOO_LARGE
    return None


@contextmanager
def parameters_checked() -> Iterator[None]:
    from moto.ssm.exceptions import SSMException
    from moto.ssm.models import SimpleSystemManagerBackend

    def check(given: dict[str, Any]) -> None:
        value, name = given.get("value"), str(given.get("name"))
        if value and (
            refused := refusal(name, str(value), given.get("allowed_pattern"), given.get("tier"))
        ):
            raise SSMException(*refused)

    with checked_before(SimpleSystemManagerBackend, "put_parameter", check):
        yield
