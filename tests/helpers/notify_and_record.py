"""The workflow as a user extends it: a topic told of each image, a table of verdicts and a
parameter of settings (SNS, DynamoDB and SSM resources), with the state machine's policies
and definition to use them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.helpers.project import edit_template, project_copy

RESOURCES = """  AlertTopic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: Image alerts
  ResultsTable:
    Type: AWS::Serverless::SimpleTable
  ThresholdParameter:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: "0.9"
"""
SUBSTITUTIONS = """        AlertTopicArn: !Ref AlertTopic
        ResultsTableName: !Ref ResultsTable
"""
# SAM's policy templates, as its documentation gives them (SNSPublishMessagePolicy takes the
# topic's name: `!GetAtt Topic.TopicName`)
PUBLISH = """        - SNSPublishMessagePolicy:
            TopicName: !GetAtt AlertTopic.TopicName
"""
WRITE = """        - DynamoDBWritePolicy:
            TableName: !Ref ResultsTable
"""
OUTPUTS = """  AlertTopicArn:
    Value: !Ref AlertTopic
  AlertTopicName:
    Value: !GetAtt AlertTopic.TopicName
  ResultsTableName:
    Value: !Ref ResultsTable
  ResultsTableArn:
    Value: !GetAtt ResultsTable.Arn
  ThresholdParameterName:
    Value: !Ref ThresholdParameter
  ThresholdParameterValue:
    Value: !GetAtt ThresholdParameter.Value
"""
NOTIFY = {
    "Type": "Task",
    "Resource": "arn:aws:states:::sns:publish",
    "Parameters": {"TopicArn": "${AlertTopicArn}", "Message.$": "$.s3_key"},
    "ResultPath": "$.published",
    "Next": "Record",
}
RECORD = {
    "Type": "Task",
    "Resource": "arn:aws:states:::dynamodb:putItem",
    "Parameters": {
        "TableName": "${ResultsTableName}",
        "Item": {"id": {"S.$": "$$.Execution.Name"}, "key": {"S.$": "$.s3_key"}},
    },
    "ResultPath": "$.recorded",
    "End": True,
}
MACHINE = "  ImageClassificationStateMachine:\n    Type: AWS::Serverless::StateMachine\n"
MACHINE_TYPE = (
    "        FilterInferencesFunctionArn: !GetAtt FilterInferencesFunction.Arn\n"
    "      Type: !Ref WorkflowType\n"
)
MACHINE_POLICIES = (
    "            FunctionName: !Ref FilterInferencesFunction\n"
    "      Events:\n        ImageUploaded:\n"
)


def notify_and_record(
    tmp_path: Path, *, publish: bool = True, write: bool = True, resources: str = RESOURCES
) -> Path:
    """A project copy whose image classification machine publishes the image's key to a
    topic and records it in a table before anything else (the machine's role may do each
    unless `publish`/`write` is False); its template.yaml."""
    template = project_copy(tmp_path)
    edit_template(template, MACHINE, resources + MACHINE)
    edit_template(
        template, MACHINE_TYPE, MACHINE_TYPE.replace("      Type:", SUBSTITUTIONS + "      Type:")
    )
    policies = (PUBLISH if publish else "") + (WRITE if write else "")
    edit_template(
        template,
        MACHINE_POLICIES,
        MACHINE_POLICIES.replace("      Events:", policies + "      Events:"),
    )
    edit_template(template, "\nOutputs:\n", "\nOutputs:\n" + OUTPUTS)
    path = tmp_path / "statemachine" / "image_classification.asl.json"
    definition = json.loads(path.read_text())
    definition["States"] = {"Notify": NOTIFY, "Record": RECORD}
    definition["StartAt"] = "Notify"
    path.write_text(json.dumps(definition, indent=2))
    return template


def machine_role_session(stack: Any) -> Any:
    """A boto3 session with the image classification machine's role's credentials on the
    offline stack `stack`: calls made as that role, IAM enforced on them."""
    import boto3

    role = stack.spec.state_machines["ImageClassificationStateMachine"].role_arn
    credentials = stack.authorizer.credentials(role, "test")
    return boto3.Session(
        region_name=stack.spec.region,
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=credentials.get("AWS_SESSION_TOKEN"),
    )
