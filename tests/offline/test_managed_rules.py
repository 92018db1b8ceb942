"""A state machine with a `.sync` child execution step needs its role to create Step
Functions' managed EventBridge rule; without it CreateStateMachine fails as AWS fails it
(mlwf.offline.iam_tasks.managed_rules_checked); moto created it."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from mlwf.offline.runtime import OfflineStack
from tests.helpers.definitions import one_task
from tests.helpers.project import edit_template, project_copy

pytestmark = pytest.mark.offline

POLICIES = "            FunctionName: !Ref FilterInferencesFunction\n      Events:\n"
MANAGED_RULE = (
    "            FunctionName: !Ref FilterInferencesFunction\n"
    "        - Statement:\n"
    "            - Effect: Allow\n"
    "              Action: [events:PutTargets, events:PutRule, events:DescribeRule]\n"
    "              Resource: !Sub arn:${AWS::Partition}:events:${AWS::Region}:"
    "${AWS::AccountId}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule\n"
    "      Events:\n"
)


def nested(child_arn: str) -> str:
    resource = "arn:aws:states:::states:startExecution.sync:2"
    return one_task("Child", resource, Parameters={"StateMachineArn": child_arn})


def test_a_sync_child_step_is_refused_when_its_role_may_not_create_the_managed_rule():
    with OfflineStack.start(say=lambda _: None) as stack:
        # Given the workflow's role, which may not create the managed rule
        role = stack.spec.state_machines["ImageClassificationStateMachine"].role_arn
        definition = nested(stack.state_machine_arn())
        # When a machine with a .sync child step is created under it (moto created it)
        with pytest.raises(ClientError) as created:
            stack.sfn.create_state_machine(name="parent", definition=definition, roleArn=role)
        # or a machine of that role is updated to have one
        plain = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
        arn = stack.sfn.create_state_machine(
            name="plain", definition=json.dumps(plain), roleArn=role
        )["stateMachineArn"]
        with pytest.raises(ClientError) as updated:
            stack.sfn.update_state_machine(stateMachineArn=arn, definition=definition)
    # Then both are refused in AWS's words
    for raised in (created, updated):
        assert raised.value.response["Error"] == {
            "Code": "AccessDeniedException",
            "Message": f"'{role}' is not authorized to create managed-rule.",
        }


def test_a_sync_child_step_is_created_when_its_role_may_create_the_managed_rule(tmp_path):
    # Given the same role given the three events actions on the rule
    template = project_copy(tmp_path)
    edit_template(template, POLICIES, MANAGED_RULE)
    with OfflineStack.start(template, say=lambda _: None) as stack:
        role = stack.spec.state_machines["ImageClassificationStateMachine"].role_arn
        definition = nested(stack.state_machine_arn())
        created = stack.sfn.create_state_machine(name="parent", definition=definition, roleArn=role)
    # Then the machine is created
    assert created["stateMachineArn"].endswith(":stateMachine:parent")
