"""`mlwf deploy`: host a trained model on a SageMaker endpoint that captures every request and
response for Model Monitor, then point the classify function at it through SSM.

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

With auto scaling registered (training_job/scaling.py), an update follows SageMaker's "Update
endpoints that use auto scaling": an update that changes the instance type of a scaled
variant fails, so mlwf's policy is deleted and the variant deregistered first; UpdateEndpoint
runs with RetainAllVariantProperties, so the variant keeps the instance count scaling gave
it instead of falling back to InitialInstanceCount; once InService, the variant is
registered again and the policy put back. A model-only change needs no deregistration.
https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from training_job import sagemaker_io, scaling
from training_job.argtypes import non_negative_float, positive_int
from training_job.errors import MlwfError
from training_job.job_lookup import describe_training_job, find_latest_training_job, job_prefixes
from training_job.sagemaker_io import (
    Echo,
    EndpointResources,
    delete_endpoint_config_and_models,
    delete_endpoint_resources,
    describe_endpoint_resources,
    format_duration,
    get_parameter_value,
)
from training_job.stack import CAPTURE_PREFIX, StackSettings, add_stack_options

# ml.m5.large (2 vCPU, 8 GiB, about $0.12 an hour): a ResNet-18 on 32x32 images answers in
# milliseconds on a CPU, so a GPU would be money for nothing; the algorithm serves on CPU
# instances, m5 is offered in every region with SageMaker hosting, and its 8 GiB leave
# headroom for the MXNet serving stack (a c5.large saves a cent an hour with half the memory).
DEFAULT_INSTANCE_TYPE = "ml.m5.large"
VARIANT_NAME = "AllTraffic"
CAPTURE_CONTENT_TYPE = "application/json"
PARAMETER_CACHE_SECONDS = 60  # the classify function's ENDPOINT_NAME_CACHE_SECONDS
CLASSIFY_TIMEOUT_SECONDS = 30  # the classify function's Timeout in template.yaml
DRAIN_SECONDS = PARAMETER_CACHE_SECONDS + CLASSIFY_TIMEOUT_SECONDS
DEFAULT_POLL_INTERVAL = 30.0
# States UpdateEndpoint (or a replacement) must not race with: wait for them to end first.
BUSY_STATES = ("Creating", "Updating", "SystemUpdating", "RollingBack", "UpdateRollbackFailed")


# ---------------------------------------------------------------- requests


def build_model_request(
    name: str, *, image: str, model_data_url: str, role_arn: str
) -> dict[str, Any]:
    return {
        "ModelName": name,
        "PrimaryContainer": {"Image": image, "ModelDataUrl": model_data_url},
        "ExecutionRoleArn": role_arn,
    }


def capture_uri(bucket: str) -> str:
    return f"s3://{bucket}/{CAPTURE_PREFIX}/"


def build_data_capture_config(bucket: str) -> dict[str, Any]:
    """Every request and response, the JSON answers as text, under s3://BUCKET/data_capture/
    (SageMaker adds <endpoint>/<variant>/yyyy/mm/dd/hh/)."""
    return {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": capture_uri(bucket),
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"JsonContentTypes": [CAPTURE_CONTENT_TYPE]},
    }


def build_endpoint_config_request(
    name: str,
    *,
    model_name: str,
    bucket: str,
    instance_type: str = DEFAULT_INSTANCE_TYPE,
    instance_count: int = 1,
) -> dict[str, Any]:
    if instance_count < 1:
        raise MlwfError("--instance-count must be at least 1")
    return {
        "EndpointConfigName": name,
        "ProductionVariants": [
            {
                "VariantName": VARIANT_NAME,
                "ModelName": model_name,
                "InitialInstanceCount": int(instance_count),
                "InstanceType": instance_type,
                "InitialVariantWeight": 1.0,
            }
        ],
        "DataCaptureConfig": build_data_capture_config(bucket),
    }


# ---------------------------------------------------------------- deploying


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


def deploy(
    sm: Any,
    ssm: Any,
    settings: StackSettings,
    *,
    training_job: str | None = None,
    instance_type: str = DEFAULT_INSTANCE_TYPE,
    instance_count: int = 1,
    aas: Any | None = None,
    autoscaling: scaling.ScalingConfig | None = None,
    remove_autoscaling: bool = False,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    drain_seconds: float = DRAIN_SECONDS,
    endpoint_timeout: float | None = sagemaker_io.DEFAULT_ENDPOINT_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    echo: Echo = print,
) -> DeployResult:
    """Deploy a training job's model (default: our latest completed job); see the module doc
    for the order of the steps. `aas` (an application-autoscaling client) is needed for
    `autoscaling`, and to keep the scaling of an endpoint that is updated or replaced."""
    if (autoscaling is not None or remove_autoscaling) and aas is None:
        raise MlwfError("auto scaling needs an application-autoscaling client")
    settings.require("bucket", "role_arn", "parameter_name", "endpoint_prefix")
    bucket, parameter_name = str(settings.bucket), str(settings.parameter_name)
    prefix = sagemaker_io.name_prefix(settings)
    name = sagemaker_io.unique_name(prefix)  # checks the prefix before anything is created

    job = (
        describe_training_job(sm, training_job)
        if training_job
        else find_latest_training_job(sm, job_prefixes(settings))
    )
    job_name = job["TrainingJobName"]
    model_data_url = job["ModelArtifacts"]["S3ModelArtifacts"]
    image = job["AlgorithmSpecification"]["TrainingImage"]

    # What the parameter names now, and whether it is ours to update or replace.
    left_alone: list[str] = []
    current: EndpointResources | None = None
    current_name = get_parameter_value(ssm, parameter_name)
    if current_name and current_name.startswith(prefix + "-"):
        current = describe_endpoint_resources(sm, current_name)
        if current.status in BUSY_STATES:
            raise MlwfError(
                f"endpoint {current_name} is {current.status}: wait until it settles, then "
                "run `mlwf deploy` again (nothing was changed)"
            )
        if not current.exists:
            current = None
    elif current_name:
        left_alone.append(
            f"endpoint {current_name} (the parameter named it, but it is not named {prefix}-*)"
        )

    notes: list[str] = []
    plan = scaling.UpdatePlan(
        scaling.CurrentScaling(""), autoscaling, deregister_first=False, remove=False
    )
    if current is not None and aas is not None:
        current_scaling = scaling.read(aas, current.endpoint_name, VARIANT_NAME, notes)
        plan = scaling.plan_update(
            current_scaling,
            autoscaling,
            remove=remove_autoscaling,
            instance_type_changes=current.status == "InService"
            and scaling.current_instance_type(sm, current.config_name, VARIANT_NAME)
            != instance_type,
            endpoint_name=current.endpoint_name,
        )
        left_alone += scaling.left_alone(current_scaling)

    wait = {
        "poll_interval": poll_interval,
        "sleep": sleep,
        "clock": clock,
        "timeout": endpoint_timeout,
        "echo": echo,
    }
    result = DeployResult(
        endpoint_name=name,
        endpoint_config_name=name,
        model_name=name,
        training_job_name=job_name,
        model_data_url=model_data_url,
        instance_type=instance_type,
        instance_count=instance_count,
        action="created",
        parameter_name=parameter_name,
        left_alone=left_alone,
        capture_uri=capture_uri(bucket),
        notes=notes,
    )
    echo(f"Deploying training job {job_name} ({model_data_url})")
    sm.create_model(
        **build_model_request(
            name, image=image, model_data_url=model_data_url, role_arn=str(settings.role_arn)
        )
    )
    in_use = False  # once an endpoint runs the new config, never delete it on failure
    try:
        sm.create_endpoint_config(
            **build_endpoint_config_request(
                name,
                model_name=name,
                bucket=bucket,
                instance_type=instance_type,
                instance_count=instance_count,
            )
        )
        echo(f"  model and endpoint config {name}: {instance_type} x {instance_count}")

        if current is not None and current.status == "InService":
            deregistered = scaling.deregister_for_update(aas, plan, echo)
            try:
                sm.update_endpoint(
                    **scaling.update_endpoint_request(current.endpoint_name, name, plan)
                )
            except NotImplementedError:
                # moto 5.2.5 implements no UpdateEndpoint; botocore never raises this itself.
                echo("  UpdateEndpoint is not implemented here (moto): replacing the endpoint")
            except Exception:
                scaling.restore(aas, current.endpoint_name, VARIANT_NAME, plan, deregistered)
                raise
            else:
                in_use = True
                result.endpoint_name = result.previous_endpoint = current.endpoint_name
                result.action = "updated"
                try:
                    result.deleted = _finish_update(sm, ssm, current, name, parameter_name, wait)
                except MlwfError:  # rolled back: the endpoint serves its old config
                    scaling.restore(aas, current.endpoint_name, VARIANT_NAME, plan, deregistered)
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
                result.scaling = scaling.scale(aas, current.endpoint_name, VARIANT_NAME, plan, echo)
                return result

        echo(f"  creating endpoint {name}")
        sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
        in_use = True
        _wait_for_new_endpoint(sm, name, current_name, wait)
        put_endpoint_parameter(ssm, parameter_name, name)
        echo(f"  parameter {parameter_name} = {name}")
        result.scaling = scaling.scale(aas, name, VARIANT_NAME, plan, echo)
        if current is not None:
            result.action, result.previous_endpoint = "replaced", current.endpoint_name
            if current.status == "InService" and drain_seconds > 0:
                echo(
                    f"  waiting {format_duration(drain_seconds)} before deleting "
                    f"{current.endpoint_name}: warm classify functions cache its name for "
                    f"up to {PARAMETER_CACHE_SECONDS} s"
                )
                sleep(drain_seconds)
            if aas is not None:  # before the endpoint, as teardown does
                old = scaling.read(aas, current.endpoint_name, VARIANT_NAME, result.notes)
                result.deleted = scaling.remove_ours(aas, old)
            result.deleted += delete_endpoint_resources(sm, current)
        return result
    except Exception:
        if not in_use:  # nothing runs the new config: do not leave it behind
            delete_endpoint_config_and_models(sm, name, [name])
        raise


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


def _finish_update(
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


# ---------------------------------------------------------------- command line


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "deploy",
        help="host a trained model on an endpoint with data capture and point SSM at it",
        description="Create a SageMaker model from a training job's artifact, an endpoint "
        "config that captures every request and response to s3://BUCKET/"
        f"{CAPTURE_PREFIX}/, and an endpoint; once it is InService, write its name to the "
        "SSM parameter the classify function reads.",
        epilog="A redeploy updates the endpoint the parameter names in place (UpdateEndpoint: "
        "same name, blue/green, no downtime), then deletes its previous config and model. "
        "With no such endpoint a new one named <endpoint prefix>-<UTC timestamp> is created. "
        f"Default instance {DEFAULT_INSTANCE_TYPE}: a ResNet-18 on 32x32 images needs no GPU. "
        "With --max-instances the endpoint scales with load; a redeploy keeps that scaling, "
        "in the order SageMaker documents (docs/scaling.md). "
        "Example: mlwf deploy --instance-type ml.c5.large --max-instances 4",
    )
    parser.add_argument(
        "--training-job",
        metavar="NAME",
        help="training job to deploy (default: the latest completed image-classification "
        "job named <endpoint prefix>-*)",
    )
    parser.add_argument(
        "--instance-type",
        default=DEFAULT_INSTANCE_TYPE,
        help=f"endpoint instance type (default: {DEFAULT_INSTANCE_TYPE})",
    )
    parser.add_argument(
        "--instance-count",
        type=positive_int,
        default=1,
        help="endpoint instances (default: 1)",
    )
    parser.add_argument(
        "--poll-interval",
        type=non_negative_float,
        default=DEFAULT_POLL_INTERVAL,
        metavar="SECONDS",
        help=f"seconds between status checks (default: {DEFAULT_POLL_INTERVAL:g})",
    )
    parser.add_argument(
        "--drain-seconds",
        type=non_negative_float,
        default=DRAIN_SECONDS,
        metavar="SECONDS",
        help="when an InService endpoint is replaced rather than updated (only where "
        "UpdateEndpoint is missing, e.g. moto), wait this long before deleting it, so warm "
        f"classify functions stop using its cached name (default: {DRAIN_SECONDS})",
    )
    scaling.add_options(parser)
    add_stack_options(parser, "bucket", "role_arn", "parameter_name", "endpoint_prefix")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    autoscaling = scaling.config_from_args(args)  # a bad combination fails before any call
    settings = sagemaker_io.resolve_settings(
        args, ("bucket", "role_arn", "parameter_name", "endpoint_prefix")
    )
    session, _ = sagemaker_io.session_and_region(settings)
    result = deploy(
        session.client("sagemaker"),
        session.client("ssm"),
        settings,
        training_job=args.training_job,
        instance_type=args.instance_type,
        instance_count=args.instance_count,
        aas=session.client("application-autoscaling"),
        autoscaling=autoscaling,
        remove_autoscaling=args.no_autoscaling,
        poll_interval=args.poll_interval,
        drain_seconds=args.drain_seconds,
    )
    print()
    for line in result.lines():
        print(line)
    print("Next: send an image through the workflow; `mlwf teardown` removes the endpoint.")
    return 0
