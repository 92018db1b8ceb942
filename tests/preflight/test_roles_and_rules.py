"""Trust policies, the upload rule (PutRule/PutTargets) and the SageMaker role that
CreateTrainingJob and CreateEndpointConfig hand to SageMaker."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.helpers.iam import allowed, as_list, role_of, trust_statements, trusted_services
from tests.helpers.intrinsics import DeployContext

pytestmark = pytest.mark.preflight

# The condition keys each service documents that it sets when it assumes a role. A key the
# service does not send makes the condition false and AssumeRole fail at first use.
DOCUMENTED_TRUST_KEYS = {
    # https://docs.aws.amazon.com/sagemaker/latest/dg/security-confused-deputy-prevention.html:
    # "We recommend using the aws:SourceArn and aws:SourceAccount global condition keys";
    # for inference the SourceArn "must" stay "arn:aws:sagemaker:region:account:*" (a role
    # that serves endpoints cannot narrow it, e.g. to training-job/*).
    "sagemaker.amazonaws.com": {
        "aws:SourceArn": r"^arn:aws:sagemaker:us-east-1:123456789012:\*$",
        "aws:SourceAccount": r"^123456789012$",
    },
    # SAM's roles for functions, state machines and rules carry no condition.
    "lambda.amazonaws.com": {},
    "states.amazonaws.com": {},
    "events.amazonaws.com": {},
}
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-events-rule-retrypolicy.html
MAX_EVENT_AGE_RANGE = (60, 86400)
RETRY_ATTEMPTS_RANGE = (0, 185)


def resources(deploy: DeployContext, kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in deploy.template["Resources"].items() if v["Type"] == kind}


def test_trust_conditions_use_only_keys_the_service_documents(deploy):
    for role in resources(deploy, "AWS::IAM::Role"):
        for statement in trust_statements(deploy, role):
            for service in as_list(statement.get("Principal", {}).get("Service", [])):
                documented = DOCUMENTED_TRUST_KEYS[service]
                for operator, keys in statement.get("Condition", {}).items():
                    for key, value in keys.items():
                        assert key in documented, f"{role}: {service} documents no {key}"
                        for item in as_list(value):
                            assert re.match(documented[key], str(item)), f"{role}: {operator}"


def sagemaker_role(deploy: DeployContext) -> str:
    (role,) = [
        r
        for r in resources(deploy, "AWS::IAM::Role")
        if trusted_services(deploy, r) == {"sagemaker.amazonaws.com"}
    ]
    return role


def test_sagemaker_role_may_read_the_data_and_write_models_and_capture(deploy):
    # CreateTrainingJob reads s3://BUCKET/dataset/ and writes s3://BUCKET/models/; the
    # endpoint config's DataCaptureConfig writes s3://BUCKET/data_capture/ as this role.
    from training_job.endpoint_requests import build_endpoint_config_request

    role = sagemaker_role(deploy)
    request = build_endpoint_config_request("c", model_name="m", bucket="<ImagesBucket>")
    uri = request["DataCaptureConfig"]["DestinationS3Uri"]
    capture = uri.removeprefix("s3://<ImagesBucket>/")  # the bucket's ARN is <ImagesBucket.Arn>
    objects = "<ImagesBucket.Arn>/"
    assert allowed(deploy, role, "s3:PutObject", f"{objects}{capture}x/AllTraffic/y.jsonl")
    assert allowed(deploy, role, "s3:GetObject", f"{objects}dataset/train/a.png")
    assert allowed(deploy, role, "s3:PutObject", f"{objects}models/job/model.tar.gz")
    assert allowed(deploy, role, "s3:ListBucket", "<ImagesBucket.Arn>")


def upload_rules(deploy: DeployContext) -> list[tuple[str, dict[str, Any]]]:
    return [
        (rule_id, target)
        for rule_id, rule in resources(deploy, "AWS::Events::Rule").items()
        for target in rule["Properties"]["Targets"]
    ]


def test_rule_targets_have_roles_that_may_start_their_state_machine(deploy):
    # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-custom-bus-target-sfn.html:
    # the target's role needs states:StartExecution on the state machine.
    machines = resources(deploy, "AWS::StepFunctions::StateMachine")
    for rule_id, target in upload_rules(deploy):
        arn = str(deploy.evaluate(target["Arn"]))
        if arn.strip("<>") not in machines:
            continue
        assert "RoleArn" in target, f"{rule_id}: a state machine target needs a role"
        role = role_of(deploy, target["RoleArn"])
        assert trusted_services(deploy, role) == {"events.amazonaws.com"}, rule_id
        assert allowed(deploy, role, "states:StartExecution", arn), rule_id


def test_dead_letter_queues_accept_the_rules_messages(deploy):
    # https://docs.aws.amazon.com/eventbridge/latest/userguide/rule-dlq.html: the queue
    # needs a resource policy letting events.amazonaws.com send, for that rule's ARN.
    policies = resources(deploy, "AWS::SQS::QueuePolicy")
    for rule_id, target in upload_rules(deploy):
        if "DeadLetterConfig" not in target:
            continue
        queue_arn = str(deploy.evaluate(target["DeadLetterConfig"]["Arn"]))
        queue = queue_arn[1:-5]  # <Queue.Arn>
        assert resources(deploy, "AWS::SQS::Queue")[queue], rule_id
        granted = False
        for policy in policies.values():
            props = deploy.evaluate(policy["Properties"])
            if f"<{queue}>" not in props["Queues"]:
                continue
            for statement in as_list(props["PolicyDocument"]["Statement"]):
                condition = statement.get("Condition", {}).get("ArnEquals", {})
                granted |= (
                    statement["Effect"] == "Allow"
                    and statement["Principal"] == {"Service": "events.amazonaws.com"}
                    and "sqs:SendMessage" in as_list(statement["Action"])
                    and condition.get("aws:SourceArn") == f"<{rule_id}.Arn>"
                )
        assert granted, f"{rule_id}: {queue} does not let the rule send to it"


def test_dead_letter_queues_are_encrypted(deploy):
    for queue_id, queue in resources(deploy, "AWS::SQS::Queue").items():
        props = queue["Properties"]
        assert props.get("SqsManagedSseEnabled") or props.get("KmsMasterKeyId"), queue_id


def test_retry_policies_are_within_putTargets_ranges(deploy):
    for rule_id, target in upload_rules(deploy):
        policy = deploy.evaluate(target.get("RetryPolicy", {}))
        if "MaximumEventAgeInSeconds" in policy:
            low, high = MAX_EVENT_AGE_RANGE
            assert low <= int(policy["MaximumEventAgeInSeconds"]) <= high, rule_id
        if "MaximumRetryAttempts" in policy:
            low, high = RETRY_ATTEMPTS_RANGE
            assert low <= int(policy["MaximumRetryAttempts"]) <= high, rule_id


def test_input_templates_are_json_once_filled(deploy):
    # PutTargets accepts a template that yields invalid JSON; every delivery then fails and
    # lands in the dead-letter queue. Filled with JSON strings, as EventBridge fills them.
    for rule_id, target in upload_rules(deploy):
        transformer = target.get("InputTransformer")
        if not transformer:
            continue
        text = transformer["InputTemplate"]
        for name in transformer["InputPathsMap"]:
            text = text.replace(f"<{name}>", json.dumps("value"))
        assert isinstance(json.loads(text), dict), rule_id


def test_a_reserved_concurrency_is_set_only_when_asked(translated):
    # New accounts have reduced concurrency quotas, too small to reserve any: the first
    # deploy reserves nothing unless ClassifyReservedConcurrency says so.
    # https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
    function = translated["Resources"]["ClassifyImageFunction"]["Properties"]
    default = DeployContext(translated).evaluate(function)
    assert "ReservedConcurrentExecutions" not in default
    reserved = DeployContext(translated, parameters={"ClassifyReservedConcurrency": "10"})
    assert reserved.evaluate(function)["ReservedConcurrentExecutions"] == "10"
