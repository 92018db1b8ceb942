"""The stack's IAM roles in moto's IAM, as CloudFormation creates them.

`aws iam get-role`, `get-role-policy` and `list-attached-role-policies` answer for the
roles the SAM transform generates: their trust policy, their inline policies and the
managed policies they attach (the template's own and AWS's). moto's IAM held none of them:
the roles lived only in mlwf.offline.iam, which decides each call with the template's
documents. Those decisions stay there: a policy changed through the IAM API is shown but
not enforced (edit template.yaml and restart the stack).

moto loads no AWS managed policy unless told to load all of them (~1,000, at every start);
the ones a role attaches are added from moto's own copy of AWS's documents, as
mlwf.offline.iam evaluates them. moto's internals named here are pinned by
tests/unit/test_iam_roles.py.
"""

from __future__ import annotations

import json
from typing import Any

from mlwf.offline.iam import AWS_MANAGED_PREFIX, aws_managed_policy
from mlwf.offline.template_spec import ACCOUNT_ID, TemplateSpec


def create_roles(iam: Any, spec: TemplateSpec) -> None:
    """The template's managed policies and roles, created through `iam` (a client of the
    offline stack's moto)."""
    for arn, document in spec.managed_policies.items():
        iam.create_policy(PolicyName=arn.rsplit("/", 1)[-1], PolicyDocument=json.dumps(document))
    for role in spec.roles.values():
        iam.create_role(RoleName=role.name, AssumeRolePolicyDocument=json.dumps(role.trust_policy))
        for name, document in role.inline_policies.items():
            _put_role_policy(role.name, name, document)
        for arn in role.managed_policy_arns:
            if arn.startswith(AWS_MANAGED_PREFIX):
                _load_aws_managed_policy(arn, spec.region)
            iam.attach_role_policy(RoleName=role.name, PolicyArn=arn)


def _put_role_policy(role: str, name: str, document: dict[str, Any]) -> None:
    """An inline policy as CloudFormation puts it. Past moto's PutRolePolicy, whose
    validator wants a Version: the policies SAM writes for a function a state machine
    invokes have none, which AWS reads as 2008-10-17
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html)."""
    from moto.iam.models import iam_backends

    iam_backends[ACCOUNT_ID]["global"].get_role(role).put_policy(name, json.dumps(document))


def _load_aws_managed_policy(arn: str, region: str) -> None:
    """One AWS managed policy in moto's IAM, from moto's own record of AWS's (a name moto
    does not know is left to AttachRolePolicy's NoSuchEntity)."""
    from moto.iam.models import AWSManagedPolicy, iam_backends

    backend = iam_backends[ACCOUNT_ID]["global"]
    if arn in backend.managed_policies:
        return
    data = aws_managed_policy(arn)
    if data is None:
        return
    policy = AWSManagedPolicy.from_data(arn.rsplit("/", 1)[-1], ACCOUNT_ID, region, data)
    backend.aws_managed_policies.append(policy)
    backend.managed_policies[policy.arn] = policy
