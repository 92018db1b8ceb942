"""`mlwf deploy` again, against moto's SageMaker and SSM (training_job/rollout.py): updated in
place, rolled back, replaced after draining where UpdateEndpoint is missing, repaired, left
alone, cleaned up. A guard wraps the clients and checks after every single call that the SSM
parameter never names an endpoint that is missing or not InService."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers.deploy_guard import (
    Guarded,
    artifact,
    check_parameter,
    guarded,
)
from tests.helpers.sagemaker_stack import (
    PARAMETER,
    PREFIX,
    ROLE_ARN,
    make_job,
    moto_backend,
    names,
    no_sleep,
    quiet,
    settings,
)
from training_job import rollout
from training_job.deploy import deploy
from training_job.errors import MlwfError

# each name made from the clock is new, as on AWS (tests/unit/conftest.py)
pytestmark = pytest.mark.usefixtures("ticking_names")

T0 = datetime(2026, 1, 1, tzinfo=UTC)


# ---------------------------------------------------------------- helpers


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
