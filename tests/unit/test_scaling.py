"""Endpoint auto scaling in `mlwf deploy` and `mlwf teardown`, against moto's SageMaker, SSM
and Application Auto Scaling, with UpdateEndpoint modelled as SageMaker documents it for
scaled endpoints (tests/helpers/sagemaker_update.py)."""

from __future__ import annotations

from typing import Any

import pytest

from mlwf.cli import main
from tests.helpers.paths import REGION
from tests.helpers.sagemaker_stack import (
    DEPLOY_FLAGS,
    PARAMETER,
    PREFIX,
    ROLE_ARN,
    US_EAST_1_IMAGE,
    run_cli,
    settings,
)
from tests.helpers.sagemaker_update import patch_update_endpoint
from training_job import scaling
from training_job.deploy import deploy
from training_job.errors import MlwfError
from training_job.scaling import POLICY_NAME, ScalingConfig
from training_job.teardown import teardown

# each name made from the clock is new, as on AWS (tests/unit/conftest.py)
pytestmark = pytest.mark.usefixtures("ticking_names")

BUCKET = "images-bucket-scaling"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
CONFIG = ScalingConfig(min_instances=1, max_instances=4, target_invocations=600.0)


class Recorder:
    """Passes calls to a client and records their names, across clients, in one list."""

    def __init__(self, client: Any, calls: list[str]) -> None:
        self._client, self.calls = client, calls

    def __getattr__(self, attr: str) -> Any:
        target = getattr(self._client, attr)
        if not callable(target) or attr.startswith(("get_paginator", "describe", "list")):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(attr)
            return target(*args, **kwargs)

        return call


