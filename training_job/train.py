"""`mlwf train`: a SageMaker training job with the built-in image-classification algorithm on
the staged dataset (transfer learning from a pretrained ResNet-18).

The AWS calls are small functions that take boto3 clients, so other code (the offline mode,
the tests) can run the same requests against any endpoint botocore talks to:
`build_training_job_request`, `start_training_job`, `wait_for_training_job`
(training_job.sagemaker_io), `summarize_training_job` (training_job.training_summary), and
`train` that strings them together. The hyperparameters are training_job.hyperparameters';
what is read of the staged dataset first, training_job.dataset.staged.
"""

from __future__ import annotations

import argparse
import textwrap
import time
from collections.abc import Callable, Mapping
from typing import Any

from training_job import sagemaker_io
from training_job.argtypes import non_negative_float, positive_int
from training_job.dataset.staged import (
    CHANNELS,
    check_staged_dataset,
    num_training_samples,
    s3_uri,
)
from training_job.errors import MlwfError
from training_job.hyperparameters import (
    DEFAULT_HYPERPARAMETERS,
    build_hyperparameters,
    parse_hyperparameter_overrides,
)
from training_job.sagemaker_io import Echo, format_duration
from training_job.stack import MODELS_PREFIX, StackSettings, add_stack_options
from training_job.training_log import TrainingLogTail
from training_job.training_summary import (
    TrainingSummary,
    raise_if_unsuccessful,
    summarize_training_job,
)

# ml.g4dn.xlarge: the cheapest GPU instance the algorithm trains on (it supports P2, P3, G4dn
# and G5; P2 is being retired and P3 costs ~5x more). Its T4 (16 GB) is far more than a
# ResNet-18 on 32x32 images needs, it is offered in nearly every region and usually has spot
# capacity. ml.g5.xlarge (A10G) would finish a little sooner at about twice the hourly price.
DEFAULT_INSTANCE_TYPE = "ml.g4dn.xlarge"
DEFAULT_MAX_RUNTIME = 3600  # seconds; the whole job takes minutes on ~1,000 images
DEFAULT_VOLUME_SIZE_GB = 30
DEFAULT_POLL_INTERVAL = 30.0
CONTENT_TYPE = "application/x-image"


# ---------------------------------------------------------------- the request


def channel(name: str, uri: str) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": uri,
                "S3DataDistributionType": "FullyReplicated",
            }
        },
        "ContentType": CONTENT_TYPE,
    }


def output_path(bucket: str) -> str:
    return f"s3://{bucket}/{MODELS_PREFIX}/"


def checkpoint_uri(bucket: str, job_name: str) -> str:
    return f"s3://{bucket}/{MODELS_PREFIX}/{job_name}/checkpoints/"


def build_training_job_request(
    settings: StackSettings,
    hyperparameters: Mapping[str, str],
    *,
    job_name: str,
    image_uri: str,
    instance_type: str = DEFAULT_INSTANCE_TYPE,
    max_runtime: int = DEFAULT_MAX_RUNTIME,
    spot: bool = False,
    max_wait: int | None = None,
    volume_size_gb: int = DEFAULT_VOLUME_SIZE_GB,
) -> dict[str, Any]:
    """The CreateTrainingJob request. With `spot`, SageMaker may wait up to `max_wait`
    seconds in all (default twice `max_runtime`) for spot capacity, and resumes an
    interrupted job from the checkpoints under s3://BUCKET/models/<job>/checkpoints/."""
    settings.require("bucket", "role_arn")
    bucket, prefix = str(settings.bucket), settings.prefix.strip("/")
    if max_runtime < 1:
        raise MlwfError("--max-runtime must be a positive number of seconds")
    stopping: dict[str, int] = {"MaxRuntimeInSeconds": int(max_runtime)}
    if spot:
        wait = int(max_wait) if max_wait is not None else 2 * int(max_runtime)
        if wait <= max_runtime:
            raise MlwfError(
                f"--max-wait ({wait} s) must be longer than --max-runtime ({max_runtime} s): "
                "it includes the time spent waiting for spot capacity"
            )
        stopping["MaxWaitTimeInSeconds"] = wait
    elif max_wait is not None:
        raise MlwfError("--max-wait only applies to managed spot training (--spot)")
    request: dict[str, Any] = {
        "TrainingJobName": job_name,
        "AlgorithmSpecification": {"TrainingImage": image_uri, "TrainingInputMode": "File"},
        "RoleArn": settings.role_arn,
        "HyperParameters": dict(hyperparameters),
        "InputDataConfig": [
            channel(name, s3_uri(bucket, prefix, key) + ("/" if key.endswith("/") else ""))
            for name, key in CHANNELS.items()
        ],
        "OutputDataConfig": {"S3OutputPath": output_path(bucket)},
        "ResourceConfig": {
            "InstanceType": instance_type,
            "InstanceCount": 1,
            "VolumeSizeInGB": int(volume_size_gb),
        },
        "StoppingCondition": stopping,
        "EnableManagedSpotTraining": bool(spot),
    }
    if spot:
        request["CheckpointConfig"] = {"S3Uri": checkpoint_uri(bucket, job_name)}
    return request


