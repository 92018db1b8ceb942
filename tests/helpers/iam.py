"""Read the IAM statements a translated template grants, as IAM would match them."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from tests.helpers.intrinsics import DeployContext

# https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html: "You will also need to
# configure your IAM role to have the proper permission to log to CloudWatch Logs", with
# these actions on Resource "*" (they have no resource-level permissions). Without them
# CreateStateMachine fails with AccessDeniedException: "The state machine IAM Role is not
# authorized to access the Log Destination", and the stack rolls back.
STEP_FUNCTIONS_LOG_DELIVERY_ACTIONS = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)

# AWS managed policies SAM attaches, by name, with the actions the preflight asks about.
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSXrayWriteOnlyAccess.html
AWS_MANAGED = {
    "AWSXrayWriteOnlyAccess": [
        {
            "Effect": "Allow",
            "Action": [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ],
            "Resource": "*",
        }
    ],
    "AWSLambdaBasicExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ],
}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass
class Grant:
    role: str
    statement: dict[str, Any]  # evaluated for the deploy context

    def allows(self, action: str, resource: str) -> bool:
        if self.statement.get("Effect") != "Allow":
            return False
        actions = [str(a).lower() for a in as_list(self.statement.get("Action", []))]
        if not any(fnmatch.fnmatchcase(action.lower(), a) for a in actions):
            return False
        return any(
            fnmatch.fnmatchcase(resource, str(r))
            for r in as_list(self.statement.get("Resource", []))
        )


def role_of(deploy: DeployContext, role_arn: Any) -> str:
    """The logical id of the template's role that `role_arn` (GetAtt X.Arn) names."""
    value = str(deploy.evaluate(role_arn))
    assert value.startswith("<") and value.endswith(".Arn>"), f"not a role of the stack: {value}"
    logical_id = value[1:-5]
    kind = deploy.template["Resources"][logical_id]["Type"]
    assert kind == "AWS::IAM::Role", f"{logical_id} is a {kind}"
    return logical_id


def grants(deploy: DeployContext, role: str) -> list[Grant]:
    """Every statement of the role's inline policies, its managed policies declared in the
    template, and the AWS managed policies SAM attaches."""
    resources = deploy.template["Resources"]
    props = deploy.evaluate(resources[role]["Properties"])
    statements: list[dict[str, Any]] = []
    for policy in props.get("Policies", []):
        statements += as_list(policy["PolicyDocument"]["Statement"])
    for arn in props.get("ManagedPolicyArns", []):
        arn = str(arn)
        if arn.startswith("<") and arn.endswith(">"):  # Ref to a policy of the stack
            managed = resources[arn[1:-1]]
            assert managed["Type"] == "AWS::IAM::ManagedPolicy", arn
            document = deploy.evaluate(managed["Properties"]["PolicyDocument"])
            statements += as_list(document["Statement"])
        else:
            name = arn.rsplit("/", 1)[-1]
            assert name in AWS_MANAGED, f"{role}: unknown managed policy {arn}"
            statements += AWS_MANAGED[name]
    return [Grant(role, s) for s in statements]


def allowed(deploy: DeployContext, role: str, action: str, resource: str) -> bool:
    return any(g.allows(action, resource) for g in grants(deploy, role))


def trust_statements(deploy: DeployContext, role: str) -> list[dict[str, Any]]:
    props = deploy.evaluate(deploy.template["Resources"][role]["Properties"])
    return as_list(props["AssumeRolePolicyDocument"]["Statement"])


def trusted_services(deploy: DeployContext, role: str) -> set[str]:
    return {
        service
        for statement in trust_statements(deploy, role)
        if statement.get("Effect") == "Allow"
        for service in as_list(statement.get("Principal", {}).get("Service", []))
    }
