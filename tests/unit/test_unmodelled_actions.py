"""An action moto does not implement, answered offline as a 501 NotImplemented in the
service's protocol (mlwf.offline.unmodelled_actions), not as moto's HTTP 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:m:e"


def test_moto_alone_raises_for_an_action_it_does_not_implement(aws):
    # What the patch is for; when this fails, moto implements RedriveExecution: pick
    # another action it lacks for these tests, and say so in docs/offline.md.
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    with pytest.raises(NotImplementedError):
        sfn.redrive_execution(executionArn=EXECUTION)


@pytest.mark.parametrize(
    ("service", "method", "params", "action"),
    [
        ("stepfunctions", "redrive_execution", {"executionArn": EXECUTION}, "RedriveExecution"),
        ("cloudformation", "detect_stack_drift", {"StackName": "s"}, "DetectStackDrift"),
    ],
    ids=["json", "query-xml"],
)
def test_an_unmodelled_action_is_a_501_naming_it(aws, service, method, params, action):
    from mlwf.offline.unmodelled_actions import unmodelled_actions_refused

    client = boto3.client(service, region_name="us-east-1")
    with unmodelled_actions_refused(), pytest.raises(ClientError) as refused:
        getattr(client, method)(**params)
    response = refused.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert response["Error"]["Code"] == "NotImplemented"
    assert response["Error"]["Message"].startswith(f"{action} ({service}) is not modelled")


def test_a_part_moto_lacks_of_an_action_it_has_is_a_501_in_its_words(aws):
    # the action is implemented; only the filter is not: do not say the action is missing
    from mlwf.offline.unmodelled_actions import unmodelled_actions_refused

    rds = boto3.client("rds", region_name="us-east-1")
    with unmodelled_actions_refused(), pytest.raises(ClientError) as refused:
        rds.describe_db_instances(Filters=[{"Name": "domain", "Values": ["x"]}])
    response = refused.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert "is not modelled by the offline stack" not in response["Error"]["Message"]
    assert response["Error"]["Message"].endswith(
        "(moto, the offline stack's engine, does not implement it)"
    )


def test_over_http_the_sdk_does_not_retry_it():
    # moto's 500 was retried four times by the CLI's standard retry mode
    from moto.server import ThreadedMotoServer

    from mlwf.offline.unmodelled_actions import unmodelled_actions_refused

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        sfn = boto3.client(
            "stepfunctions",
            region_name="us-east-1",
            endpoint_url=f"http://{host}:{port}",
            aws_access_key_id="k",
            aws_secret_access_key="s",
            config=Config(retries={"mode": "standard", "max_attempts": 5}),
        )
        with unmodelled_actions_refused(), pytest.raises(ClientError) as refused:
            sfn.redrive_execution(executionArn=EXECUTION)
    finally:
        server.stop()
    metadata = refused.value.response["ResponseMetadata"]
    assert (metadata["HTTPStatusCode"], metadata["RetryAttempts"]) == (501, 0)


@pytest.fixture
def served() -> Iterator[str]:
    """moto's server, started as the offline stack starts it: with the refusals on."""
    from moto.server import ThreadedMotoServer

    from mlwf.offline.unmodelled_actions import unmodelled_actions_refused

    with unmodelled_actions_refused():
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            yield f"http://{host}:{port}"
        finally:
            server.stop()


def lambda_client(endpoint_url: str) -> Any:
    """Lambda over HTTP, retrying as the AWS CLI does (standard mode)."""
    return boto3.client(
        "lambda",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="k",
        aws_secret_access_key="s",
        config=Config(retries={"mode": "standard", "max_attempts": 5}),
    )


def test_a_rest_action_moto_has_no_route_for_is_a_501_naming_it(served):
    # moto's server answered `aws lambda get-account-settings` with a 404 HTML page
    lam = lambda_client(served)
    with pytest.raises(ClientError) as refused:
        lam.get_account_settings()
    error, metadata = refused.value.response["Error"], refused.value.response["ResponseMetadata"]
    assert error["Code"] == "NotImplemented"
    assert error["Message"].startswith("GetAccountSettings (lambda) is not modelled")
    assert (metadata["HTTPStatusCode"], metadata["RetryAttempts"]) == (501, 0)
    # and what moto routes still reaches moto
    assert lam.list_functions()["Functions"] == []


def test_a_path_no_action_has_is_a_404_in_the_services_protocol(served):
    import urllib.request
    from urllib.error import HTTPError

    scope = "k/20261201/us-east-1/lambda/aws4_request"  # moto picks the service from it
    request = urllib.request.Request(
        f"{served}/2015-03-31/no-such-thing",
        headers={"Authorization": f"AWS4-HMAC-SHA256 Credential={scope}"},
    )
    with pytest.raises(HTTPError) as answered:
        urllib.request.urlopen(request)
    assert answered.value.code == 404
    assert json.loads(answered.value.read()) == {
        "__type": "UnknownOperationException",
        "message": "Unknown operation: GET /2015-03-31/no-such-thing",
    }


def test_actions_that_share_a_path_are_told_apart_by_their_query(served):
    # Lambda's List... and Get... provisioned concurrency differ by `?List=ALL` alone; the
    # first version named Get... for a list
    lam = lambda_client(served)
    with pytest.raises(ClientError) as listed:
        lam.list_provisioned_concurrency_configs(FunctionName="f")
    with pytest.raises(ClientError) as got:
        lam.get_provisioned_concurrency_config(FunctionName="f", Qualifier="1")
    assert listed.value.response["Error"]["Message"].startswith(
        "ListProvisionedConcurrencyConfigs (lambda)"
    )
    assert got.value.response["Error"]["Message"].startswith(
        "GetProvisionedConcurrencyConfig (lambda)"
    )
