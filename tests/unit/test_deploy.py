"""`mlwf deploy` against moto's SageMaker and SSM: the model and endpoint config requests
(with data capture), a first deploy, the endpoint's name, which training job is picked, and
the command line. The redeploy paths are in test_rollout.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers.deploy_guard import (
    artifact,
    guarded,
)
from tests.helpers.sagemaker_stack import (
    BUCKET,
    DEPLOY_FLAGS,
    PARAMETER,
    PREFIX,
    ROLE_ARN,
    US_EAST_1_IMAGE,
    assert_one_line_error,
    make_job,
    names,
    no_sleep,
    quiet,
    run_cli,
    settings,
)
from training_job import endpoint_requests
from training_job.deploy import deploy
from training_job.errors import MlwfError

# each name made from the clock is new, as on AWS (tests/unit/conftest.py)
pytestmark = pytest.mark.usefixtures("ticking_names")

EXPECTED_CAPTURE = {
    "EnableCapture": True,
    "InitialSamplingPercentage": 100,
    "DestinationS3Uri": f"s3://{BUCKET}/data_capture/",
    "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    "CaptureContentTypeHeader": {"JsonContentTypes": ["application/json"]},
}
T0 = datetime(2026, 1, 1, tzinfo=UTC)


# ---------------------------------------------------------------- helpers


# ---------------------------------------------------------------- requests


def test_endpoint_config_request_is_exact() -> None:
    request = endpoint_requests.build_endpoint_config_request(
        "cfg", model_name="model", bucket=BUCKET, instance_type="ml.c5.large", instance_count=2
    )
    assert request == {
        "EndpointConfigName": "cfg",
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",
                "ModelName": "model",
                "InitialInstanceCount": 2,
                "InstanceType": "ml.c5.large",
                "InitialVariantWeight": 1.0,
            }
        ],
        "DataCaptureConfig": EXPECTED_CAPTURE,
    }
    with pytest.raises(MlwfError, match="at least 1"):
        endpoint_requests.build_endpoint_config_request(
            "c", model_name="m", bucket=BUCKET, instance_count=0
        )


def test_model_request_is_exact() -> None:
    assert endpoint_requests.build_model_request(
        "m", image=US_EAST_1_IMAGE, model_data_url=artifact("job"), role_arn=ROLE_ARN
    ) == {
        "ModelName": "m",
        "PrimaryContainer": {"Image": US_EAST_1_IMAGE, "ModelDataUrl": artifact("job")},
        "ExecutionRoleArn": ROLE_ARN,
    }


# ---------------------------------------------------------------- first deploy


def test_first_deploy(clients: dict[str, Any]) -> None:
    job = make_job(clients["sm"], f"{PREFIX}-20260101-000000-000")
    sm, ssm = guarded(clients)
    result = deploy(sm, ssm, settings(), sleep=no_sleep, echo=quiet)

    name = "image-classification-20260102-030405-000"
    assert (result.endpoint_name, result.endpoint_config_name, result.model_name) == (name,) * 3
    assert result.action == "created"
    assert result.training_job_name == job
    real = clients["sm"]
    model = real.describe_model(ModelName=name)
    assert model["PrimaryContainer"] == {"Image": US_EAST_1_IMAGE, "ModelDataUrl": artifact(job)}
    assert model["ExecutionRoleArn"] == ROLE_ARN
    config = real.describe_endpoint_config(EndpointConfigName=name)
    assert config["DataCaptureConfig"] == EXPECTED_CAPTURE
    assert config["ProductionVariants"] == [
        {
            "VariantName": "AllTraffic",
            "ModelName": name,
            "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large",
            "InitialVariantWeight": 1.0,
        }
    ]
    endpoint = real.describe_endpoint(EndpointName=name)
    assert endpoint["EndpointConfigName"] == name
    assert endpoint["EndpointStatus"] == "InService"
    parameter = clients["ssm"].get_parameter(Name=PARAMETER)["Parameter"]
    assert (parameter["Value"], parameter["Type"]) == (name, "String")
    # The parameter is written once, after the endpoint was waited for.
    assert ssm.calls == ["get_parameter", "put_parameter"]
    assert sm.calls.index("create_endpoint") < sm.calls.index("describe_endpoint")
    assert names(clients) == {"endpoints": [name], "configs": [name], "models": [name]}


def test_endpoint_name_has_the_stack_prefix(clients: dict[str, Any]) -> None:
    make_job(clients["sm"], "my-prefix-20260101-000000-000")
    result = deploy(
        clients["sm"], clients["ssm"], settings(endpoint_prefix="my-prefix"), echo=quiet
    )
    assert result.endpoint_name == "my-prefix-20260102-030405-000"


@pytest.mark.parametrize(
    ("prefix", "message"), [("Upper", "lower-case"), ("x" * 45, "too long"), ("a_b", "lower-case")]
)
def test_unusable_prefix_creates_nothing(
    clients: dict[str, Any], prefix: str, message: str
) -> None:
    with pytest.raises(MlwfError, match=message):
        deploy(clients["sm"], clients["ssm"], settings(endpoint_prefix=prefix), echo=quiet)
    assert names(clients) == {"endpoints": [], "configs": [], "models": []}


# ---------------------------------------------------------------- which training job


def test_latest_completed_job_of_ours_is_the_default(clients: dict[str, Any]) -> None:
    sm = clients["sm"]
    make_job(sm, f"{PREFIX}-a", created=T0)
    expected = make_job(sm, f"{PREFIX}-b", created=T0 + timedelta(hours=1))
    make_job(sm, f"{PREFIX}-c", created=T0 + timedelta(hours=2), status="Failed")
    make_job(sm, "someone-else-d", created=T0 + timedelta(hours=3))
    make_job(
        sm,
        f"{PREFIX}-e",
        created=T0 + timedelta(hours=4),
        image="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
    )
    make_job(sm, f"not-{PREFIX}-f", created=T0 + timedelta(hours=5))
    result = deploy(sm, clients["ssm"], settings(), echo=quiet)
    assert result.training_job_name == expected
    assert result.model_data_url == artifact(expected)


def test_jobs_trained_without_a_stack_are_found_too(clients: dict[str, Any]) -> None:
    job = make_job(clients["sm"], "image-classification-20260101-000000-000")
    result = deploy(clients["sm"], clients["ssm"], settings(endpoint_prefix="custom"), echo=quiet)
    assert result.training_job_name == job
    assert result.endpoint_name.startswith("custom-")


def test_explicit_training_job(clients: dict[str, Any]) -> None:
    sm = clients["sm"]
    older = make_job(sm, "any-name-at-all", created=T0)
    make_job(sm, f"{PREFIX}-newer", created=T0 + timedelta(hours=1))
    result = deploy(sm, clients["ssm"], settings(), training_job=older, echo=quiet)
    assert result.training_job_name == older


@pytest.mark.parametrize(
    ("job_kwargs", "message"),
    [
        (
            {"status": "Failed", "failure_reason": "AlgorithmError: boom"},
            "is Failed: AlgorithmError: boom",
        ),
        ({"status": "InProgress"}, "is InProgress; only a Completed job deploys"),
        (
            {"image": "123.dkr.ecr.us-east-1.amazonaws.com/other:1"},
            "did not use the image-classification",
        ),
    ],
)
def test_explicit_training_job_must_be_deployable(
    clients: dict[str, Any], job_kwargs: dict[str, Any], message: str
) -> None:
    make_job(clients["sm"], "job-x", **job_kwargs)
    with pytest.raises(MlwfError, match=message):
        deploy(clients["sm"], clients["ssm"], settings(), training_job="job-x", echo=quiet)
    assert names(clients) == {"endpoints": [], "configs": [], "models": []}


def test_unknown_training_job(clients: dict[str, Any]) -> None:
    with pytest.raises(MlwfError, match="no training job named 'nope'"):
        deploy(clients["sm"], clients["ssm"], settings(), training_job="nope", echo=quiet)


def test_no_completed_job(clients: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    make_job(clients["sm"], f"{PREFIX}-failed", status="Failed")
    make_job(clients["sm"], "someone-else-1")
    code, _, err = run_cli(["deploy", *DEPLOY_FLAGS], capsys)
    assert_one_line_error(
        code,
        err,
        "mlwf deploy: error: no completed image-classification training job",
        "mlwf train",
    )
    assert names(clients) == {"endpoints": [], "configs": [], "models": []}


# ---------------------------------------------------------------- command line


def test_cli_deploy_twice(
    clients: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    update_endpoint_in_moto: dict[str, Any],
) -> None:
    job = make_job(clients["sm"], f"{PREFIX}-20260101-000000-000")
    code, out, err = run_cli(["deploy", *DEPLOY_FLAGS, "--instance-type", "ml.c5.large"], capsys)
    assert (code, err) == (0, "")
    name = "image-classification-20260102-030405-000"
    assert f"Deployed training job {job}" in out
    assert f"endpoint         {name} (InService; created)" in out
    assert "ml.c5.large x 1, capturing 100% of requests and responses" in out
    assert f"SSM parameter    {PARAMETER} = {name}" in out
    assert f"captured data    s3://{BUCKET}/data_capture/{name}/AllTraffic/" in out

    code, out, err = run_cli(["deploy", *DEPLOY_FLAGS, "--instance-count", "2"], capsys)
    assert (code, err) == (0, "")
    assert "updated in place" in out
    assert f"deleted          endpoint config {name}, model {name}" in out
    config = clients["sm"].describe_endpoint_config(
        EndpointConfigName="image-classification-20260102-030406-000"
    )
    assert config["ProductionVariants"][0]["InitialInstanceCount"] == 2
    assert config["ProductionVariants"][0]["InstanceType"] == "ml.m5.large"


def test_cli_bad_instance_count(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run_cli(["deploy", "--instance-count", "0"], capsys)
    assert "must be at least 1" in capsys.readouterr().err
