"""A template's parameters as CloudFormation passes them to the stack: the overrides, else
the defaults, each a string, each checked as CloudFormation checks it before it creates
anything: its name and type, AllowedValues, AllowedPattern, a String's MinLength and
MaxLength, a Number's (or each of a List<Number>'s) MinValue and MaxValue
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html).
A parameter whose type reads its value from Parameter Store fails as the deploy into a new
account fails: the offline stack starts in one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mlwf.offline.dynamic_references import PUBLIC_PREFIX
from mlwf.offline.intrinsics import as_property_string
from training_job.errors import MlwfError

# "Each parameter must be assigned a parameter type that is supported by AWS CloudFormation"
PLAIN_TYPES = ("String", "Number", "List<Number>", "CommaDelimitedList")
SSM_VALUE = "AWS::SSM::Parameter::Value<"
# AWS-specific types (AWS::EC2::KeyPair::KeyName, List<AWS::EC2::Subnet::Id>, ...) and
# AWS::SSM::Parameter::Name: taken; their values name resources offline cannot check
AWS_SPECIFIC = re.compile(r"(List<)?AWS::[A-Za-z0-9]+::[A-Za-z0-9:]+(<[A-Za-z0-9:<>]+>)?>?")


def stack_parameters(declared: dict, overrides: dict[str, str], path: Path) -> dict[str, str]:
    unknown = set(overrides) - set(declared)
    if unknown:
        raise MlwfError(f"{path.name} has no parameter {', '.join(sorted(unknown))}")
    values = {}
    for name, declaration in declared.items():
        _check_declaration(name, declaration)
        value = overrides.get(name, declaration.get("Default"))
        if value is None:
            raise MlwfError(f"parameter {name} has no default: pass {name}=VALUE")
        value = as_property_string(value)  # as CloudFormation passes it: a string
        _check_parameter(name, value, declaration)
        values[name] = value
    return values


def _check_declaration(name: str, declaration: Any) -> None:
    if not isinstance(declaration, dict):
        raise MlwfError(f"parameter {name}: its declaration must be an object with a Type")
    if not name.isascii() or not name.isalnum():  # "The logical name must be alphanumeric"
        raise MlwfError(f"parameter {name}: its name must be alphanumeric (A-Z, a-z, 0-9)")
    kind = str(declaration.get("Type"))
    if kind not in PLAIN_TYPES and not AWS_SPECIFIC.fullmatch(kind):
        raise MlwfError(
            f"parameter {name}: type {kind} is none CloudFormation supports "
            f"({', '.join(PLAIN_TYPES)}, or an AWS-specific or SSM parameter type)"
        )


def _check_parameter(name: str, value: str, declaration: dict) -> None:
    """The checks CloudFormation makes before it creates anything."""
    kind = str(declaration.get("Type"))
    if kind.startswith(SSM_VALUE) and value.startswith(PUBLIC_PREFIX):
        # AWS's public parameters exist in every account (parameter-store-public-parameters)
        raise MlwfError(
            f"parameter {name} ({kind}): {value} is one of AWS's public parameters, which exist "
            "in every account but not in the offline stack's: it cannot resolve it "
            "(docs/offline.md, What it does not model)"
        )
    if kind.startswith(SSM_VALUE):
        # "Unable to fetch parameters [/cdk-bootstrap/hnb659fds/version] from parameter store
        # for this account." (CloudFormation's ValidationError, quoted in deploy logs)
        raise MlwfError(
            f"parameter {name} ({kind}): CloudFormation would fail the deploy: Unable to fetch "
            f"parameters [{value}] from parameter store for this account (none exists in the "
            "new, empty account the offline stack starts in)"
        )
    allowed = declaration.get("AllowedValues")
    # "When applied to a parameter of type CommaDelimitedList, each value in the list must be
    # one of the specified allowed values."
    items = [item.strip() for item in value.split(",")] if kind == "CommaDelimitedList" else [value]
    if allowed is not None and any(item not in [str(a) for a in allowed] for item in items):
        raise MlwfError(f"parameter {name}={value}: allowed values are {allowed}")
    pattern = declaration.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise MlwfError(f"parameter {name}={value} does not match {pattern}")
    if kind == "String":
        shortest = _bound(name, declaration, "MinLength", int)
        longest = _bound(name, declaration, "MaxLength", int)
        if (shortest is not None and len(value) < shortest) or (
            longest is not None and len(value) > longest
        ):
            raise MlwfError(
                f"parameter {name}={value}: its length must be within [{shortest}, {longest}]"
            )
    if kind in ("Number", "List<Number>"):
        items = [value] if kind == "Number" else [item.strip() for item in value.split(",")]
        for item in items:
            _check_number(name, value, item, declaration)


def _check_number(name: str, value: str, item: str, declaration: dict) -> None:
    try:
        number = float(item)
    except ValueError:
        raise MlwfError(f"parameter {name}={value}: {item} is not a number") from None
    low = _bound(name, declaration, "MinValue", float)
    high = _bound(name, declaration, "MaxValue", float)
    if (low is not None and number < low) or (high is not None and number > high):
        shown = [declaration.get("MinValue"), declaration.get("MaxValue")]
        raise MlwfError(f"parameter {name}={value} must be within [{shown[0]}, {shown[1]}]")


def _bound(name: str, declaration: dict, key: str, kind: type) -> Any:
    """A declaration's number (MinLength, MaxValue, ...); None when it has none."""
    given = declaration.get(key)
    if given is None:
        return None
    try:
        return kind(given)
    except (TypeError, ValueError):
        raise MlwfError(f"parameter {name}: {key} {given!r} is not a number") from None
