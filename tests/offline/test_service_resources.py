"""A topic, a table and a parameter added to the template are made offline, and the
workflow publishes to the one and writes to the other as it would on AWS
(mlwf.offline.service_resources). They were left out: the Ref of the topic gave its logical
name and GetAtt TopicName, which SAM's SNSPublishMessagePolicy takes, refused the template."""

from __future__ import annotations

import json
import re

import pytest

from mlwf.offline.runtime import OfflineStack
from tests.helpers.executions import wait_until_ended
from tests.helpers.notify_and_record import RESOURCES, machine_role_session, notify_and_record
from tests.helpers.project import edit_template, refusal
from tests.helpers.tables import string_keyed_table

pytestmark = pytest.mark.offline

KEY = "incoming/bike.png"


def test_the_workflow_publishes_to_its_topic_and_records_in_its_table(tmp_path):
    # Given the workflow extended with a topic, a table and a parameter
    template = notify_and_record(tmp_path)
    with OfflineStack.start(template, say=lambda _: None) as stack:
        outputs = stack.spec.outputs
        # When an execution runs
        started = stack.sfn.start_execution(
            stateMachineArn=stack.state_machine_arn("ImageClassificationStateMachine"),
            input=json.dumps({"s3_bucket": stack.bucket_name(), "s3_key": KEY}),
        )
        ended = wait_until_ended(stack.sfn, started["executionArn"])

        # Then it succeeded, having published the key and written its item
        assert ended["status"] == "SUCCEEDED", ended.get("cause")
        assert json.loads(ended["output"])["published"]["MessageId"]
        item = stack.client("dynamodb").get_item(
            TableName=outputs["ResultsTableName"],
            Key={"id": {"S": started["executionArn"].rsplit(":", 1)[-1]}},
        )["Item"]
        assert item["key"] == {"S": KEY}
        # And each resource is there, as the template describes it
        topic = stack.client("sns").get_topic_attributes(TopicArn=outputs["AlertTopicArn"])
        assert topic["Attributes"]["DisplayName"] == "Image alerts"
        parameter = stack.client("ssm").get_parameter(Name=outputs["ThresholdParameterName"])
        assert parameter["Parameter"]["Value"] == "0.9"
        # And the stack's record of its resources (what ListStackResources answers under
        # `mlwf offline up`) has them by their physical ids
        recorded = stack.spec.resources
        assert recorded["AlertTopic"].physical_id == outputs["AlertTopicArn"]
        assert recorded["ResultsTable"].physical_id == outputs["ResultsTableName"]


def test_a_table_its_service_refuses_fails_the_start_naming_it(tmp_path):
    # Given a table whose key is not among its attribute definitions: DynamoDB refuses
    # CreateTable, so the resource's CREATE_FAILED fails the deploy
    resources = RESOURCES.replace(
        "  ResultsTable:\n    Type: AWS::Serverless::SimpleTable\n",
        "  ResultsTable:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
        "      BillingMode: PAY_PER_REQUEST\n"
        "      KeySchema: [{AttributeName: id, KeyType: HASH}]\n"
        "      AttributeDefinitions: [{AttributeName: name, AttributeType: S}]\n",
    )
    text = refusal(notify_and_record(tmp_path, resources=resources))
    # Then the start is refused, naming the resource and DynamoDB's reason
    assert "template.yaml (ResultsTable): AWS::DynamoDB::Table is not created: " in text
    assert "ValidationException" in text