@pytest.fixture
def clients(aws: None) -> dict[str, Any]:
    import boto3

    session = boto3.Session(region_name=REGION)
    session.client("s3").create_bucket(Bucket=BUCKET)
    calls: list[str] = []
    sm = session.client("sagemaker")
    sm.create_training_job(
        TrainingJobName=f"{PREFIX}-job",
        RoleArn=ROLE_ARN,
        AlgorithmSpecification={"TrainingImage": US_EAST_1_IMAGE, "TrainingInputMode": "File"},
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/models/"},
        ResourceConfig={"InstanceType": "ml.g4dn.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    return {
        "sm": Recorder(sm, calls),
        "ssm": session.client("ssm"),
        "aas": Recorder(session.client("application-autoscaling"), calls),
        "raw_aas": session.client("application-autoscaling"),
        "raw_sm": sm,
        "calls": calls,
    }


@pytest.fixture
def updates(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    return patch_update_endpoint(monkeypatch)


def run_deploy(clients: dict[str, Any], **kwargs: Any) -> Any:
    return deploy(
        clients["sm"],
        clients["ssm"],
        settings(bucket=BUCKET),
        aas=clients["aas"],
        poll_interval=0,
        drain_seconds=0,
        echo=lambda _: None,
        **kwargs,
    )


def targets(aas: Any) -> dict[str, tuple[int, int]]:
    found = aas.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    return {t["ResourceId"]: (t["MinCapacity"], t["MaxCapacity"]) for t in found}


def policies(aas: Any) -> dict[tuple[str, str], dict[str, Any]]:
    found = aas.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"]
    return {(p["ResourceId"], p["PolicyName"]): p for p in found}


def desired_count(sm: Any, endpoint: str) -> int:
    variants = sm.describe_endpoint(EndpointName=endpoint)["ProductionVariants"]
    return int(variants[0]["DesiredInstanceCount"])


def rid(endpoint: str) -> str:
    return f"endpoint/{endpoint}/variant/AllTraffic"


# ---------------------------------------------------------------- requests


def test_requests_are_exact() -> None:
    assert scaling.register_target_request(rid("ep"), CONFIG) == {
        "ServiceNamespace": "sagemaker",
        "ResourceId": "endpoint/ep/variant/AllTraffic",
        "ScalableDimension": DIMENSION,
        "MinCapacity": 1,
        "MaxCapacity": 4,
    }
    assert scaling.put_policy_request(rid("ep"), CONFIG) == {
        "PolicyName": POLICY_NAME,
        "ServiceNamespace": "sagemaker",
        "ResourceId": "endpoint/ep/variant/AllTraffic",
        "ScalableDimension": DIMENSION,
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": 600.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
        },
    }


def test_the_default_target_follows_sagemakers_load_test_formula() -> None:
    # (MAX_RPS * SAFETY_FACTOR) * 60, SAFETY_FACTOR 0.5 (endpoint-scaling-loadtest.html)
    assert scaling.DEFAULT_TARGET_INVOCATIONS == scaling.ASSUMED_MAX_RPS * 0.5 * 60 == 600


# ---------------------------------------------------------------- deploy, redeploy, teardown


def test_deploy_with_scaling_registers_the_variant_and_tracks_invocations(
    clients: dict[str, Any],
) -> None:
    result = run_deploy(clients, autoscaling=CONFIG)
    endpoint = result.endpoint_name
    assert targets(clients["raw_aas"]) == {rid(endpoint): (1, 4)}
    policy = policies(clients["raw_aas"])[(rid(endpoint), POLICY_NAME)]
    assert policy["PolicyType"] == "TargetTrackingScaling"
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["TargetValue"] == 600.0
    metric = tracking["PredefinedMetricSpecification"]["PredefinedMetricType"]
    assert metric == "SageMakerVariantInvocationsPerInstance"
    # Registered only once the endpoint exists and the parameter names it.
    calls = clients["calls"]
    assert calls.index("create_endpoint") < calls.index("register_scalable_target")
    assert result.scaling.startswith("1-4 instances, target 600 invocations")


def test_deploy_without_scaling_registers_nothing(clients: dict[str, Any]) -> None:
    run_deploy(clients)
    assert targets(clients["raw_aas"]) == {}


def test_redeploy_of_a_new_model_keeps_scaling_and_the_scaled_instance_count(
    clients: dict[str, Any], updates: dict[str, Any]
) -> None:
    endpoint = run_deploy(clients, autoscaling=CONFIG).endpoint_name
    # Given auto scaling took the variant to 3 instances
    clients["raw_sm"].update_endpoint_weights_and_capacities(
        EndpointName=endpoint,
        DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": 3}],
    )
    clients["calls"].clear()
    # When a new model is deployed with no scaling flag
    result = run_deploy(clients)
    # Then the update retains the count, and the target is never deregistered
    assert result.action == "updated"
    assert [call[2] for call in updates["calls"]] == [True]
    assert desired_count(clients["raw_sm"], endpoint) == 3
    assert "deregister_scalable_target" not in clients["calls"]
    assert targets(clients["raw_aas"]) == {rid(endpoint): (1, 4)}
    assert (rid(endpoint), POLICY_NAME) in policies(clients["raw_aas"])


def test_redeploy_on_another_instance_type_deregisters_first_and_registers_again(
    clients: dict[str, Any], updates: dict[str, Any]
) -> None:
    endpoint = run_deploy(clients, autoscaling=CONFIG).endpoint_name
    clients["calls"].clear()
    result = run_deploy(clients, instance_type="ml.c5.large")
    calls = clients["calls"]
    assert result.action == "updated"
    assert calls.index("delete_scaling_policy") < calls.index("deregister_scalable_target")
    assert calls.index("deregister_scalable_target") < calls.index("update_endpoint")
    assert calls.index("update_endpoint") < calls.index("register_scalable_target")
    assert calls.index("register_scalable_target") < calls.index("put_scaling_policy")
    assert targets(clients["raw_aas"]) == {rid(endpoint): (1, 4)}
    assert (rid(endpoint), POLICY_NAME) in policies(clients["raw_aas"])


def test_redeploy_with_new_bounds_updates_the_target(
    clients: dict[str, Any], updates: dict[str, Any]
) -> None:
    endpoint = run_deploy(clients, autoscaling=CONFIG).endpoint_name
    run_deploy(clients, autoscaling=ScalingConfig(2, 6, 900.0), instance_count=2)
    assert targets(clients["raw_aas"]) == {rid(endpoint): (2, 6)}
    policy = policies(clients["raw_aas"])[(rid(endpoint), POLICY_NAME)]
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 900.0


def test_a_rolled_back_update_gets_its_scaling_back(
    clients: dict[str, Any], updates: dict[str, Any]
) -> None:
    endpoint = run_deploy(clients, autoscaling=CONFIG).endpoint_name
    updates["fail"] = "The primary container failed the ping health check."
    with pytest.raises(MlwfError, match="ping health check"):
        run_deploy(clients, instance_type="ml.c5.large")
    assert targets(clients["raw_aas"]) == {rid(endpoint): (1, 4)}
    assert (rid(endpoint), POLICY_NAME) in policies(clients["raw_aas"])


def test_no_autoscaling_removes_ours(clients: dict[str, Any], updates: dict[str, Any]) -> None:
    run_deploy(clients, autoscaling=CONFIG)
    result = run_deploy(clients, remove_autoscaling=True)
    assert targets(clients["raw_aas"]) == {}
    assert policies(clients["raw_aas"]) == {}
    assert result.scaling.startswith("removed: scaling policy")


def test_a_replaced_endpoint_hands_its_scaling_to_the_new_one(clients: dict[str, Any]) -> None:
    """Plain moto has no UpdateEndpoint: the endpoint is replaced; its scaling moves."""
    old = run_deploy(clients, autoscaling=CONFIG).endpoint_name
    result = run_deploy(clients)
    assert result.action == "replaced"
    assert targets(clients["raw_aas"]) == {rid(result.endpoint_name): (1, 4)}
    assert set(policies(clients["raw_aas"])) == {(rid(result.endpoint_name), POLICY_NAME)}
    assert old not in str(targets(clients["raw_aas"]))


def register_foreign(aas: Any, endpoint: str) -> None:
    aas.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=rid(endpoint),
        ScalableDimension=DIMENSION,
        MinCapacity=1,
        MaxCapacity=2,
    )
    aas.put_scaling_policy(
        PolicyName="theirs",
        ServiceNamespace="sagemaker",
        ResourceId=rid(endpoint),
        ScalableDimension=DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 70.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
        },
    )