def start_training_job(sm: Any, request: Mapping[str, Any]) -> str:
    """CreateTrainingJob; returns the job's ARN."""
    return str(sm.create_training_job(**request)["TrainingJobArn"])


# ---------------------------------------------------------------- all together


def train(
    sm: Any,
    s3: Any,
    settings: StackSettings,
    *,
    region: str | None = None,
    overrides: Mapping[str, str] | None = None,
    instance_type: str = DEFAULT_INSTANCE_TYPE,
    max_runtime: int = DEFAULT_MAX_RUNTIME,
    spot: bool = False,
    max_wait: int | None = None,
    wait: bool = True,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    echo: Echo = print,
    logs: Any | None = None,
) -> TrainingSummary:
    """Check the staged data, start the job, optionally wait; a Failed/Stopped job raises.
    The algorithm image is the one for `region` (default: the SageMaker client's). With a
    CloudWatch Logs client, the wait also prints the job's log lines as they come."""
    settings.require("bucket", "role_arn")
    region = region or sm.meta.region_name
    bucket = str(settings.bucket)
    check_staged_dataset(s3, bucket, settings.prefix)
    hyperparameters = build_hyperparameters(
        num_training_samples(s3, bucket, settings.prefix), overrides
    )
    job_name = sagemaker_io.unique_name(sagemaker_io.name_prefix(settings))
    request = build_training_job_request(
        settings,
        hyperparameters,
        job_name=job_name,
        image_uri=sagemaker_io.training_image_uri(region),
        instance_type=instance_type,
        max_runtime=max_runtime,
        spot=spot,
        max_wait=max_wait,
    )
    stopping = request["StoppingCondition"]
    capacity = (
        f"managed spot, up to {format_duration(stopping['MaxWaitTimeInSeconds'])} in all"
        if spot
        else "on-demand"
    )
    echo(f"Starting training job {job_name}")
    echo(f"  algorithm        {request['AlgorithmSpecification']['TrainingImage']}")
    echo(
        f"  data             {s3_uri(bucket, settings.prefix)}/ "
        f"({hyperparameters['num_training_samples']} training images)"
    )
    echo(
        f"  instance         {instance_type} ({capacity}), "
        f"max runtime {format_duration(max_runtime)}"
    )
    echo(f"  output           {request['OutputDataConfig']['S3OutputPath']}")
    pairs = " ".join(f"{k}={v}" for k, v in sorted(hyperparameters.items()))
    for index, line in enumerate(textwrap.wrap(pairs, width=80, break_on_hyphens=False)):
        echo(f"  {'hyperparameters' if index == 0 else '':<15}  {line}")
    start_training_job(sm, request)
    if not wait:
        return summarize_training_job(sm.describe_training_job(TrainingJobName=job_name))
    # no interval to name at 0 s (offline passes 0: its job has ended by the first poll)
    polling = f"polling every {format_duration(poll_interval)}; " if poll_interval > 0 else ""
    echo(f"Waiting for {job_name} ({polling}Ctrl-C stops the waiting, not the job)")
    try:
        desc = sagemaker_io.wait_for_training_job(
            sm,
            job_name,
            poll_interval=poll_interval,
            sleep=sleep,
            clock=clock,
            echo=echo,
            log=None if logs is None else TrainingLogTail(logs, job_name),
        )
    except KeyboardInterrupt:
        echo(f"Stopped waiting; training job {job_name} keeps running in SageMaker.")
        raise
    raise_if_unsuccessful(desc)
    return summarize_training_job(desc)


