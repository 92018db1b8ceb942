"""Which resources of a template the offline stack makes, and what it says of the others.

A resource of a type the offline stack does not make used to be skipped without a word: an
SNS topic, an SSM parameter or an alarm added to the template was never created, and an
SQS or S3 trigger, or a schedule, was never wired, so nothing fired, and nothing said so.
Now each resource (or part of one) the stack leaves out is named in a line at start, with
what that means where the type's name does not say it: the app still runs offline (a
template with an alarm, an API or a queue trigger can be tried), and the user knows what
it does not do. A `Ref` to a left-out resource gives its name, as before, whatever
CloudFormation would give (a topic's ARN, for one): a call to it fails offline.

A type CloudFormation does not know fails the deploy in its own words: "Template format
error: Unrecognized resource types: [AWS::CDK::Metadata]" (a deploy log quoted in
aws/aws-cdk#3648); the known types are those of the resource schemas cfn-lint ships, read
only for a template with a type the stack does not make (importing cfn-lint takes ~1 s).
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
        "AWS::SNS::Topic",
        "AWS::DynamoDB::Table",
        "AWS::SSM::Parameter",
    }
)
# Resource-based policies: accepted and not enforced, as docs/offline.md says of them
POLICIES = frozenset(
    {
        "AWS::S3::BucketPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::SNS::TopicPolicy",
        "AWS::Lambda::Permission",
    }
)
# What leaving out some types means, where the type's name does not say it
WHY = {
    "AWS::Lambda::EventSourceMapping": "no queue or stream is polled",
    "AWS::Lambda::EventInvokeConfig": "asynchronous retries and destinations keep their defaults",
    "AWS::Lambda::Url": "no function URL is served",
    "AWS::ApiGateway::RestApi": "no API is served",
    "AWS::ApiGatewayV2::Api": "no API is served",
    "AWS::Scheduler::Schedule": "nothing is run on a schedule",
    "AWS::SNS::Subscription": "no message is delivered",
    "AWS::Logs::SubscriptionFilter": "no log event is delivered",
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
    """The resources of types the stack does not make: logical id -> what is left out."""
    found = {}
    for logical_id, resource in resources.items():
        kind = str(resource.get("Type"))
        if kind not in MADE and kind not in POLICIES:
            found[logical_id] = f"{logical_id} ({kind}{': ' + WHY[kind] if kind in WHY else ''})"
    return found


def left_out_part(logical_id: str, resource: dict[str, Any], props: dict[str, Any]) -> str | None:
    """What of a resource of a type the stack makes it leaves out; None for nothing."""
    kind = str(resource.get("Type"))
    if kind == "AWS::Events::Rule" and "ScheduleExpression" in props:
        return f"{logical_id} (a scheduled rule: nothing is run on a schedule)"
    if kind == "AWS::S3::Bucket":
        notifications = props.get("NotificationConfiguration")
        notifications = notifications if isinstance(notifications, dict) else {}
        given = [key for key in _NOTIFICATIONS if notifications.get(key)]
        if given:
            return f"{logical_id}'s {' and '.join(given)} (only EventBridge gets its events)"
    return None


def skipped_note(left_out: list[str]) -> str:
    return (
        "not made offline (AWS would make them; offline, nothing runs them and a call to one "
        f"fails): {', '.join(left_out)}"
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
