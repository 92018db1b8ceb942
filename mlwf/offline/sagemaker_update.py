"""UpdateEndpoint for the offline stack (moto has none), as SageMaker documents it for
endpoints that use auto scaling:

- "If the update would change the instance type for any model that is a target for auto
  scaling, the update fails" (a ValidationException here);
- with RetainAllVariantProperties, a production variant of the same name keeps the latest
  DesiredInstanceCount (as DescribeEndpoint reports it), whatever InitialInstanceCount the
  new EndpointConfig gives (step 6 of the page);
- otherwise the new config's InitialInstanceCount applies.

https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_VariantProperty.html

The switch happens at once; with `behaviour["fail"]` set, the update rolls back as SageMaker
does (old config, FailureReason).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was

SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"


def make_update_endpoint(behaviour: dict[str, Any]) -> Any:
    """moto's missing SageMakerResponse.update_endpoint; `behaviour["calls"]` records each
    call and `behaviour["fail"]`, when set, rolls the update back with that reason."""
    from moto.applicationautoscaling.models import applicationautoscaling_backends
    from moto.core.responses import ActionResult
    from moto.sagemaker.exceptions import ValidationError

    def update_endpoint(self: Any) -> ActionResult:
        backend = self.sagemaker_backend
        name = self._get_param("EndpointName")
        endpoint = backend.endpoints[name]
        config_name = self._get_param("EndpointConfigName")
        retain = bool(self._get_param("RetainAllVariantProperties"))
        behaviour["calls"].append((name, config_name, retain))
        new = backend.describe_endpoint_config(config_name)
        old = backend.describe_endpoint_config(endpoint.endpoint_config_name)
        old_types = {v["VariantName"]: v["InstanceType"] for v in old["ProductionVariants"]}
        new_types = {v["VariantName"]: v["InstanceType"] for v in new["ProductionVariants"]}
        targets = applicationautoscaling_backends[backend.account_id][backend.region_name]
        registered = targets.targets.get(SCALABLE_DIMENSION, {})
        for variant, instance_type in old_types.items():
            if f"endpoint/{name}/variant/{variant}" in registered and (
                new_types.get(variant) != instance_type
            ):
                raise ValidationError(
                    f"The variant {variant} of endpoint {name} is a target for auto scaling: "
                    "deregister it before changing its instance type or removing it"
                )
        if behaviour["fail"]:
            endpoint.failure_reason = behaviour["fail"]
            return ActionResult({"EndpointArn": endpoint.arn})
        desired = {
            v["VariantName"]: v.get("DesiredInstanceCount") for v in endpoint.production_variants
        }
        endpoint.endpoint_config_name = config_name
        endpoint.production_variants = endpoint._process_production_variants(
            new["ProductionVariants"]
        )
        if retain:
            for variant in endpoint.production_variants:
                if desired.get(variant["VariantName"]):
                    count = desired[variant["VariantName"]]
                    variant["DesiredInstanceCount"] = variant["CurrentInstanceCount"] = count
        endpoint.data_capture_config = new.get("DataCaptureConfig")
        return ActionResult({"EndpointArn": endpoint.arn})

    return update_endpoint


@contextmanager
def update_endpoint_answered() -> Iterator[dict[str, Any]]:
    """UpdateEndpoint answered while the block runs, in-process and over HTTP alike."""
    from moto.sagemaker.responses import SageMakerResponse

    if hasattr(SageMakerResponse, "update_endpoint"):
        raise RuntimeError("moto now has UpdateEndpoint: drop mlwf.offline.sagemaker_update")
    behaviour: dict[str, Any] = {"fail": None, "calls": []}
    with patch.object(
        SageMakerResponse, "update_endpoint", make_update_endpoint(behaviour), create=True
    ):
        yield behaviour
