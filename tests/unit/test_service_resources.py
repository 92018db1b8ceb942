"""SNS topics, DynamoDB tables and SSM parameters are read from the template as
CloudFormation makes them (mlwf.offline.service_resources): Ref and GetAtt give what the
types' schemas say (a topic's Ref is its ARN), and each becomes its service's API calls."""

from __future__ import annotations

import pytest

from mlwf.offline import service_resources
from mlwf.offline.template import load_template
from tests.helpers.notify_and_record import RESOURCES, notify_and_record
from tests.helpers.project import load_refusal

REGION, ACCOUNT = "us-east-1", "123456789012"


def test_refs_and_attributes_of_a_topic_a_table_and_a_parameter(tmp_path):
    # Given the user adds a topic, a SAM SimpleTable and a parameter, and outputs of each
    # (the old reader refused GetAtt AlertTopic.TopicName, which SAM's
    # SNSPublishMessagePolicy takes, and gave the topic's logical name for its Ref)
    spec = load_template(notify_and_record(tmp_path), stack_name="offline")
    # Then each resolves as CloudFormation resolves it
    assert spec.outputs["AlertTopicArn"] == f"arn:aws:sns:{REGION}:{ACCOUNT}:offline-AlertTopic"
    assert spec.outputs["AlertTopicName"] == "offline-AlertTopic"
    assert spec.outputs["ResultsTableName"] == "offline-ResultsTable"
    assert spec.outputs["ResultsTableArn"] == (
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/offline-ResultsTable"
    )
    assert spec.outputs["ThresholdParameterName"] == "offline-ThresholdParameter"
    assert spec.outputs["ThresholdParameterValue"] == "0.9"
    # And none of them is said to be left out
    assert not [said for said in spec.left_out if "Alert" in said or "Results" in said]
    made = {r.logical_id: r for r in spec.service_resources}
    assert set(made) == {"AlertTopic", "ResultsTable", "ThresholdParameter"}


def test_the_calls_that_make_them(tmp_path):
    spec = load_template(notify_and_record(tmp_path), stack_name="offline")
    calls = {r.logical_id: r.calls for r in spec.service_resources}
    (topic,) = calls["AlertTopic"]
    assert (topic.service, topic.operation) == ("sns", "create_topic")
    assert topic.arguments == {
        "Name": "offline-AlertTopic",
        "Attributes": {"DisplayName": "Image alerts"},
    }
    (table,) = calls["ResultsTable"]  # SAM's SimpleTable: an `id` string key, on demand
    assert table.operation == "create_table"
    assert table.arguments["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table.arguments["BillingMode"] == "PAY_PER_REQUEST"
    (parameter,) = calls["ThresholdParameter"]
    assert parameter.arguments == {
        "Name": "offline-ThresholdParameter",
        "Type": "String",
        "Value": "0.9",
    }


def test_cloudformation_properties_become_the_apis_own_names():
    # The table's properties that CreateTable names otherwise, and those it takes later
    props = {
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "StreamSpecification": {"StreamViewType": "NEW_IMAGE"},
        "SSESpecification": {"SSEEnabled": True},
        "TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": True},
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by-key",
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "ContributorInsightsSpecification": {"Enabled": True},
            }
        ],
    }
    create, ttl = service_resources.calls(service_resources.TABLE, "t", props)
    # "Including this property in your template automatically enables streaming"
    assert create.arguments["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_IMAGE",
    }
    assert create.arguments["SSESpecification"] == {"Enabled": True}
    assert create.arguments["BillingMode"] == "PROVISIONED"  # the property's default
    assert "ContributorInsightsSpecification" not in create.arguments["GlobalSecondaryIndexes"][0]
    assert (ttl.operation, ttl.arguments["TimeToLiveSpecification"]["AttributeName"]) == (
        "update_time_to_live",
        "expires",
    )
    # A parameter's tags are a map in the template and a list in PutParameter
    (put,) = service_resources.calls(
        service_resources.PARAMETER, "p", {"Type": "String", "Value": "1", "Tags": {"team": "ml"}}
    )
    assert put.arguments["Tags"] == [{"Key": "team", "Value": "ml"}]


def test_what_the_stack_does_not_do_of_them_is_named(tmp_path):
    # Given a topic that subscribes a mailbox: SNS would deliver to it; offline nothing does
    resources = RESOURCES.replace(
        "      DisplayName: Image alerts\n",
        "      DisplayName: Image alerts\n      Subscription:\n"
        "        - Protocol: email\n          Endpoint: ml@example.com\n",
    )
    spec = load_template(notify_and_record(tmp_path, resources=resources), stack_name="offline")
    assert "AlertTopic's Subscription (no message is delivered)" in spec.left_out
    (topic,) = [r for r in spec.service_resources if r.logical_id == "AlertTopic"]
    assert "Subscription" not in str(topic.calls[0].arguments)