# ---------------------------------------------------------------- command line


def register(subparsers: Any) -> None:
    defaults = " ".join(f"{k}={v}" for k, v in DEFAULT_HYPERPARAMETERS.items())
    parser = subparsers.add_parser(
        "train",
        help="train the image classifier with SageMaker's built-in algorithm",
        description="Start a SageMaker training job with the built-in image-classification "
        "algorithm (transfer learning from a pretrained ResNet-18) on the dataset staged by "
        "`mlwf stage`, wait for it, and print its validation accuracy and model artifact.",
        epilog=f"Default hyperparameters: {defaults}; num_training_samples is counted from "
        "the staged train split. The job is named <endpoint prefix>-<UTC timestamp> and "
        f"writes s3://BUCKET/{MODELS_PREFIX}/<job>/output/model.tar.gz. "
        f"Default instance {DEFAULT_INSTANCE_TYPE}: the cheapest GPU type the algorithm "
        "trains on (P2, P3, G4dn, G5). Example: mlwf train --spot --hyperparameter epochs=50",
    )
    parser.add_argument(
        "--hyperparameter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one hyperparameter (repeatable), e.g. learning_rate=0.001",
    )
    parser.add_argument(
        "--instance-type",
        default=DEFAULT_INSTANCE_TYPE,
        help=f"training instance (default: {DEFAULT_INSTANCE_TYPE})",
    )
    parser.add_argument(
        "--spot",
        action="store_true",
        help="managed spot training: cheaper, may wait for capacity; checkpoints go to "
        f"s3://BUCKET/{MODELS_PREFIX}/<job>/checkpoints/",
    )
    parser.add_argument(
        "--max-runtime",
        type=positive_int,
        default=DEFAULT_MAX_RUNTIME,
        metavar="SECONDS",
        help=f"stop the job after this much training time (default: {DEFAULT_MAX_RUNTIME})",
    )
    parser.add_argument(
        "--max-wait",
        type=positive_int,
        metavar="SECONDS",
        help="with --spot: total time including waiting for capacity; must exceed "
        "--max-runtime (default: twice --max-runtime)",
    )
    parser.add_argument(
        "--no-wait",
        dest="wait",
        action="store_false",
        help="start the job and return at once",
    )
    parser.add_argument(
        "--poll-interval",
        type=non_negative_float,
        default=DEFAULT_POLL_INTERVAL,
        metavar="SECONDS",
        help=f"seconds between status checks (default: {DEFAULT_POLL_INTERVAL:g})",
    )
    add_stack_options(parser, "bucket", "prefix", "role_arn", "endpoint_prefix")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    overrides = parse_hyperparameter_overrides(args.hyperparameter)
    if args.max_wait is not None and not args.spot:
        raise MlwfError("--max-wait only applies to managed spot training (--spot)")
    settings = sagemaker_io.resolve_settings(args, ("bucket", "role_arn"), ("endpoint_prefix",))
    session, region = sagemaker_io.session_and_region(settings)
    summary = train(
        session.client("sagemaker"),
        session.client("s3"),
        settings,
        region=region,
        overrides=overrides,
        instance_type=args.instance_type,
        max_runtime=args.max_runtime,
        spot=args.spot,
        max_wait=args.max_wait,
        wait=args.wait,
        poll_interval=args.poll_interval,
        logs=session.client("logs"),
    )
    if not args.wait:
        print(f"Started training job {summary.job_name} ({summary.status}); not waiting.")
        print(
            f"  follow it with: aws sagemaker describe-training-job "
            f"--training-job-name {summary.job_name}"
        )
        return 0
    print()
    for line in summary.lines():
        print(line)
    print(f"Next: mlwf deploy --training-job {summary.job_name}")
    return 0
