"""The stack's roles in moto's IAM (mlwf.offline.iam_roles): what `aws iam get-role` and
its siblings answer offline. Each case also pins the moto behaviour the module works
around."""

from __future__ import annotations

import json
from types import SimpleNamespace

import boto3
import pytest
from botocore.exceptions import ClientError

from mlwf.offline.iam_roles import create_roles
from mlwf.offline.template_spec import RoleSpec

BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
# as SAM writes a LambdaInvokePolicy: no Version
INVOKE = {"Statement": [{"Effect": "Allow", "Action": ["lambda:InvokeFunction"], "Resource": "*"}]}
LOGS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}],
}
OWN = "arn:aws:iam::123456789012:policy/stack-LogDelivery"


def spec() -> SimpleNamespace:
    role = RoleSpec(
        logical_id="FnRole",
        name="stack-FnRole",
        arn="arn:aws:iam::123456789012:role/stack-FnRole",
        trust_policy=TRUST,
        inline_policies={"Invoke": INVOKE},
        managed_policy_arns=[BASIC, OWN],
    )
    return SimpleNamespace(roles={"FnRole": role}, managed_policies={OWN: LOGS}, region="us-east-1")


def test_the_pinned_moto_refuses_what_create_roles_goes_around(aws):
    iam = boto3.client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    # a policy without a Version, which AWS reads as 2008-10-17
    with pytest.raises(ClientError, match="MalformedPolicyDocument"):
        iam.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=json.dumps(INVOKE))
    # an AWS managed policy it has not loaded
    with pytest.raises(ClientError, match="NoSuchEntity"):
        iam.attach_role_policy(RoleName="r", PolicyArn=BASIC)


def test_the_roles_answer_as_cloudformation_created_them(aws):
    iam = boto3.client("iam")
    create_roles(iam, spec())
    role = iam.get_role(RoleName="stack-FnRole")["Role"]
    assert role["Arn"] == "arn:aws:iam::123456789012:role/stack-FnRole"
    assert role["AssumeRolePolicyDocument"] == TRUST
    assert (
        iam.get_role_policy(RoleName="stack-FnRole", PolicyName="Invoke")["PolicyDocument"]
        == INVOKE
    )
    attached = iam.list_attached_role_policies(RoleName="stack-FnRole")["AttachedPolicies"]
    assert sorted(p["PolicyArn"] for p in attached) == sorted([BASIC, OWN])
    # AWS's document, as moto records it
    version = iam.get_policy(PolicyArn=BASIC)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=BASIC, VersionId=version)["PolicyVersion"]
    assert "logs:CreateLogGroup" in json.dumps(document["Document"])
