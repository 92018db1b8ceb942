"""Endpoint auto scaling for `mlwf deploy` and `mlwf teardown`: the endpoint's variant as an
Application Auto Scaling target, with one target-tracking policy on the predefined metric
SageMakerVariantInvocationsPerInstance.

https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-policy.html
https://docs.aws.amazon.com/autoscaling/application/userguide/services-that-can-integrate-sagemaker.html

What is ours: the policy mlwf puts is named POLICY_NAME. A scalable target carrying that
policy was registered by mlwf; mlwf deletes its own policy and deregisters such a target, and
never deletes a policy of another name. A target with policies mlwf did not put is left alone
(and reported), except that SageMaker's DeleteEndpoint deregisters it anyway when the caller
may: https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-delete-with-scaling.html
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from training_job.argtypes import positive_int
from training_job.errors import MlwfError

SERVICE_NAMESPACE = "sagemaker"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
PREDEFINED_METRIC = "SageMakerVariantInvocationsPerInstance"
POLICY_NAME = "mlwf-invocations-per-instance"

# SageMaker's load-testing guide sets the target as
#   SageMakerVariantInvocationsPerInstance = (MAX_RPS * SAFETY_FACTOR) * 60
# and recommends starting with SAFETY_FACTOR = 0.5.
# https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-loadtest.html
# MAX_RPS is what one instance serves before its latency climbs; only a load test on your
# account measures it. 20 requests a second for one ml.m5.large running the built-in
# ResNet-18 on 32x32 images is an assumption (not a measurement) on the low side, so that the
# default scales out early rather than late: (20 * 0.5) * 60 = 600 invocations a minute.
ASSUMED_MAX_RPS = 20
SAFETY_FACTOR = 0.5
DEFAULT_TARGET_INVOCATIONS = ASSUMED_MAX_RPS * SAFETY_FACTOR * 60
# Target tracking keeps at least one instance; scaling from zero needs step scaling
# (endpoint-auto-scaling-policy.html above), which this project does not use.
MIN_INSTANCES_FLOOR = 1


@dataclass(frozen=True)
class ScalingConfig:
    min_instances: int
    max_instances: int
    target_invocations: float  # per instance per minute

    def describe(self) -> str:
        return (
            f"{self.min_instances}-{self.max_instances} instances, target "
            f"{self.target_invocations:g} invocations per instance per minute"
        )


@dataclass
class CurrentScaling:
    """The scalable target registered for an endpoint's variant, if any, and its policies."""

    resource_id: str
    min_instances: int | None = None  # None: no scalable target
    max_instances: int | None = None
    policies: list[str] = field(default_factory=list)
    target_invocations: float | None = None  # our policy's target value

    @property
    def registered(self) -> bool:
        return self.min_instances is not None

    @property
    def ours(self) -> bool:
        return POLICY_NAME in self.policies

    @property
    def foreign_policies(self) -> list[str]:
        return [p for p in self.policies if p != POLICY_NAME]

    def config(self) -> ScalingConfig | None:
        """Our configuration as registered, to carry over to a replacement endpoint."""
        if not (self.registered and self.ours and self.target_invocations is not None):
            return None
        return ScalingConfig(
            int(self.min_instances or MIN_INSTANCES_FLOOR),
            int(self.max_instances or MIN_INSTANCES_FLOOR),
            float(self.target_invocations),
        )


def resource_id(endpoint_name: str, variant_name: str) -> str:
    return f"endpoint/{endpoint_name}/variant/{variant_name}"


# ---------------------------------------------------------------- requests


def register_target_request(rid: str, config: ScalingConfig) -> dict[str, Any]:
    return {
        "ServiceNamespace": SERVICE_NAMESPACE,
        "ResourceId": rid,
        "ScalableDimension": SCALABLE_DIMENSION,
        "MinCapacity": config.min_instances,
        "MaxCapacity": config.max_instances,
    }


def put_policy_request(rid: str, config: ScalingConfig) -> dict[str, Any]:
    """Target tracking on invocations per instance; the cooldowns are left to Application
    Auto Scaling's defaults for SageMaker variants."""
    return {
        "PolicyName": POLICY_NAME,
        "ServiceNamespace": SERVICE_NAMESPACE,
        "ResourceId": rid,
        "ScalableDimension": SCALABLE_DIMENSION,
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": float(config.target_invocations),
            "PredefinedMetricSpecification": {"PredefinedMetricType": PREDEFINED_METRIC},
        },
    }


# ---------------------------------------------------------------- calls


def describe(aas: Any, endpoint_name: str, variant_name: str) -> CurrentScaling:
    rid = resource_id(endpoint_name, variant_name)
    current = CurrentScaling(rid)
    targets = aas.describe_scalable_targets(
        ServiceNamespace=SERVICE_NAMESPACE, ResourceIds=[rid], ScalableDimension=SCALABLE_DIMENSION
    )["ScalableTargets"]
    for target in targets:
        if target["ResourceId"] == rid:
            current.min_instances = int(target["MinCapacity"])
            current.max_instances = int(target["MaxCapacity"])
    paginator = aas.get_paginator("describe_scaling_policies")
    for page in paginator.paginate(
        ServiceNamespace=SERVICE_NAMESPACE, ResourceId=rid, ScalableDimension=SCALABLE_DIMENSION
    ):
        for policy in page["ScalingPolicies"]:
            if policy["ResourceId"] != rid:  # moto matches resource ids by substring
                continue
            current.policies.append(policy["PolicyName"])
            if policy["PolicyName"] == POLICY_NAME:
                tracking = policy.get("TargetTrackingScalingPolicyConfiguration") or {}
                if "TargetValue" in tracking:
                    current.target_invocations = float(tracking["TargetValue"])
    return current


