"""`mlwf deploy` against moto's SageMaker and SSM: the model, the endpoint config's data
capture, the endpoint's name, which training job is picked, and the redeploy paths. A guard
wraps the clients and checks after every single call that the SSM parameter never names an
endpoint that is missing or not InService."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers.paths import REGION
from tests.helpers.sagemaker_stack import (
    BUCKET,
    PARAMETER,
    PREFIX,
    ROLE_ARN,
    US_EAST_1_IMAGE,
    assert_one_line_error,
    make_job,
    moto_backend,
    moto_clients,
    names,
    run_cli,
    settings,
    tick_names,
)
from training_job import endpoint_requests, rollout
from training_job.deploy import deploy
from training_job.errors import MlwfError

DEPLOY_FLAGS = [
    "--bucket",
    BUCKET,
    "--role-arn",
    ROLE_ARN,
    "--parameter-name",
    PARAMETER,
    "--endpoint-prefix",
    PREFIX,
    "--region",
    REGION,
    "--poll-interval",
    "0",
]
EXPECTED_CAPTURE = {
    "EnableCapture": True,
    "InitialSamplingPercentage": 100,
    "DestinationS3Uri": f"s3://{BUCKET}/data_capture/",
    "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    "CaptureContentTypeHeader": {"JsonContentTypes": ["application/json"]},
}
T0 = datetime(2026, 1, 1, tzinfo=UTC)


# ---------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def ticking_names(monkeypatch: pytest.MonkeyPatch) -> None:
    tick_names(monkeypatch)


@pytest.fixture
def clients(aws: None) -> dict[str, Any]:
    return moto_clients()


def artifact(job: str) -> str:
    return f"s3://{BUCKET}/models/{job}/output/model.tar.gz"


class Guarded:
    """Passes every call to the real client, then checks the invariant: the SSM parameter is
    absent or names an InService endpoint. `describe_endpoint` can be overridden."""

    def __init__(self, client: Any, sm: Any, ssm: Any, describe_endpoint: Any = None) -> None:
        self._client, self._sm, self._ssm = client, sm, ssm
        self._describe_endpoint = describe_endpoint
        self.calls: list[str] = []

    def __getattr__(self, attr: str) -> Any:
        if attr == "describe_endpoint" and self._describe_endpoint is not None:
            target = self._describe_endpoint
        else:
            target = getattr(self._client, attr)
        if not callable(target) or attr == "get_paginator":
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return target(*args, **kwargs)
            finally:
                self.calls.append(attr)
                check_parameter(self._sm, self._ssm, after=attr)

        return call


def check_parameter(sm: Any, ssm: Any, after: str = "") -> str | None:
    try:
        value = ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None
    status = sm.describe_endpoint(EndpointName=value)["EndpointStatus"]  # raises when missing
    assert status == "InService", f"after {after}: parameter names {value} ({status})"
    return str(value)


def guarded(clients: dict[str, Any], describe_endpoint: Any = None) -> tuple[Guarded, Guarded]:
    sm, ssm = clients["sm"], clients["ssm"]
    return (
        Guarded(sm, sm, ssm, describe_endpoint=describe_endpoint),
        Guarded(ssm, sm, ssm),
    )


@pytest.fixture
def update_endpoint_in_moto(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Give moto the UpdateEndpoint it lacks: switch the endpoint to the new config at once,
    or, with behaviour["fail"] set, roll back like SageMaker (old config, FailureReason)."""
    from moto.core.responses import ActionResult
    from moto.sagemaker.responses import SageMakerResponse

    behaviour: dict[str, Any] = {"fail": None, "calls": []}

    def update_endpoint(self: Any) -> ActionResult:
        backend = self.sagemaker_backend
        endpoint = backend.endpoints[self._get_param("EndpointName")]
        config_name = self._get_param("EndpointConfigName")
        config = backend.describe_endpoint_config(config_name)
        behaviour["calls"].append((endpoint.endpoint_name, config_name))
        if behaviour["fail"]:
            endpoint.failure_reason = behaviour["fail"]
        else:
            endpoint.endpoint_config_name = config_name
            endpoint.production_variants = endpoint._process_production_variants(
                config["ProductionVariants"]
            )
            endpoint.data_capture_config = config["DataCaptureConfig"]
        return ActionResult({"EndpointArn": endpoint.arn})

    monkeypatch.setattr(SageMakerResponse, "update_endpoint", update_endpoint, raising=False)
    return behaviour


def no_sleep(seconds: float) -> None:
    raise AssertionError(f"slept {seconds} s")


def quiet(_: str) -> None:
    pass


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


# ---------------------------------------------------------------- redeploys


