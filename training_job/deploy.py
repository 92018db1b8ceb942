"""`mlwf deploy`: host a trained model on a SageMaker endpoint that captures every request and
response for Model Monitor, then point the classify function at it through SSM.

This module picks the training job, reads what the SSM parameter names now, plans the
endpoint's scaling, creates the model and endpoint config (training_job/endpoint_requests.py)
and cleans them up if nothing came to run them; training_job/rollout.py brings them into
service (update in place, or a new endpoint) and tells why in that order.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from training_job import rollout, sagemaker_io, scaling, scaling_update
from training_job.argtypes import non_negative_float, positive_int
from training_job.endpoint_requests import (
    DEFAULT_INSTANCE_TYPE,
    VARIANT_NAME,
    build_endpoint_config_request,
    build_model_request,
    capture_uri,
)
from training_job.errors import MlwfError
from training_job.job_lookup import describe_training_job, find_latest_training_job, job_prefixes
from training_job.sagemaker_io import (
    Echo,
    EndpointResources,
    delete_endpoint_config_and_models,
    describe_endpoint_resources,
    get_parameter_value,
)
from training_job.stack import CAPTURE_PREFIX, StackSettings, add_stack_options

DEFAULT_POLL_INTERVAL = 30.0


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
    drain_seconds: float = rollout.DRAIN_SECONDS,
    endpoint_timeout: float | None = sagemaker_io.DEFAULT_ENDPOINT_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    echo: Echo = print,
) -> rollout.DeployResult:
    """Deploy a training job's model (default: our latest completed job); see
    training_job/rollout.py for the order of the steps. `aas` (an application-autoscaling
    client) is needed for `autoscaling`, and to keep the scaling of an endpoint that is
    updated or replaced."""
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
        if current.status in rollout.BUSY_STATES:
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
    plan = scaling_update.UpdatePlan(
        scaling.CurrentScaling(""), autoscaling, deregister_first=False, remove=False
    )
    if current is not None and aas is not None:
        current_scaling = scaling.read(aas, current.endpoint_name, VARIANT_NAME, notes)
        plan = scaling_update.plan_update(
            current_scaling,
            autoscaling,
            remove=remove_autoscaling,
            instance_type_changes=current.status == "InService"
            and scaling_update.current_instance_type(sm, current.config_name, VARIANT_NAME)
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
    result = rollout.DeployResult(
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
            deregistered = scaling_update.deregister_for_update(aas, plan, echo)
            if rollout.start_update(sm, aas, current, name, plan, deregistered, echo):
                in_use = True
                rollout.finish_update(sm, ssm, aas, current, name, plan, deregistered, result, wait)
                return result

        echo(f"  creating endpoint {name}")
        sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
        in_use = True
        rollout.finish_new_endpoint(
            sm, ssm, aas, current, current_name, name, plan, result, wait, drain_seconds
        )
        return result
    except Exception:
        if not in_use:  # nothing runs the new config: do not leave it behind
            delete_endpoint_config_and_models(sm, name, [name])
        raise


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
        default=rollout.DRAIN_SECONDS,
        metavar="SECONDS",
        help="when an InService endpoint is replaced rather than updated (only where "
        "UpdateEndpoint is missing, e.g. moto), wait this long before deleting it, so warm "
        f"classify functions stop using its cached name (default: {rollout.DRAIN_SECONDS})",
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
