"""Auto scaling around a redeploy, in the order of SageMaker's "Update endpoints that use auto
scaling": an update that changes the instance type of a scaled variant fails, so mlwf's
policy is deleted and the variant deregistered first (step 1); UpdateEndpoint keeps the
instance count scaling reached (RetainAllVariantProperties, step 6); once the endpoint is
InService the planned scaling is applied again (step 7), and if the update did not happen
the scaling removed for it is put back.
https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from training_job.errors import MlwfError
from training_job.sagemaker_io import Echo, is_not_found
from training_job.scaling import (
    POLICY_NAME,
    CurrentScaling,
    ScalingConfig,
    apply,
    describe,
    remove_ours,
)


@dataclass
class UpdatePlan:
    current: CurrentScaling
    desired: ScalingConfig | None  # applied once the endpoint runs the new config
    deregister_first: bool  # SageMaker refuses the update while the variant is registered
    remove: bool  # --no-autoscaling


def plan_update(
    current: CurrentScaling,
    requested: ScalingConfig | None,
    *,
    remove: bool,
    instance_type_changes: bool,
    endpoint_name: str,
) -> UpdatePlan:
    """What a redeploy does with scaling: the flags' configuration, else ours carried over;
    raises before anything is created when the update needs a target mlwf does not own
    deregistered."""
    if requested is not None and current.registered and not current.ours:
        raise MlwfError(
            f"endpoint {endpoint_name} is already registered for auto scaling, not by mlwf "
            f"(policies: {', '.join(current.policies) or 'none'}); mlwf leaves it alone: "
            "drop the scaling flags, or deregister it yourself first; nothing was changed"
        )
    desired = requested if requested is not None else (None if remove else current.config())
    deregister_first = current.registered and instance_type_changes
    if deregister_first and (not current.ours or current.foreign_policies):
        raise MlwfError(
            f"endpoint {endpoint_name} is registered for auto scaling with policies mlwf did "
            f"not put ({', '.join(current.foreign_policies) or 'none of its own'}); SageMaker "
            "refuses an instance type change until the variant is deregistered "
            "(https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html): "
            "deregister it yourself, or redeploy with the current --instance-type; nothing "
            "was changed"
        )
    return UpdatePlan(current, desired, deregister_first, remove)


def current_instance_type(sm: Any, config_name: str | None, variant_name: str) -> str | None:
    """The instance type the endpoint's variant runs on now (None: its config is gone)."""
    if not config_name:
        return None
    try:
        config = sm.describe_endpoint_config(EndpointConfigName=config_name)
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise
    for variant in config.get("ProductionVariants", []):
        if variant.get("VariantName") == variant_name:
            return str(variant.get("InstanceType"))
    return None


def update_endpoint_request(
    endpoint_name: str, config_name: str, plan: UpdatePlan
) -> dict[str, Any]:
    """With scaling registered, keep the instance count it reached (step 6 of SageMaker's
    endpoint-scaling-update.html) rather than InitialInstanceCount."""
    request: dict[str, Any] = {"EndpointName": endpoint_name, "EndpointConfigName": config_name}
    if plan.current.registered:
        request["RetainAllVariantProperties"] = True
    return request


def deregister_for_update(aas: Any, plan: UpdatePlan, echo: Echo) -> list[str]:
    """Step 1 of endpoint-scaling-update.html, only where the update needs it."""
    if not plan.deregister_first:
        return []
    echo(f"  deregistering {plan.current.resource_id} from auto scaling for the update")
    return remove_ours(aas, plan.current)


def restore(
    aas: Any, endpoint_name: str, variant_name: str, plan: UpdatePlan, deregistered: list[str]
) -> None:
    """The update did not happen: put back the scaling removed for it."""
    previous = plan.current.config()
    if deregistered and previous is not None:
        apply(aas, endpoint_name, variant_name, previous)


def scale(aas: Any, endpoint_name: str, variant_name: str, plan: UpdatePlan, echo: Echo) -> str:
    """Apply the planned scaling to the endpoint now serving (step 7); the result, in words."""
    from botocore.exceptions import ClientError

    try:
        if plan.desired is not None:
            apply(aas, endpoint_name, variant_name, plan.desired)
            echo(f"  auto scaling: {plan.desired.describe()}")
            return (
                f"{plan.desired.describe()} (policy {POLICY_NAME}); size the stack's "
                f"ClassifyReservedConcurrency to about {plan.desired.max_instances} x the "
                "requests one instance serves at once (docs/scaling.md)"
            )
        if plan.remove and aas is not None:
            removed = remove_ours(aas, describe(aas, endpoint_name, variant_name))
            return f"removed: {', '.join(removed)}" if removed else "none (nothing to remove)"
    except ClientError as exc:
        raise MlwfError(
            f"endpoint {endpoint_name} is InService and the SSM parameter names it, but "
            f"auto scaling failed: {exc} (docs/scaling.md lists the permissions; run "
            "`mlwf deploy` again to retry)"
        ) from exc
    return "none (fixed instance count)"
