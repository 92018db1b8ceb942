"""A template's parameters as CloudFormation passes them to the stack: the overrides, else
the defaults, each a string, each checked as CloudFormation checks it before it creates
anything (AllowedValues, AllowedPattern, a Number's MinValue and MaxValue)."""

from __future__ import annotations

import re
from pathlib import Path

from mlwf.offline.intrinsics import as_property_string
from training_job.errors import MlwfError


def stack_parameters(declared: dict, overrides: dict[str, str], path: Path) -> dict[str, str]:
    unknown = set(overrides) - set(declared)
    if unknown:
        raise MlwfError(f"{path.name} has no parameter {', '.join(sorted(unknown))}")
    values = {}
    for name, declaration in declared.items():
        value = overrides.get(name, declaration.get("Default"))
        if value is None:
            raise MlwfError(f"parameter {name} has no default: pass {name}=VALUE")
        value = as_property_string(value)  # as CloudFormation passes it: a string
        _check_parameter(name, value, declaration)
        values[name] = value
    return values


def _check_parameter(name: str, value: str, declaration: dict) -> None:
    """The checks CloudFormation makes before it creates anything."""
    allowed = declaration.get("AllowedValues")
    if allowed is not None and value not in [str(a) for a in allowed]:
        raise MlwfError(f"parameter {name}={value}: allowed values are {allowed}")
    pattern = declaration.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise MlwfError(f"parameter {name}={value} does not match {pattern}")
    if declaration.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            raise MlwfError(f"parameter {name}={value} is not a number") from None
        low, high = declaration.get("MinValue"), declaration.get("MaxValue")
        if (low is not None and number < float(low)) or (high is not None and number > float(high)):
            raise MlwfError(f"parameter {name}={value} must be within [{low}, {high}]")