def first_deploy(clients: dict[str, Any]) -> str:
    make_job(clients["sm"], f"{PREFIX}-job-1", created=T0)
    result = deploy(clients["sm"], clients["ssm"], settings(), echo=quiet)
    make_job(clients["sm"], f"{PREFIX}-job-2", created=T0 + timedelta(hours=1))
    return result.endpoint_name


def test_redeploy_updates_the_endpoint_in_place(
    clients: dict[str, Any], update_endpoint_in_moto: dict[str, Any]
) -> None:
    old = first_deploy(clients)
    sm, ssm = guarded(clients)
    result = deploy(sm, ssm, settings(), sleep=no_sleep, echo=quiet)

    new = "image-classification-20260102-030406-000"
    assert update_endpoint_in_moto["calls"] == [(old, new)]
    assert result.action == "updated"
    assert result.training_job_name == f"{PREFIX}-job-2"
    assert (result.endpoint_name, result.endpoint_config_name, result.model_name) == (old, new, new)
    assert clients["sm"].describe_endpoint(EndpointName=old)["EndpointConfigName"] == new
    assert check_parameter(clients["sm"], clients["ssm"]) == old
    # The old config and model go only after the update, never the endpoint.
    assert result.deleted == [f"endpoint config {old}", f"model {old}"]
    assert sm.calls.index("update_endpoint") < sm.calls.index("delete_endpoint_config")
    assert names(clients) == {"endpoints": [old], "configs": [new], "models": [new]}
    model = clients["sm"].describe_model(ModelName=new)
    assert model["PrimaryContainer"]["ModelDataUrl"] == artifact(f"{PREFIX}-job-2")


def test_failed_update_is_rolled_back(
    clients: dict[str, Any], update_endpoint_in_moto: dict[str, Any]
) -> None:
    old = first_deploy(clients)
    update_endpoint_in_moto["fail"] = "The primary container failed the ping health check."
    sm, ssm = guarded(clients)
    with pytest.raises(MlwfError, match="failed the ping health check.*parameter is unchanged"):
        deploy(sm, ssm, settings(), sleep=no_sleep, echo=quiet)
    assert check_parameter(clients["sm"], clients["ssm"]) == old
    assert names(clients) == {"endpoints": [old], "configs": [old], "models": [old]}


def test_an_update_that_cannot_be_watched_keeps_the_config_it_rolls_onto(
    clients: dict[str, Any], update_endpoint_in_moto: dict[str, Any]
) -> None:
    # Given an UpdateEndpoint that went through, then DescribeEndpoint failing (throttled)
    from botocore.exceptions import ClientError

    old = first_deploy(clients)
    real = clients["sm"]

    def describe_endpoint(EndpointName: str) -> dict[str, Any]:  # noqa: N803
        if update_endpoint_in_moto["calls"]:
            error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
            raise ClientError(error, "DescribeEndpoint")
        return dict(real.describe_endpoint(EndpointName=EndpointName))

    # When the redeploy gives up waiting
    with pytest.raises(ClientError, match="Rate exceeded"):
        sm = Guarded(real, real, clients["ssm"], describe_endpoint)
        deploy(sm, clients["ssm"], settings(), sleep=no_sleep, echo=quiet)
    # Then the config and model the endpoint is updating to are still there
    new = "image-classification-20260102-030406-000"
    assert update_endpoint_in_moto["calls"] == [(old, new)]
    assert names(clients) == {"endpoints": [old], "configs": [old, new], "models": [old, new]}


def test_redeploy_without_update_endpoint_replaces_after_draining(
    clients: dict[str, Any],
) -> None:
    """Plain moto has no UpdateEndpoint: a new endpoint, then the parameter, then (after the
    drain) the old endpoint is deleted."""
    old = first_deploy(clients)
    sm, ssm = guarded(clients)
    seen_at_sleep: list[tuple[float, str | None, list[str]]] = []

    def sleep(seconds: float) -> None:
        endpoints = names(clients)["endpoints"]
        seen_at_sleep.append((seconds, check_parameter(clients["sm"], clients["ssm"]), endpoints))

    result = deploy(sm, ssm, settings(), sleep=sleep, echo=quiet)
    new = "image-classification-20260102-030406-000"
    assert result.action == "replaced"
    assert (result.endpoint_name, result.previous_endpoint) == (new, old)
    # While draining, the parameter already names the new endpoint and the old one still runs.
    assert seen_at_sleep == [(rollout.DRAIN_SECONDS, new, sorted([old, new]))]
    assert rollout.DRAIN_SECONDS >= 60 + 30  # SSM cache TTL + the function's timeout
    assert result.deleted == [f"endpoint {old}", f"endpoint config {old}", f"model {old}"]
    assert check_parameter(clients["sm"], clients["ssm"]) == new
    assert names(clients) == {"endpoints": [new], "configs": [new], "models": [new]}


