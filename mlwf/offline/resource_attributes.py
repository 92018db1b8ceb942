"""Which `Fn::GetAtt` attributes a resource type has, as CloudFormation knows them.

An attribute the type does not have fails the deploy: "Template error: resource X does not
support attribute type Y in Fn::GetAtt" (CloudFormation's words, as moto's CloudFormation
and deploy logs quote them). The offline stack said it could not resolve such an attribute,
as if it were its own limit, and resolved `Name` for any resource, a function's too, which
has none. The types' attributes are those of the CloudFormation resource schemas that
cfn-lint ships (its `get_atts`), read only for an attribute outside the common ones below,
as reading them takes ~0.7 s.
"""

from __future__ import annotations

import functools

# The attributes the offline stack resolves, by type (each type's "Return values" page)
COMMON = {
    "AWS::Lambda::Function": {"Arn"},
    "AWS::StepFunctions::StateMachine": {"Arn", "Name", "StateMachineRevisionId"},
    "AWS::IAM::Role": {"Arn", "RoleId"},
    "AWS::SQS::Queue": {"Arn", "QueueName", "QueueUrl"},
    "AWS::S3::Bucket": {"Arn", "DomainName", "RegionalDomainName"},
    "AWS::Logs::LogGroup": {"Arn"},
    "AWS::Events::Rule": {"Arn"},
}


def unsupported(logical_id: str, kind: str, attribute: str) -> str | None:
    """CloudFormation's error for an attribute `kind` does not have; None when it has it
    (or when its type is one cfn-lint does not know)."""
    if attribute in COMMON.get(kind, ()) or _free_form(kind, attribute):
        return None
    known = _attributes(kind)
    if known is None or attribute in known:
        return None
    return (
        f"Template error: resource {logical_id} does not support attribute type {attribute} "
        "in Fn::GetAtt"
    )


def _free_form(kind: str, attribute: str) -> bool:
    """Attributes no schema lists: a custom resource's are what its provider returns, a
    nested stack's and a SAM application's `Outputs.<name>` its outputs."""
    if kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource":
        return True
    stacks = ("AWS::CloudFormation::Stack", "AWS::Serverless::Application")
    return kind in stacks and attribute.startswith("Outputs.")


@functools.cache
def _attributes(kind: str) -> frozenset[str] | None:
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER  # type: ignore[import-untyped]

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", kind)
    except Exception:  # a type cfn-lint does not know: left to the rest of the stack
        return None
    return frozenset(schema.get_atts)
