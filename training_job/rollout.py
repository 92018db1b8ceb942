"""How `mlwf deploy` brings a new model and endpoint config into service and publishes it in
SSM: update the endpoint in place, or create a new one and retire the old.

How a redeploy never leaves the SSM parameter naming a missing endpoint
-----------------------------------------------------------------------
The classify function caches the endpoint name it reads from SSM for
ENDPOINT_NAME_CACHE_SECONDS (60 s) across warm invocations. If a redeploy created a new
endpoint, switched the parameter and deleted the old endpoint at once, warm functions would
keep invoking the deleted endpoint for up to a minute. So:

* When the parameter names an endpoint of ours (`<prefix>-...`) that is InService, the new
  model and config are rolled onto it with UpdateEndpoint. The name does not change, so the
  parameter and every cache stay right; SageMaker brings up the new instances, shifts traffic,
  then retires the old ones (blue/green, no downtime) and rolls back by itself if the new ones
  fail. Only once the endpoint is InService on the new config are the old config and model
  deleted. Captured data also stays under one endpoint name in s3://BUCKET/data_capture/.
* Otherwise (first deploy, endpoint gone or Failed, or the parameter names something that is
  not ours) a new endpoint `<prefix>-<timestamp>` is created; the parameter is written only
  once it is InService, and only then is an old endpoint of ours deleted.
* moto has no UpdateEndpoint (in-process it raises NotImplementedError). There, and only
  there, the InService endpoint is replaced as above; because warm functions may still hold
  its name, it is deleted only after `drain_seconds` (the 60 s cache plus the function's 30 s
  timeout). A Failed old endpoint cannot serve anyway and is deleted without waiting.

With auto scaling registered, an update follows SageMaker's "Update endpoints that use auto
scaling" (training_job/scaling_update.py): an instance type change deregisters the variant
first, UpdateEndpoint keeps the instance count scaling gave it, and once InService the
variant is registered again and the policy put back. A model-only change needs no
deregistration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from training_job import sagemaker_io, scaling, scaling_update
from training_job.endpoint_requests import VARIANT_NAME
from training_job.errors import MlwfError
from training_job.sagemaker_io import (
    Echo,
    EndpointResources,
    delete_endpoint_config_and_models,
    delete_endpoint_resources,
    format_duration,
)

PARAMETER_CACHE_SECONDS = 60  # the classify function's ENDPOINT_NAME_CACHE_SECONDS
CLASSIFY_TIMEOUT_SECONDS = 30  # the classify function's Timeout in template.yaml
DRAIN_SECONDS = PARAMETER_CACHE_SECONDS + CLASSIFY_TIMEOUT_SECONDS
# States UpdateEndpoint (or a replacement) must not race with: wait for them to end first.
BUSY_STATES = ("Creating", "Updating", "SystemUpdating", "RollingBack", "UpdateRollbackFailed")


@dataclass
class DeployResult:
    endpoint_name: str
    endpoint_config_name: str
    model_name: str
    training_job_name: str
    model_data_url: str
    instance_type: str
    instance_count: int
    action: str  # "created", "updated" (in place) or "replaced"
    parameter_name: str
    previous_endpoint: str | None = None
    deleted: list[str] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)
    capture_uri: str = ""
    scaling: str = "none (fixed instance count)"
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        how = {
            "created": "created",
            "updated": "updated in place: same name, new model and config",
            "replaced": f"replaces {self.previous_endpoint}",
        }[self.action]
        lines = [
            f"Deployed training job {self.training_job_name}",
            f"  endpoint         {self.endpoint_name} (InService; {how})",
            f"  endpoint config  {self.endpoint_config_name}: {self.instance_type} x "
            f"{self.instance_count}, capturing 100% of requests and responses",
            f"  model            {self.model_name} <- {self.model_data_url}",
            f"  SSM parameter    {self.parameter_name} = {self.endpoint_name}",
            f"  captured data    {self.capture_uri}{self.endpoint_name}/{VARIANT_NAME}/",
            f"  auto scaling     {self.scaling}",
            f"  deleted          {', '.join(self.deleted) or 'nothing'}",
        ]
        lines += [f"  left alone       {item}" for item in self.left_alone]
        lines += [f"  note             {note}" for note in self.notes]
        return lines


def put_endpoint_parameter(ssm: Any, parameter_name: str, endpoint_name: str) -> None:
    ssm.put_parameter(
        Name=parameter_name,
        Value=endpoint_name,
        Type="String",
        Overwrite=True,
        Description="SageMaker endpoint the classify function invokes (written by mlwf deploy)",
    )


# ---------------------------------------------------------------- update in place


def start_update(
    sm: Any,
    aas: Any | None,
    current: EndpointResources,
    name: str,
    plan: scaling_update.UpdatePlan,
    deregistered: list[str],
    echo: Echo,
) -> bool:
    """UpdateEndpoint onto config `name`. False where it is missing (moto): the endpoint is
    then replaced instead. A failed call puts the scaling back before it raises."""
    try:
        sm.update_endpoint(
            **scaling_update.update_endpoint_request(current.endpoint_name, name, plan)
        )
    except NotImplementedError:
        # moto 5.2.5 implements no UpdateEndpoint; botocore never raises this itself.
        echo("  UpdateEndpoint is not implemented here (moto): replacing the endpoint")
        return False
    except Exception:
        scaling_update.restore(aas, current.endpoint_name, VARIANT_NAME, plan, deregistered)
        raise
    return True


def finish_update(
    sm: Any,
    ssm: Any,
    aas: Any | None,
    current: EndpointResources,
    name: str,
    plan: scaling_update.UpdatePlan,
    deregistered: list[str],
    result: DeployResult,
    wait: dict[str, Any],
) -> None:
    """Once UpdateEndpoint went through: wait for it, delete the old config and model, and
    scale the endpoint again; a rollback puts the scaling back before it raises."""
    echo: Echo = wait["echo"]
    result.endpoint_name = result.previous_endpoint = current.endpoint_name
    result.action = "updated"
    try:
        result.deleted = _wait_for_update(sm, ssm, current, name, result.parameter_name, wait)
    except MlwfError:  # rolled back: the endpoint serves its old config
        scaling_update.restore(aas, current.endpoint_name, VARIANT_NAME, plan, deregistered)
        raise
    except KeyboardInterrupt:
        if deregistered and plan.desired is not None:
            echo(
                "Auto scaling was deregistered for this update: once the endpoint "
                f"is InService, `mlwf deploy --max-instances "
                f"{plan.desired.max_instances}` registers it again."
            )
        raise
    if deregistered:
        result.notes.append(
            "auto scaling was deregistered for the instance type change, then "
            "registered again (SageMaker's endpoint-scaling-update.html)"
        )
    result.scaling = scaling_update.scale(aas, current.endpoint_name, VARIANT_NAME, plan, echo)


def _wait_for_update(
    sm: Any,
    ssm: Any,
    current: EndpointResources,
    name: str,
    parameter_name: str,
    wait: dict[str, Any],
) -> list[str]:
    """After UpdateEndpoint: wait, check the new config is live, then delete the old one."""
    endpoint_name = current.endpoint_name
    echo: Echo = wait["echo"]
    echo(f"  updating endpoint {endpoint_name} to config {name} (blue/green)")
    try:
        desc = sagemaker_io.wait_for_endpoint(sm, endpoint_name, **wait)
    except KeyboardInterrupt:
        echo(f"Stopped waiting; endpoint {endpoint_name} keeps updating to config {name}.")
        raise
    if desc["EndpointStatus"] != "InService" or desc.get("EndpointConfigName") != name:
        # SageMaker rolled back: the endpoint still serves the previous config.
        reason = desc.get("FailureReason") or f"status {desc['EndpointStatus']}"
        delete_endpoint_config_and_models(sm, name, [name])
        raise MlwfError(
            f"updating endpoint {endpoint_name} failed: {reason} (it still serves config "
            f"{desc.get('EndpointConfigName')}; the new config and model were deleted; the "
            "parameter is unchanged)"
        )
    # The name is unchanged; written again so the parameter is right even if it was edited.
    put_endpoint_parameter(ssm, parameter_name, endpoint_name)
    echo(f"  parameter {parameter_name} = {endpoint_name} (unchanged)")
    return delete_endpoint_config_and_models(
        sm,
        current.config_name if current.config_exists else None,
        current.model_names,
        keep=(name,),
    )


# ---------------------------------------------------------------- a new endpoint


def finish_new_endpoint(
    sm: Any,
    ssm: Any,
    aas: Any | None,
    current: EndpointResources | None,
    current_name: str | None,
    name: str,
    plan: scaling_update.UpdatePlan,
    result: DeployResult,
    wait: dict[str, Any],
    drain_seconds: float,
) -> None:
    """Once CreateEndpoint went through: wait for it, publish its name, scale it, and only
    then retire the endpoint of ours it replaces (after the drain, if that one served)."""
    echo: Echo = wait["echo"]
    parameter_name = result.parameter_name
    _wait_for_new_endpoint(sm, name, current_name, wait)
    put_endpoint_parameter(ssm, parameter_name, name)
    echo(f"  parameter {parameter_name} = {name}")
    result.scaling = scaling_update.scale(aas, name, VARIANT_NAME, plan, echo)
    if current is not None:
        result.action, result.previous_endpoint = "replaced", current.endpoint_name
        if current.status == "InService" and drain_seconds > 0:
            echo(
                f"  waiting {format_duration(drain_seconds)} before deleting "
                f"{current.endpoint_name}: warm classify functions cache its name for "
                f"up to {PARAMETER_CACHE_SECONDS} s"
            )
            wait["sleep"](drain_seconds)
        if aas is not None:  # before the endpoint, as teardown does
            old = scaling.read(aas, current.endpoint_name, VARIANT_NAME, result.notes)
            result.deleted = scaling.remove_ours(aas, old)
        result.deleted += delete_endpoint_resources(sm, current)


def _wait_for_new_endpoint(
    sm: Any, name: str, current_name: str | None, wait: dict[str, Any]
) -> None:
    """Wait for a new endpoint; a Failed one is deleted with its config and model."""
    try:
        desc = sagemaker_io.wait_for_endpoint(sm, name, **wait)
    except KeyboardInterrupt:
        wait["echo"](
            f"Stopped waiting; endpoint {name} is still being created and the parameter was "
            f"not changed (`mlwf teardown --endpoint-name {name}` removes it)."
        )
        raise
    if desc["EndpointStatus"] != "InService":
        reason = desc.get("FailureReason") or desc["EndpointStatus"]
        delete_endpoint_resources(sm, EndpointResources(name, "Failed", name, True, [name]))
        raise MlwfError(
            f"endpoint {name} failed: {reason} (deleted it with its config and model; the "
            f"parameter still names {current_name or 'nothing'})"
        )