def test_drain_can_be_skipped(clients: dict[str, Any]) -> None:
    first_deploy(clients)
    result = deploy(
        clients["sm"], clients["ssm"], settings(), drain_seconds=0, sleep=no_sleep, echo=quiet
    )
    assert result.action == "replaced"


def test_parameter_naming_a_missing_endpoint_is_repaired(clients: dict[str, Any]) -> None:
    make_job(clients["sm"], f"{PREFIX}-job")
    clients["ssm"].put_parameter(Name=PARAMETER, Value=f"{PREFIX}-gone", Type="String")
    result = deploy(clients["sm"], clients["ssm"], settings(), sleep=no_sleep, echo=quiet)
    assert result.action == "created"
    assert check_parameter(clients["sm"], clients["ssm"]) == result.endpoint_name


def test_failed_old_endpoint_is_replaced_without_draining(clients: dict[str, Any]) -> None:
    old = first_deploy(clients)
    moto_backend().endpoints[old].endpoint_status = "Failed"
    clients["ssm"].delete_parameter(Name=PARAMETER)  # a Failed endpoint is never named...
    clients["ssm"].put_parameter(Name=PARAMETER, Value=old, Type="String")  # ...unless it broke
    result = deploy(clients["sm"], clients["ssm"], settings(), sleep=no_sleep, echo=quiet)
    assert result.action == "replaced"
    assert names(clients)["endpoints"] == [result.endpoint_name]


def test_parameter_naming_a_foreign_endpoint_leaves_it_alone(
    clients: dict[str, Any], update_endpoint_in_moto: dict[str, Any]
) -> None:
    make_job(clients["sm"], f"{PREFIX}-job")
    sm = clients["sm"]
    sm.create_model(ModelName="theirs", ExecutionRoleArn=ROLE_ARN, PrimaryContainer={"Image": "x"})
    sm.create_endpoint_config(
        EndpointConfigName="theirs",
        ProductionVariants=[
            {
                "VariantName": "v",
                "ModelName": "theirs",
                "InstanceType": "ml.t2.medium",
                "InitialInstanceCount": 1,
            }
        ],
    )
    sm.create_endpoint(EndpointName="someone-elses-endpoint", EndpointConfigName="theirs")
    clients["ssm"].put_parameter(Name=PARAMETER, Value="someone-elses-endpoint", Type="String")
    result = deploy(sm, clients["ssm"], settings(), sleep=no_sleep, echo=quiet)
    assert update_endpoint_in_moto["calls"] == []
    assert result.action == "created"
    assert result.left_alone and "someone-elses-endpoint" in result.left_alone[0]
    assert "someone-elses-endpoint" in names(clients)["endpoints"]
    assert check_parameter(sm, clients["ssm"]) == result.endpoint_name


def test_busy_endpoint_is_not_touched(clients: dict[str, Any]) -> None:
    old = first_deploy(clients)
    moto_backend().endpoints[old].endpoint_status = "Updating"
    with pytest.raises(MlwfError, match=f"endpoint {old} is Updating: wait"):
        deploy(clients["sm"], clients["ssm"], settings(), echo=quiet)
    assert names(clients) == {"endpoints": [old], "configs": [old], "models": [old]}


def test_new_endpoint_that_fails_is_cleaned_up_and_the_parameter_kept(
    clients: dict[str, Any],
) -> None:
    old = first_deploy(clients)
    real = clients["sm"]

    def describe_endpoint(EndpointName: str) -> dict[str, Any]:  # noqa: N803
        answer = real.describe_endpoint(EndpointName=EndpointName)
        if EndpointName != old:
            answer.update(EndpointStatus="Failed", FailureReason="Image pull failed")
        return answer

    sm, ssm = guarded(clients, describe_endpoint=describe_endpoint)
    with pytest.raises(MlwfError, match=f"failed: Image pull failed .*still names {old}"):
        deploy(sm, ssm, settings(), sleep=no_sleep, echo=quiet)
    assert check_parameter(real, clients["ssm"]) == old
    assert names(clients) == {"endpoints": [old], "configs": [old], "models": [old]}


def test_endpoint_wait_reports_progress_and_times_out() -> None:
    class Creating:
        def describe_endpoint(self, EndpointName: str) -> dict[str, Any]:  # noqa: N803
            return {"EndpointStatus": "Creating"}

    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    lines: list[str] = []
    from training_job.sagemaker_io import wait_for_endpoint

    with pytest.raises(MlwfError, match="still Creating after 2m 00s.*not changed"):
        wait_for_endpoint(
            Creating(),
            "ep",
            poll_interval=30,
            sleep=sleep,
            clock=lambda: now[0],
            timeout=120,
            echo=lines.append,
        )
    assert sleeps == [30, 30, 30, 30]
    assert lines == ["  [       0s] endpoint ep: Creating"]


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
