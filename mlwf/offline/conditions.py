"""Which resources CloudFormation does not create: those whose Condition is false, and
those that depend on one it does not create.

"If a resource with a condition isn't created, any resources that depend on that resource
aren't created either, regardless of their own conditions"
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-condition.html).
A resource depends on another through Ref, Fn::GetAtt and Fn::Sub in its properties (as
CloudFormation resolves them: a reference in the branch an Fn::If does not take is none)
and through DependsOn. The offline stack created such a dependent with the missing
resource's name in its properties (a state machine calling a function that was not
there). An output that reads a resource not created fails the template, in
CloudFormation's words: "Template format error: Unresolved resource dependencies [X] in
the Outputs block of the template" (as deploys of conditional resources report it, e.g.
amazon-archives/aws-security-benchmark#17 for the Resources block).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlwf.offline.intrinsics import IntrinsicError


class NotCreated(IntrinsicError):
    """A reference to a resource CloudFormation does not create."""

    def __init__(self, logical_id: str) -> None:
        super().__init__(
            f"Template format error: Unresolved resource dependencies [{logical_id}] in the "
            "Outputs block of the template"
        )
        self.logical_id = logical_id


def not_created(
    resources: dict[str, Any],
    condition: Callable[[str], bool],
    evaluate: Callable[[Any], Any],
    excluded: set[str],
) -> None:
    """Fill `excluded` (which the reader's Ref and GetAtt consult, raising NotCreated) with
    every resource CloudFormation does not create."""
    excluded.update(
        logical_id
        for logical_id, resource in resources.items()
        if resource.get("Condition") is not None and not condition(resource["Condition"])
    )
    changed = True
    while changed:  # until no resource depends on one left out
        changed = False
        for logical_id, resource in resources.items():
            if logical_id in excluded:
                continue
            depends = resource.get("DependsOn") or []
            if isinstance(depends, str):
                depends = [depends]
            try:
                if any(d in excluded for d in depends):
                    raise NotCreated(str(next(d for d in depends if d in excluded)))
                evaluate(resource.get("Properties", {}))
            except NotCreated:
                excluded.add(logical_id)
                changed = True
            except IntrinsicError:
                continue  # the reader reports it, naming the resource
