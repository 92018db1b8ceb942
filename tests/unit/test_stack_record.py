"""The offline stack's CloudFormation record (mlwf/offline/stack_record.py): its resources
listed with their types and physical IDs, as `sam logs -n <LogicalId>` and `mlwf console`
look them up. The record writes into moto's ResourceMap; these tests fail when moto changes
how it keeps or answers it."""

from __future__ import annotations

import boto3
import pytest

from mlwf.offline.stack_record import record_stack
from mlwf.offline.template import load_template
from mlwf.offline.template_spec import StackResource
from tests.helpers.paths import PROJECT_ROOT, REGION

STACK = "recorded"
FUNCTION = StackResource("ClassifyImageFunction", "AWS::Lambda::Function", "recorded-Classify")
MACHINE = StackResource(
    "ImageClassificationStateMachine",
    "AWS::StepFunctions::StateMachine",
    f"arn:aws:states:{REGION}:123456789012:stateMachine:recorded-Machine",
)


@pytest.fixture
def recorded(aws: None) -> None:
    record_stack(
        boto3.client("cloudformation", region_name=REGION),
        stack_name=STACK,
        parameters={"Threshold": "0.9"},
        outputs={"Bucket": "the-bucket"},
        resources=[FUNCTION, MACHINE],
    )


def test_list_stack_resources_answers_each_resource_with_its_physical_id(recorded):
    cloudformation = boto3.client("cloudformation", region_name=REGION)

    listed = cloudformation.list_stack_resources(StackName=STACK)["StackResourceSummaries"]

    assert {
        (r["LogicalResourceId"], r["ResourceType"], r["PhysicalResourceId"]) for r in listed
    } == {
        (FUNCTION.logical_id, FUNCTION.resource_type, FUNCTION.physical_id),
        (MACHINE.logical_id, MACHINE.resource_type, MACHINE.physical_id),
    }


def test_describe_stack_answers_outputs_parameters_and_one_resource(recorded):
    cloudformation = boto3.client("cloudformation", region_name=REGION)

    (stack,) = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
    detail = cloudformation.describe_stack_resource(
        StackName=STACK, LogicalResourceId=FUNCTION.logical_id
    )["StackResourceDetail"]

    assert stack["Outputs"] == [{"OutputKey": "Bucket", "OutputValue": "the-bucket"}]
    assert stack["Parameters"] == [{"ParameterKey": "Threshold", "ParameterValue": "0.9"}]
    assert detail["PhysicalResourceId"] == FUNCTION.physical_id


def test_the_sam_cli_resolves_a_logical_id_as_sam_logs_n_does(recorded):
    # The SAM CLI's own lookup, behind `sam logs -n ClassifyImageFunction --stack-name ...`
    from samcli.lib.utils.cloudformation import get_resource_summary

    summary = get_resource_summary(
        lambda service: boto3.resource(service, region_name=REGION),
        lambda service: boto3.client(service, region_name=REGION),
        STACK,
        FUNCTION.logical_id,
    )

    assert summary is not None
    assert summary.physical_resource_id == FUNCTION.physical_id
    assert summary.resource_type == "AWS::Lambda::Function"


def test_the_template_records_what_the_offline_stack_creates_under_its_physical_ids():
    spec = load_template(PROJECT_ROOT / "template.yaml", stack_name="records")

    resources = spec.resources
    for logical_id, function in spec.functions.items():
        assert resources[logical_id].physical_id == function.name  # Ref gives the name
    for logical_id, machine in spec.state_machines.items():
        assert resources[logical_id].physical_id == machine.arn  # Ref gives the ARN
    for logical_id, bucket in spec.buckets.items():
        assert resources[logical_id].physical_id == bucket
    for logical_id, role in spec.roles.items():
        assert resources[logical_id].physical_id == role.name
    # What the offline stack does not make (Lambda permissions, queue policies) is not listed
    assert {r.resource_type for r in resources.values()} <= {
        "AWS::Lambda::Function",
        "AWS::StepFunctions::StateMachine",
        "AWS::S3::Bucket",
        "AWS::IAM::Role",
        "AWS::IAM::ManagedPolicy",
        "AWS::SQS::Queue",
        "AWS::Logs::LogGroup",
        "AWS::Events::Rule",
    }


def test_deleting_the_offline_stack_is_refused_in_one_line_and_changes_nothing(recorded):
    # `sam delete` against `mlwf offline up`: moto's delete crashed on the record (HTTP 500)
    # and dropped it, the stack's resources staying
    from mlwf.offline.stack_record import deletes_refused

    cloudformation = boto3.client("cloudformation", region_name=REGION)
    stack_id = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]["StackId"]
    with deletes_refused(STACK):
        for name in (STACK, stack_id):
            with pytest.raises(cloudformation.exceptions.ClientError) as refused:
                cloudformation.delete_stack(StackName=name)
            error = refused.value.response["Error"]
            assert error["Code"] == "ValidationError"
            assert "stop it with Ctrl-C (or SIGTERM)" in error["Message"]
            assert "\n" not in error["Message"]
        # another stack is deleted as moto deletes it
        cloudformation.create_stack(StackName="other", TemplateBody='{"Resources": {}}')
        cloudformation.delete_stack(StackName="other")
    assert cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]["StackId"] == stack_id
