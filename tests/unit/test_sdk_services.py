"""AWS SDK tasks name their services and actions as Step Functions' table does
(mlwf.offline.sdk_services), and their errors carry the table's exception prefix."""

from __future__ import annotations

import pytest

from mlwf.offline.sdk_services import (
    RENAMED,
    boto_service,
    error_prefix,
    known_action,
    renamed,
)

# Rows of "Supported AWS SDK service integrations"
# (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html): the
# service's name in `arn:aws:states:::aws-sdk:<name>:<action>` and its exception prefix,
# one row for each way a name or a prefix is made from the service's ID
TABLE = {
    "s3": "S3",
    "dynamodb": "DynamoDb",
    "ssm": "Ssm",
    "sfn": "Sfn",
    "sqs": "Sqs",
    "lambda": "Lambda",
    "acmpca": "AcmPca",
    "cloudwatchlogs": "CloudWatchLogs",
    "eventbridge": "EventBridge",
    "sagemakerruntime": "SageMakerRuntime",
    "costexplorer": "CostExplorer",
    "databasemigration": "DatabaseMigration",
    "directory": "Directory",
    "config": "Config",
    "elasticsearch": "Elasticsearch",
    "lexruntime": "LexRuntime",
    "iot": "Iot",
    "iotwireless": "IotWireless",
    "iotsecuretunneling": "IoTSecureTunneling",
    "elasticloadbalancingv2": "ElasticLoadBalancingV2",
    "fsx": "FSx",
    "mturk": "MTurk",
    "memorydb": "MemoryDB",
    "sesv2": "SesV2",
    "codeartifact": "Codeartifact",
    "ssooidc": "SsoOidc",
    "rdsdata": "RdsData",
}


@pytest.mark.parametrize("name", TABLE)
def test_each_name_of_the_table_is_a_botocore_service_with_the_table_s_prefix(name):
    assert boto_service(name) is not None
    assert error_prefix(name) == TABLE[name]


def test_botocore_s_own_names_are_not_step_functions_names():
    # Given botocore's names of services the table names otherwise
    for botocore_only in ("logs", "events", "stepfunctions", "sagemaker-runtime", "ce"):
        # Then no SDK task can name them (AWS: "is not recognized")
        assert boto_service(botocore_only) is None, botocore_only
        assert error_prefix(botocore_only) is None
    assert boto_service("cloudwatchlogs") == "logs"
    assert boto_service("sagemakerruntime") == "sagemaker-runtime"


def test_renamed_is_what_botocore_s_models_give():
    # When this fails, botocore's services changed: paste renamed() into RENAMED
    assert renamed() == RENAMED


def test_an_action_is_known_in_camel_case_only_and_not_when_the_page_rules_it_out():
    assert known_action("s3", "getObject")
    assert known_action("s3", "listObjectsV2")
    assert known_action("cloudwatchlogs", "createLogStream")
    assert not known_action("s3", "GetObject")  # aws/aws-cdk#27635: refused
    assert not known_action("s3", "getObjects")
    assert not known_action("logs", "createLogStream")
    # "Unsupported API actions for supported services"
    assert not known_action("lambda", "invokeAsync")
    assert not known_action("s3", "selectObjectContent")