def test_a_fifo_topic_without_a_name_gets_one_ending_in_fifo(tmp_path):
    resources = RESOURCES.replace("      DisplayName: Image alerts\n", "      FifoTopic: true\n")
    spec = load_template(notify_and_record(tmp_path, resources=resources), stack_name="offline")
    assert spec.outputs["AlertTopicName"] == "offline-AlertTopic.fifo"


def test_a_secure_string_parameter_is_refused_as_cloudformation_refuses_it(tmp_path):
    # moto's PutParameter makes one; CloudFormation's schema allows String and StringList
    resources = RESOURCES.replace("      Type: String\n", "      Type: SecureString\n")
    refused = load_refusal(notify_and_record(tmp_path, resources=resources))
    assert refused == (
        "template.yaml: Properties validation failed for resource ThresholdParameter with "
        "message: #/Type: failed validation constraint for keyword [enum] (CloudFormation "
        "makes String and StringList parameters, not SecureString)"
    )


def test_ssm_tags_given_as_a_list_are_refused_as_the_schema_refuses_them(tmp_path):
    # The schema's Tags is a map; a list was dropped without a word
    resources = RESOURCES.replace(
        '      Value: "0.9"\n', '      Value: "0.9"\n      Tags: [{Key: team, Value: ml}]\n'
    )
    refused = load_refusal(notify_and_record(tmp_path, resources=resources))
    assert refused.endswith(
        "ThresholdParameter with message: #/Tags: expected type: JSONObject, found: JSONArray"
    )


def test_values_outside_the_api_model_s_constraints_are_found_at_their_paths():
    import botocore.session

    model = botocore.session.get_session().get_service_model("dynamodb")
    shape = model.operation_model("CreateTable").input_shape
    arguments = {"TableName": "t", "StreamSpecification": {"StreamViewType": "EVERYTHING"}}
    assert service_resources.constraint_problems(shape, arguments) == [
        (
            "streamSpecification.streamViewType",
            "Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, "
            "KEYS_ONLY]",
            "EVERYTHING",
        )
    ]


TABLE = (
    "  ResultsTable:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
    "      KeySchema: [{AttributeName: id, KeyType: HASH}]\n"
    "      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]\n"
    "      BillingMode: PAY_PER_REQUEST\n"
)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "  ResultsTable:\n    Type: AWS::Serverless::SimpleTable\n",
            TABLE + "      StreamSpecification: NEW_IMAGE\n",
            "ResultsTable with message: #/StreamSpecification: expected type: JSONObject, "
            "found: String",
        ),
        (
            "  ResultsTable:\n    Type: AWS::Serverless::SimpleTable\n",
            TABLE + "      GlobalSecondaryIndexes: [by-id]\n",
            "ResultsTable with message: #/GlobalSecondaryIndexes/0: expected type: JSONObject, "
            "found: String",
        ),
        (
            "  ResultsTable:\n    Type: AWS::Serverless::SimpleTable\n",
            TABLE + "      ResourcePolicy: {}\n",
            "ResultsTable with message: #/ResourcePolicy: required key [PolicyDocument] not found",
        ),
        (
            '      Value: "0.9"\n',
            "      Value: [0.9]\n",
            "ThresholdParameter with message: #/Value: expected type: String, found: JSONArray",
        ),
        (
            "  ResultsTable:\n    Type: AWS::Serverless::SimpleTable\n",
            "  ResultsTable:\n    Type: AWS::DynamoDB::Table\n    Properties: [a]\n",
            "ResultsTable with message: #: expected type: JSONObject, found: JSONArray",
        ),
        (
            "  ResultsTable:\n    Type: AWS::Serverless::SimpleTable\n",
            "  ResultsTable:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
            "      BillingMode: PAY_PER_REQUEST\n",
            "ResultsTable with message: #: required key [KeySchema] not found",
        ),
    ],
)
def test_a_property_of_the_wrong_shape_is_refused_in_one_line(tmp_path, old, new, message):
    # Most crashed the reading with a Python error (AttributeError, TypeError, ValueError,
    # or moto's KeyError); a list value was passed on, and an output reading it refused
    refused = load_refusal(notify_and_record(tmp_path, resources=RESOURCES.replace(old, new)))
    assert refused.endswith(message)


def test_a_fifo_flag_given_by_an_intrinsic_names_the_topic_as_fifo(tmp_path):
    # The raw property (an Fn::If) was read, so the generated name lacked `.fifo` and moto
    # refused the topic; ReserveClassifyConcurrency is false by default
    resources = RESOURCES.replace(
        "      DisplayName: Image alerts\n",
        "      FifoTopic: !If [ReserveClassifyConcurrency, false, true]\n",
    )
    spec = load_template(notify_and_record(tmp_path, resources=resources), stack_name="offline")
    assert spec.outputs["AlertTopicName"] == "offline-AlertTopic.fifo"