@pytest.mark.parametrize(
    ("allowed", "error", "action", "resource"),
    [
        (
            {"publish": False},
            "SNS.AuthorizationErrorException",
            "SNS:Publish",
            "arn:aws:sns:us-east-1:123456789012:offline-AlertTopic",
        ),
        (
            {"write": False},
            "DynamoDB.AmazonDynamoDBException",
            "dynamodb:PutItem",
            "arn:aws:dynamodb:us-east-1:123456789012:table/offline-ResultsTable",
        ),
    ],
)
def test_a_task_its_role_may_not_call_fails_as_step_functions_fails_it(
    tmp_path, allowed, error, action, resource
):
    # Given the machine's role lacks the policy for one of its tasks (only Lambda tasks
    # were checked: the publish and the write passed offline without any policy)
    template = notify_and_record(tmp_path, **allowed)
    with OfflineStack.start(template, say=lambda _: None) as stack:
        started = stack.sfn.start_execution(
            stateMachineArn=stack.state_machine_arn("ImageClassificationStateMachine"),
            input=json.dumps({"s3_bucket": stack.bucket_name(), "s3_key": KEY}),
        )
        ended = wait_until_ended(stack.sfn, started["executionArn"])
    # Then the task fails with the service's denial, naming the role, action and resource
    assert ended["status"] == "FAILED"
    assert ended["error"] == error
    assert f"is not authorized to perform: {action} on resource: {resource}" in ended["cause"]
    assert "assumed-role/offline-ImageClassificationStateMachineRole" in ended["cause"]


def test_an_sdk_task_s_timestamps_reach_the_output_as_text(tmp_path):
    # Given the workflow reads its parameter with an AWS SDK task, whose answer has a
    # timestamp (LastModifiedDate): the execution ran, but DescribeExecution failed on it
    template = notify_and_record(tmp_path)
    edit_template(
        template,
        "        AlertTopicArn: !Ref AlertTopic\n",
        "        AlertTopicArn: !Ref AlertTopic\n"
        "        ThresholdParameterName: !Ref ThresholdParameter\n",
    )
    edit_template(
        template,
        "        - SNSPublishMessagePolicy:\n",
        "        - SSMParameterReadPolicy:\n            ParameterName: !Ref ThresholdParameter\n"
        "        - SNSPublishMessagePolicy:\n",
    )
    path = tmp_path / "statemachine" / "image_classification.asl.json"
    definition = json.loads(path.read_text())
    definition["States"]["Read"] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:ssm:getParameter",
        "Parameters": {"Name": "${ThresholdParameterName}"},
        "ResultSelector": {"value.$": "$.Parameter.Value", "at.$": "$.Parameter.LastModifiedDate"},
        "ResultPath": "$.threshold",
        "Next": "Notify",
    }
    definition["StartAt"] = "Read"
    path.write_text(json.dumps(definition))
    with OfflineStack.start(template, say=lambda _: None) as stack:
        started = stack.sfn.start_execution(
            stateMachineArn=stack.state_machine_arn("ImageClassificationStateMachine"),
            input=json.dumps({"s3_bucket": stack.bucket_name(), "s3_key": KEY}),
        )
        ended = wait_until_ended(stack.sfn, started["executionArn"])
    # Then the output is JSON, the timestamp ISO 8601 text in UTC
    assert ended["status"] == "SUCCEEDED", ended.get("cause")
    threshold = json.loads(ended["output"])["threshold"]
    assert threshold["value"] == "0.9"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", threshold["at"])


def test_a_role_may_call_only_the_resources_its_policies_name(tmp_path):
    # Given the machine's role, whose policies name the template's topic and table (SAM's
    # SNSPublishMessagePolicy and DynamoDBWritePolicy), and a topic and a table they do not
    # name: a function calling the wrong one (a mistyped environment variable, say) was
    # allowed offline, as the role allowed the action on some resource
    from botocore.exceptions import ClientError

    with OfflineStack.start(notify_and_record(tmp_path), say=lambda _: None) as stack:
        other_topic = stack.client("sns").create_topic(Name="other")["TopicArn"]
        string_keyed_table(stack.client("dynamodb"), "other")
        session = machine_role_session(stack)
        sns, dynamodb = session.client("sns"), session.client("dynamodb")
        outputs = stack.spec.outputs
        item = {"id": {"S": "1"}}
        # When it calls the ones its policies name, then the others
        sns.publish(TopicArn=outputs["AlertTopicArn"], Message="m")
        dynamodb.put_item(TableName=outputs["ResultsTableName"], Item=item)
        with pytest.raises(ClientError) as published:
            sns.publish(TopicArn=other_topic, Message="m")
        with pytest.raises(ClientError) as written:
            dynamodb.put_item(TableName="other", Item=item)
    # Then each other call is refused in its service's words, naming the resource
    error = published.value.response["Error"]
    assert (error["Code"], published.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "AuthorizationError",
        403,
    )
    assert f"SNS:Publish on resource: {other_topic}" in error["Message"]
    error = written.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert (
        "dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/other"
        in (error["Message"])
    )


