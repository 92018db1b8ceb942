"""AWS::LanguageExtensions, the transform CloudFormation runs before SAM's when a template
lists it (`Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]`).

Offline, Fn::FindInMap's DefaultValue is honoured where the transform is declared
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-findinmap-enhancements.html);
Fn::Length and Fn::ToJsonString are refused by name (mlwf.offline.intrinsics), and so is
Fn::ForEach, here, before the SAM transform reads the template: SAM itself knows nothing of
it and blamed the user's indentation ("All 'Resources' must be Objects").
"""

from __future__ import annotations

from typing import Any

NAME = "AWS::LanguageExtensions"
FOR_EACH = "Fn::ForEach::"


def declared(template: dict[str, Any]) -> bool:
    transform = template.get("Transform")
    listed = transform if isinstance(transform, list) else [transform]
    return NAME in listed


def for_each_refusal(template: dict[str, Any]) -> str | None:
    """The refusal for a template that uses Fn::ForEach; None for one that does not."""
    loops = sorted(_for_each_keys(template))
    if not loops:
        return None
    return (
        f"the offline mode does not expand {NAME}'s Fn::ForEach ({', '.join(loops)}): "
        "write the resources out to test the template offline"
    )


def _for_each_keys(value: Any) -> set[str]:
    if isinstance(value, list):
        return set().union(*(_for_each_keys(item) for item in value))
    if not isinstance(value, dict):
        return set()
    found = {key for key in value if isinstance(key, str) and key.startswith(FOR_EACH)}
    return found.union(*(_for_each_keys(item) for item in value.values()))
