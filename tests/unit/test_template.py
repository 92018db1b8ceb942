"""template.yaml: least privilege, the bucket's protections, the trigger, the outputs."""

from __future__ import annotations

import json
import re
import tomllib
from functools import cache
from typing import Any

import pytest

from tests.helpers.events import load_event
from tests.helpers.iam import STEP_FUNCTIONS_LOG_DELIVERY_ACTIONS
from tests.helpers.paths import PROJECT_ROOT
from training_job.stack import OUTPUT_FIELDS

# Powertools' managed layer version -> the PyPI release it carries (from the Powertools
# release notes). pyproject.toml must pin the same release the template's layer carries.
POWERTOOLS_LAYER_RELEASES = {27: "3.23.0"}


@cache
def template() -> dict[str, Any]:
    # Imported here, not at collection: cfn-lint takes ~0.5 s to import (sympy), in every
    # pytest-xdist worker that collects this module, though one runs it.
    from cfnlint.decode import cfn_yaml

    return cfn_yaml.load(str(PROJECT_ROOT / "template.yaml"))


def resources(kind: str) -> dict[str, dict]:
    return {k: v for k, v in template()["Resources"].items() if v["Type"] == kind}


def statements() -> list[tuple[str, dict]]:
    """Every IAM statement in the template, with where it stands."""
    found = []
    for logical_id, resource in template()["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            found += [(logical_id, s) for s in props["PolicyDocument"]["Statement"]]
        for policy in props.get("Policies", []):
            if isinstance(policy, dict) and "Statement" in policy:
                found += [(logical_id, s) for s in policy["Statement"]]
            elif isinstance(policy, dict) and "PolicyDocument" in policy:
                found += [(logical_id, s) for s in policy["PolicyDocument"]["Statement"]]
    return found


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def test_no_wildcard_actions():
    for where, statement in statements():
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"{where}: {action}"


def test_wildcard_resources_only_where_the_action_has_no_resource_scope():
    # AWS documents these actions as supporting no resource-level permissions.
    unscoped_actions = {
        "ecr:GetAuthorizationToken",
        "cloudwatch:PutMetricData",
        *STEP_FUNCTIONS_LOG_DELIVERY_ACTIONS,
    }
    for where, statement in statements():
        if "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) <= unscoped_actions, where


def test_serializer_may_only_read_the_images_bucket():
    policies = resources("AWS::Serverless::Function")["SerializeImageDataFunction"]["Properties"][
        "Policies"
    ]
    actions = {a for p in policies for s in p["Statement"] for a in as_list(s["Action"])}
    assert actions == {"s3:GetObject", "s3:ListBucket"}
    for policy in policies:
        for statement in policy["Statement"]:
            assert "ImagesBucket" in str(statement["Resource"])


def test_classifier_may_read_one_parameter_and_invoke_prefixed_endpoints():
    props = resources("AWS::Serverless::Function")["ClassifyImageFunction"]["Properties"]
    by_action = {s["Action"]: s["Resource"] for p in props["Policies"] for s in p["Statement"]}
    assert set(by_action) == {"ssm:GetParameter", "sagemaker:InvokeEndpoint"}
    assert by_action["ssm:GetParameter"]["Fn::Sub"].endswith("parameter${EndpointParameterName}")
    assert by_action["sagemaker:InvokeEndpoint"]["Fn::Sub"].endswith(
        "endpoint/${EndpointNamePrefix}*"
    )


def test_filter_has_no_aws_access():
    props = resources("AWS::Serverless::Function")["FilterInferencesFunction"]["Properties"]
    assert "Policies" not in props and "Role" not in props


def test_functions_are_configured_as_documented():
    for logical_id, resource in resources("AWS::Serverless::Function").items():
        props = resource["Properties"]
        assert props["CodeUri"].startswith("functions/"), logical_id
        assert props["Handler"] == "app.lambda_handler", logical_id
        assert 0 < props["Timeout"] <= 30 and props["MemorySize"] >= 128, logical_id
    globals_function = template()["Globals"]["Function"]
    assert globals_function["Runtime"] == "python3.13"
    assert globals_function["Architectures"] == ["arm64"]
    assert globals_function["Tracing"] == "Active"


def test_every_function_has_a_log_group_with_retention():
    groups = resources("AWS::Logs::LogGroup")
    named = {str(g["Properties"]["LogGroupName"]) for g in groups.values()}
    for logical_id in resources("AWS::Serverless::Function"):
        assert any(logical_id in name for name in named), logical_id
    for logical_id, group in groups.items():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, logical_id


def test_powertools_layer_matches_the_pinned_release():
    (layer,) = template()["Globals"]["Function"]["Layers"]
    condition, published, given = layer["Fn::If"]
    assert condition == "UsePublishedPowertoolsLayer" and given == {"Ref": "PowertoolsLayerArn"}
    arn_template = published["Fn::Sub"][0]
    match = re.search(r"AWSLambdaPowertoolsPythonV3-python313-arm64:(\d+)$", arn_template)
    assert match, layer
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    pinned = [
        d for d in pyproject["project"]["dependencies"] if d.startswith("aws-lambda-powertools")
    ]
    assert pinned == [f"aws-lambda-powertools=={POWERTOOLS_LAYER_RELEASES[int(match[1])]}"]


def test_images_bucket_is_private_encrypted_and_tls_only():
    props = resources("AWS::S3::Bucket")["ImagesBucket"]["Properties"]
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    assert props["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"]
    (policy,) = resources("AWS::S3::BucketPolicy").values()
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": False}}


def test_state_machine_logs_no_execution_data():
    props = resources("AWS::Serverless::StateMachine")["ImageClassificationStateMachine"][
        "Properties"
    ]
    assert props["Logging"]["IncludeExecutionData"] is False
    assert props["Tracing"] == {"Enabled": True}
    assert props["Type"] == {"Ref": "WorkflowType"}


def jsonpath(document: dict, path: str) -> Any:
    value = document
    for part in path.removeprefix("$.").split("."):
        value = value[part]
    return value


def test_upload_rule_turns_the_s3_event_into_the_workflow_input():
    # Given the rule on the state machine and the sample "Object Created" event
    machine = resources("AWS::Serverless::StateMachine")["ImageClassificationStateMachine"]
    rule = machine["Properties"]["Events"]["ImageUploaded"]["Properties"]
    event = load_event("s3_object_created.json")

    # Then the pattern matches the event, only under incoming/
    pattern = rule["Pattern"]
    assert event["source"] in pattern["source"]
    assert event["detail-type"] in pattern["detail-type"]
    (prefix,) = pattern["detail"]["object"]["key"]
    assert (
        event["detail"]["object"]["key"].startswith(prefix["prefix"])
        and prefix["prefix"] == "incoming/"
    )

    # And the input transformer yields the workflow's input
    transformer = rule["InputTransformer"]
    text = transformer["InputTemplate"]
    for name, path in transformer["InputPathsMap"].items():
        text = text.replace(f"<{name}>", f'"{jsonpath(event, path)}"')
    assert json.loads(text) == load_event("workflow_input.json")
    assert rule["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["UploadDeadLetterQueue", "Arn"]}}


def test_outputs_cover_what_the_cli_reads():
    outputs = template()["Outputs"]
    assert set(OUTPUT_FIELDS) - {"BatchStateMachineArn"} <= set(outputs)
    parameters = template()["Parameters"]
    assert not set(outputs) & set(parameters), "sam build fails on outputs named like parameters"


@pytest.mark.parametrize(
    "name",
    ["ConfidenceThreshold", "EndpointParameterName", "EndpointNamePrefix", "WorkflowType"],
)
def test_documented_parameters_exist(name):
    assert name in template()["Parameters"]