def test_scaling_mlwf_did_not_register_is_never_touched(
    clients: dict[str, Any], updates: dict[str, Any]
) -> None:
    endpoint = run_deploy(clients).endpoint_name
    register_foreign(clients["raw_aas"], endpoint)
    models = clients["raw_sm"].list_models()["Models"]
    with pytest.raises(MlwfError, match="not by mlwf.*theirs.*nothing was changed"):
        run_deploy(clients, autoscaling=CONFIG)
    with pytest.raises(MlwfError, match="policies mlwf did not put.*nothing was changed"):
        run_deploy(clients, instance_type="ml.c5.large")
    assert clients["raw_sm"].list_models()["Models"] == models
    report = teardown(
        clients["sm"], clients["ssm"], parameter_name=PARAMETER, aas=clients["aas"], echo=print
    )
    assert targets(clients["raw_aas"]) == {rid(endpoint): (1, 2)}
    assert set(policies(clients["raw_aas"])) == {(rid(endpoint), "theirs")}
    assert any("theirs" in note for note in report.notes)


def test_teardown_removes_our_scaling_before_the_endpoint(clients: dict[str, Any]) -> None:
    endpoint = run_deploy(clients, autoscaling=CONFIG).endpoint_name
    clients["calls"].clear()
    report = teardown(
        clients["sm"], clients["ssm"], parameter_name=PARAMETER, aas=clients["aas"], echo=print
    )
    calls = clients["calls"]
    assert calls.index("deregister_scalable_target") < calls.index("delete_endpoint")
    assert report.deleted[:2] == [
        f"scaling policy {POLICY_NAME}",
        f"scalable target {rid(endpoint)}",
    ]
    assert targets(clients["raw_aas"]) == {}
    assert policies(clients["raw_aas"]) == {}


# ---------------------------------------------------------------- command line


def test_cli_deploy_with_scaling_redeploy_and_teardown(
    clients: dict[str, Any], updates: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["deploy", *DEPLOY_FLAGS, "--max-instances", "3"], capsys)
    assert (code, err) == (0, "")
    name = "image-classification-20260102-030405-000"
    assert "auto scaling     1-3 instances, target 600 invocations per instance" in out
    code, out, err = run_cli(["deploy", *DEPLOY_FLAGS, "--instance-type", "ml.c5.large"], capsys)
    assert (code, err) == (0, "")
    assert "updated in place" in out
    assert "auto scaling     1-3 instances" in out
    assert "deregistered for the instance type change, then registered again" in out
    teardown_flags = ["--bucket", BUCKET, "--parameter-name", PARAMETER, "--region", REGION]
    code, out, err = run_cli(["teardown", *teardown_flags, "--yes"], capsys)
    assert (code, err) == (0, "")
    assert f"deleted    scaling policy {POLICY_NAME}" in out
    assert f"deleted    scalable target {rid(name)}" in out
    assert targets(clients["raw_aas"]) == {}


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--max-instances", "2", "--min-instances", "3"], "--min-instances 3 is more than"),
        (["--max-instances", "2", "--instance-count", "3"], "--instance-count 3 is more than"),
        (
            ["--max-instances", "4", "--min-instances", "2"],
            "--instance-count 1 is outside --min-instances 2 .. --max-instances 4",
        ),
        (["--min-instances", "2"], "--min-instances need --max-instances M"),
        (
            ["--target-invocations-per-instance", "100"],
            "--target-invocations-per-instance need --max-instances M",
        ),
        (["--no-autoscaling", "--max-instances", "2"], "--no-autoscaling cannot be combined"),
    ],
)
def test_cli_bad_scaling_flags_are_one_line_errors_before_any_call(
    flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # No moto, no stack: the flags are refused before any AWS call could be made.
    code, out, err = run_cli(["deploy", *DEPLOY_FLAGS, *flags], capsys)
    assert code == 1
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("mlwf deploy: error: ") and message in err, err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--max-instances", "0"], "must be at least 1"),
        (["--target-invocations-per-instance", "-5"], "must be more than 0"),
        (["--target-invocations-per-instance", "many"], "expected a number"),
    ],
)
def test_cli_bad_scaling_numbers_are_usage_errors(
    flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["deploy", *flags])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


class Denied:
    """An application-autoscaling client for a user without its permissions."""

    def __init__(self, code: str) -> None:
        self.code = code

    def describe_scalable_targets(self, **_: Any) -> Any:
        from botocore.exceptions import ClientError

        error = {"Error": {"Code": self.code, "Message": "not authorized"}}
        raise ClientError(error, "DescribeScalableTargets")


def test_a_user_who_may_not_read_scaling_is_told_and_not_stopped() -> None:
    notes: list[str] = []
    current = scaling.read(Denied("AccessDeniedException"), "ep", "AllTraffic", notes)
    assert not current.registered
    assert notes == ["could not read the auto scaling of ep (AccessDeniedException); assumed none"]
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError):
        scaling.read(Denied("ThrottlingException"), "ep", "AllTraffic", notes)
