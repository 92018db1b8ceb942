"""Which resources of a template the offline stack makes, and what it does with the others.

A resource of a type the offline stack does not make used to be skipped without a word: an
SNS topic, an SSM parameter or an alarm added to the template was never created (a `Ref` to
the topic gave a made-up name where CloudFormation gives its ARN), and an SQS or S3 trigger,
or a schedule, was never wired, so nothing fired. Now:
- a trigger (an event source mapping, a scheduled rule, a bucket notification to a function,
  queue or topic, an EventInvokeConfig, a function URL) is refused at start, by name: the
  app would not run as deployed;
- another resource the stack does not make (an alarm, a topic, a dashboard) is left out and
  named in a line at start (`skipped`), so that a template with monitoring still runs
  offline; a `Ref` or `GetAtt` to one is refused, naming it, as its value is not known;
- a type CloudFormation does not know fails the deploy in its own words: "Template format
  error: Unrecognized resource types: [AWS::CDK::Metadata]" (a deploy log quoted in
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
# Triggers and invocation settings: the app would not run as deployed without them
TRIGGERS = {
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


def skipped(resources: dict[str, Any]) -> dict[str, str]:
    """The resources left out offline (neither made nor triggers), with their types."""
    kinds = {logical_id: str(r.get("Type")) for logical_id, r in resources.items()}
    return {
        logical_id: kind
        for logical_id, kind in kinds.items()
        if kind not in MADE and kind not in POLICIES and kind not in TRIGGERS
    }


def trigger_refusal(logical_id: str, resource: dict[str, Any], props: dict[str, Any]) -> str | None:
    """Why this resource would run the app unlike AWS offline; None when it would not."""
    kind = str(resource.get("Type"))
    if kind in TRIGGERS:
        return f"{logical_id} ({kind}: {TRIGGERS[kind]})"
    if kind == "AWS::Events::Rule" and "ScheduleExpression" in props:
        return f"{logical_id} (a scheduled rule: nothing is run on a schedule offline)"
    if kind == "AWS::S3::Bucket":
        notifications = props.get("NotificationConfiguration", {})
        given = [key for key in _NOTIFICATIONS if notifications.get(key)]
        if given:
            return f"{logical_id} ({' and '.join(given)}: only EventBridge gets S3 events offline)"
    return None


def refusal(template_name: str, reasons: list[str]) -> str:
    return (
        f"{template_name}: the offline mode cannot run these as AWS would: "
        f"{'; '.join(reasons)}. docs/offline.md lists what it models"
    )


def reference_refusal(logical_id: str, kind: str) -> str:
    return (
        f"{logical_id} ({kind}) is referenced, but the offline mode does not make {kind} "
        "resources, so the value AWS would give for it is not known (docs/offline.md lists "
        "what it makes)"
    )


def skipped_note(left_out: dict[str, str]) -> str:
    named = ", ".join(f"{logical_id} ({kind})" for logical_id, kind in left_out.items())
    return f"not made offline (AWS would make them; nothing here refers to them): {named}"


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
