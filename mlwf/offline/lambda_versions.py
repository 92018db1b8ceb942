"""A template's Lambda versions and aliases, as CloudFormation makes them and Invoke reads them.

SAM's `AutoPublishAlias: live` (safe deployments) adds an AWS::Lambda::Version and an
AWS::Lambda::Alias whose FunctionVersion is the version's `Fn::GetAtt ... .Version`; the
offline stack refused such a template at start ("cannot resolve GetAtt
...Version.Version"), and an Invoke with any Qualifier ran $LATEST. What CloudFormation
returns (the types' "Return values"): a version's Ref is its ARN, `function:<name>:<n>`, its
Version attribute the number, 1 for a function's first; an alias's Ref and AliasArn are
`function:<name>:<alias>`. Lambda runs the version or alias a Qualifier names, and answers
ResourceNotFoundException for one the function does not have ("Function not found:
<qualified ARN>", https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html, errors).
Offline every version runs the function's one code: the template's.
"""

from __future__ import annotations

from typing import Any

VERSION, ALIAS = "AWS::Lambda::Version", "AWS::Lambda::Alias"
LATEST = "$LATEST"


def function_name(reader: Any, logical_id: str) -> str:
    """The name of the function a version or alias is of (FunctionName: a name or an ARN)."""
    props = reader.resources[logical_id].get("Properties", {})
    given = str(reader.evaluator.evaluate(props.get("FunctionName", "")))
    return given.split(":function:")[-1].split(":")[0]


def version_number(reader: Any, logical_id: str) -> str:
    """A version's number: its place among the function's versions, in template order
    (numbered once per reader: each Ref and GetAtt of a version asks)."""
    numbers: dict[str, str] | None = getattr(reader, "_version_numbers", None)
    if numbers is None:
        counts: dict[str, int] = {}
        numbers = {}
        for other, resource in reader.resources.items():
            if resource.get("Type") == VERSION:
                name = function_name(reader, other)
                counts[name] = counts.get(name, 0) + 1
                numbers[other] = str(counts[name])
        reader._version_numbers = numbers
    return numbers[logical_id]


def qualified_arn(reader: Any, logical_id: str) -> str:
    """The ARN CloudFormation's Ref gives a version or an alias."""
    name = function_name(reader, logical_id)
    if reader.kind(logical_id) == VERSION:
        qualifier = version_number(reader, logical_id)
    else:
        qualifier = str(reader.resources[logical_id].get("Properties", {}).get("Name"))
    return f"{reader.function_arn(name)}:{qualifier}"


def attribute(reader: Any, logical_id: str, attribute: str) -> str | None:
    """A version's Version or FunctionArn, an alias's AliasArn; None for anything else."""
    kind = reader.kind(logical_id)
    if kind == VERSION and attribute == "Version":
        return version_number(reader, logical_id)
    if (kind, attribute) in ((VERSION, "FunctionArn"), (ALIAS, "AliasArn")):
        return qualified_arn(reader, logical_id)
    return None


def qualifiers(reader: Any, excluded: set[str]) -> dict[str, dict[str, str]]:
    """For each function with versions or aliases: qualifier -> the version it runs."""
    found: dict[str, dict[str, str]] = {}
    for logical_id, resource in reader.resources.items():
        if logical_id in excluded or resource.get("Type") not in (VERSION, ALIAS):
            continue
        runs = found.setdefault(function_name(reader, logical_id), {LATEST: LATEST})
        if resource["Type"] == VERSION:
            number = version_number(reader, logical_id)
            runs[number] = number
        else:
            props = resource.get("Properties", {})
            runs[str(props.get("Name"))] = str(
                reader.evaluator.evaluate(props.get("FunctionVersion"))
            )
    return found