def apply(aas: Any, endpoint_name: str, variant_name: str, config: ScalingConfig) -> None:
    """Register (or update: RegisterScalableTarget on a registered target changes its
    bounds) and put our target-tracking policy (PutScalingPolicy replaces one of the same
    name)."""
    rid = resource_id(endpoint_name, variant_name)
    aas.register_scalable_target(**register_target_request(rid, config))
    aas.put_scaling_policy(**put_policy_request(rid, config))


def remove_ours(aas: Any, current: CurrentScaling) -> list[str]:
    """Delete our policy, then deregister the target when no other policy is on it; what was
    deleted, for humans. Policies mlwf did not put, and their target, stay."""
    deleted: list[str] = []
    if not current.registered and not current.ours:
        return deleted
    if current.ours:
        aas.delete_scaling_policy(
            PolicyName=POLICY_NAME,
            ServiceNamespace=SERVICE_NAMESPACE,
            ResourceId=current.resource_id,
            ScalableDimension=SCALABLE_DIMENSION,
        )
        deleted.append(f"scaling policy {POLICY_NAME}")
    if current.registered and current.ours and not current.foreign_policies:
        aas.deregister_scalable_target(
            ServiceNamespace=SERVICE_NAMESPACE,
            ResourceId=current.resource_id,
            ScalableDimension=SCALABLE_DIMENSION,
        )
        deleted.append(f"scalable target {current.resource_id}")
    return deleted


def left_alone(current: CurrentScaling) -> list[str]:
    """What mlwf keeps its hands off, in words."""
    if current.registered and (current.foreign_policies or not current.ours):
        others = ", ".join(current.foreign_policies) or "no policy of mlwf's"
        return [f"scalable target {current.resource_id} (policies mlwf did not put: {others})"]
    return []


def read(aas: Any, endpoint_name: str, variant_name: str, notes: list[str]) -> CurrentScaling:
    """describe(), or nothing registered when the caller may not read Application Auto
    Scaling (noted): a user who never scales needs no permission for it."""
    from botocore.exceptions import ClientError

    try:
        return describe(aas, endpoint_name, variant_name)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if "AccessDenied" not in code and code != "UnauthorizedOperation":
            raise
        notes.append(f"could not read the auto scaling of {endpoint_name} ({code}); assumed none")
        return CurrentScaling(resource_id(endpoint_name, variant_name))


# ---------------------------------------------------------------- command line


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "auto scaling",
        "Register the endpoint's variant with Application Auto Scaling and track "
        f"{PREDEFINED_METRIC} (docs/scaling.md). --max-instances turns it on.",
    )
    group.add_argument(
        "--max-instances",
        type=positive_int,
        metavar="M",
        help="most instances auto scaling may run: the cost ceiling, so it has no default",
    )
    group.add_argument(
        "--min-instances",
        type=positive_int,
        metavar="N",
        help="fewest instances (default: --instance-count)",
    )
    group.add_argument(
        "--target-invocations-per-instance",
        type=positive_float,
        metavar="K",
        help="invocations per instance per minute to track (default: "
        f"{DEFAULT_TARGET_INVOCATIONS:g} = ({ASSUMED_MAX_RPS} requests a second x "
        f"{SAFETY_FACTOR}) x 60; measure yours with a load test)",
    )
    group.add_argument(
        "--no-autoscaling",
        action="store_true",
        help="remove the scaling mlwf registered for the endpoint",
    )


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def config_from_args(args: argparse.Namespace) -> ScalingConfig | None:
    """The scaling the flags ask for (None: none asked for); a bad combination is an
    MlwfError, raised before anything is created."""
    given = [
        flag
        for flag, value in (
            ("--min-instances", args.min_instances),
            ("--target-invocations-per-instance", args.target_invocations_per_instance),
        )
        if value is not None
    ]
    if args.no_autoscaling:
        if args.max_instances is not None or given:
            flags = ", ".join(["--max-instances"] * (args.max_instances is not None) + given)
            raise MlwfError(f"--no-autoscaling cannot be combined with {flags}")
        return None
    if args.max_instances is None:
        if given:
            raise MlwfError(
                f"{' and '.join(given)} need --max-instances M, the most instances auto "
                "scaling may run (the cost ceiling)"
            )
        return None
    minimum = args.min_instances if args.min_instances is not None else args.instance_count
    if minimum > args.max_instances:
        source = "--min-instances" if args.min_instances is not None else "--instance-count"
        raise MlwfError(f"{source} {minimum} is more than --max-instances {args.max_instances}")
    if not minimum <= args.instance_count <= args.max_instances:
        raise MlwfError(
            f"--instance-count {args.instance_count} is outside --min-instances {minimum} .. "
            f"--max-instances {args.max_instances}"
        )
    target = args.target_invocations_per_instance
    return ScalingConfig(
        minimum,
        args.max_instances,
        DEFAULT_TARGET_INVOCATIONS if target is None else float(target),
    )
