"""Which resources of a template the offline stack makes, and the refusal for the others.

A resource of a type the offline stack does not make used to be skipped without a word: an
SNS topic, an SSM parameter or an alarm added to the template was never created (its `Ref`
gave a made-up name where CloudFormation gives the topic's ARN), an SQS or S3 trigger, or a
schedule, was never wired, and nothing fired. The deploy looked fine and the app then
behaved unlike the deployed one. Such a template is now refused at start, naming each
resource and what the offline mode cannot do with it, as other unmodelled features are.

A type CloudFormation does not know at all fails the deploy in its own words: "Template
format error: Unrecognized resource types: [AWS::CDK::Metadata]" (a deploy log quoted in
aws/aws-cdk#3648); the known types are those of the resource schemas cfn-lint ships.
"""

from __future__ import annotations

from typing import Any

# Made by the offline stack (mlwf.offline.template reads them into the TemplateSpec)
MADE = frozenset(
    {
        "AWS::S3::Bucket",
        "AWS::Logs::LogGroup",
        "AWS::SQS::Queue",
        "AWS::Events::Rule",
        "AWS::IAM::Role",
        "AWS::IAM::ManagedPolicy",
        "AWS::Lambda::Function",
        "AWS::Lambda::Version",
        "AWS::Lambda::Alias",
        "AWS::StepFunctions::StateMachine",
    }
)
# Resource-based policies: accepted and not enforced, as docs/offline.md says of them
POLICIES = frozenset({"AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy", "AWS::Lambda::Permission"})
# Why some types a user adds are not made, where the type's name does not say enough
WHY = {
    "AWS::Lambda::EventSourceMapping": "no queue or stream is polled offline",
    "AWS::Lambda::EventInvokeConfig": "asynchronous retries and destinations keep their defaults",
    "AWS::Lambda::Url": "no function URL is served offline",
}
# Bucket notifications other than EventBridge's (S3 events on a SAM function make these)
_NOTIFICATIONS = ("LambdaConfigurations", "QueueConfigurations", "TopicConfigurations")


def unrecognized(resources: dict[str, Any]) -> str | None:
    """CloudFormation's template format error for the types it does not know; None if none."""
    kinds = sorted({str(r.get("Type")) for r in resources.values() if not _known(r.get("Type"))})
    if not kinds:
        return None
    return f"Template format error: Unrecognized resource types: [{', '.join(kinds)}]"


def not_made(logical_id: str, resource: dict[str, Any], props: dict[str, Any]) -> str | None:
    """Why the offline stack cannot make this resource as AWS would; None when it can."""
    kind = str(resource.get("Type"))
    if kind == "AWS::Events::Rule" and "ScheduleExpression" in props:
        return f"{logical_id} (a scheduled rule: nothing is run on a schedule offline)"
    if kind == "AWS::S3::Bucket":
        notifications = props.get("NotificationConfiguration", {})
        given = [key for key in _NOTIFICATIONS if notifications.get(key)]
        if given:
            return f"{logical_id} ({' and '.join(given)}: only EventBridge gets S3 events offline)"
    if kind in MADE or kind in POLICIES:
        return None
    why = WHY.get(kind)
    return f"{logical_id} ({kind}{': ' + why if why else ''})"


def refusal(template_name: str, reasons: list[str]) -> str:
    return (
        f"{template_name}: the offline mode does not make these resources as AWS would: "
        f"{'; '.join(reasons)}. docs/offline.md lists what it models"
    )


def _known(kind: Any) -> bool:
    if not isinstance(kind, str):
        return False
    if kind in MADE or kind in POLICIES or kind.startswith("Custom::"):
        return True  # a custom resource's type is any name after the prefix
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER  # type: ignore[import-untyped]

    try:
        PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", kind)
    except Exception:  # cfn-lint's ResourceNotFoundError: no such type
        return False
    return True