@pytest.mark.parametrize(
    ("table", "refused"),
    [
        (
            "      TableName: my table!\n",
            "Value 'my table!' at 'tableName' failed to satisfy constraint: Member must "
            "satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        ),
        (
            "      StreamSpecification: {StreamViewType: EVERYTHING}\n",
            "Value 'EVERYTHING' at 'streamSpecification.streamViewType' failed to satisfy "
            "constraint: Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, "
            "NEW_AND_OLD_IMAGES, KEYS_ONLY]",
        ),
    ],
)
def test_a_table_outside_dynamodb_s_constraints_fails_the_start(tmp_path, table, refused):
    # moto made both tables; DynamoDB refuses them, and so the deploy fails
    resources = RESOURCES.replace(
        "  ResultsTable:\n    Type: AWS::Serverless::SimpleTable\n",
        "  ResultsTable:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
        "      BillingMode: PAY_PER_REQUEST\n"
        "      KeySchema: [{AttributeName: id, KeyType: HASH}]\n"
        "      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]\n" + table,
    )
    text = refusal(notify_and_record(tmp_path, resources=resources))
    assert text.endswith(
        "(ResultsTable): AWS::DynamoDB::Table is not created: ValidationException: "
        f"1 validation error detected: {refused}"
    )


def test_a_parameter_its_allowed_pattern_refuses_fails_the_start(tmp_path):
    # moto's PutParameter made it; SSM refuses it, so the parameter's CREATE_FAILED
    resources = RESOURCES.replace(
        '      Value: "0.9"\n', '      Value: "0.9"\n      AllowedPattern: "^[0-9]+$"\n'
    )
    text = refusal(notify_and_record(tmp_path, resources=resources))
    assert text.endswith(
        "(ThresholdParameter): AWS::SSM::Parameter is not created: "
        "ParameterPatternMismatchException: Parameter value, cannot be validated against "
        "allowedPattern: ^[0-9]+$"
    )


def test_an_on_demand_table_s_index_with_throughput_fails_the_start(tmp_path):
    # moto made it; DynamoDB refuses it, so the table's CREATE_FAILED
    resources = RESOURCES.replace(
        "  ResultsTable:\n    Type: AWS::Serverless::SimpleTable\n",
        "  ResultsTable:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
        "      BillingMode: PAY_PER_REQUEST\n"
        "      KeySchema: [{AttributeName: id, KeyType: HASH}]\n"
        "      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]\n"
        "      GlobalSecondaryIndexes:\n"
        "        - IndexName: by-id\n"
        "          KeySchema: [{AttributeName: id, KeyType: HASH}]\n"
        "          Projection: {ProjectionType: ALL}\n"
        "          ProvisionedThroughput: {ReadCapacityUnits: 1, WriteCapacityUnits: 1}\n",
    )
    text = refusal(notify_and_record(tmp_path, resources=resources))
    assert text.endswith(
        "ValidationException: One or more parameter values were invalid: ProvisionedThroughput "
        "should not be specified for index: by-id when BillingMode is PAY_PER_REQUEST"
    )


def test_calls_whose_iam_action_is_not_their_operation_are_not_falsely_denied(tmp_path):
    # Given the machine's role (it allows sns:Publish on the topic) and calls AWS allows:
    # GetCallerIdentity needs no permission, PublishBatch is authorized as sns:Publish
    # (they were checked as sts:GetCallerIdentity and sns:PublishBatch, and denied)
    with OfflineStack.start(notify_and_record(tmp_path), say=lambda _: None) as stack:
        session = machine_role_session(stack)
        assert session.client("sts").get_caller_identity()["Account"] == "123456789012"
        published = session.client("sns").publish_batch(
            TopicArn=stack.spec.outputs["AlertTopicArn"],
            PublishBatchRequestEntries=[{"Id": "1", "Message": "m"}],
        )
        assert [entry["Id"] for entry in published["Successful"]] == ["1"]
