"""A fake SageMaker stack in moto for the train, deploy and teardown tests: its names, its
clients, a staged dataset, training jobs, and the CLI run as a user runs it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mlwf.cli import main
from tests.helpers.paths import REGION
from training_job import sagemaker_io
from training_job.stack import StackSettings

BUCKET = "images-bucket-test"
ROLE_ARN = "arn:aws:iam::123456789012:role/sagemaker-execution"
PREFIX = "image-classification"
PARAMETER = "/image-classification/endpoint-name"
US_EAST_1_IMAGE = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
PNG = b"\x89PNG\r\n\x1a\n not really an image"
# `mlwf deploy`'s flags for the resources above, without waiting between polls.
DEPLOY_FLAGS = [
    "--bucket", BUCKET, "--role-arn", ROLE_ARN, "--parameter-name", PARAMETER,
    "--endpoint-prefix", PREFIX, "--region", REGION, "--poll-interval", "0",
]  # fmt: skip


def tick_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resource names from a clock that advances a second per name: distinct, predictable."""
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    moments = (start + timedelta(seconds=i) for i in range(10**6))
    monkeypatch.setattr(sagemaker_io, "utcnow", lambda: next(moments))


def no_sleep(seconds: float) -> None:
    """The `sleep` of code that must not wait (moto answers at once)."""
    raise AssertionError(f"slept {seconds} s")


def quiet(_: str) -> None:
    pass


def settings(**overrides: Any) -> StackSettings:
    values: dict[str, Any] = {
        "region": REGION,
        "bucket": BUCKET,
        "role_arn": ROLE_ARN,
        "parameter_name": PARAMETER,
        "endpoint_prefix": PREFIX,
    }
    values.update(overrides)
    return StackSettings(**values)


def stage_fake_dataset(
    s3: Any,
    bucket: str = BUCKET,
    prefix: str = "dataset",
    *,
    train_count: int = 12,
    validation_count: int = 4,
    manifest: dict[str, Any] | None | bool = True,
) -> None:
    """The layout `mlwf stage` uploads, with tiny fake PNGs. `manifest=True` writes the shape
    stage.build_manifest writes; a dict writes that dict; None/False writes none."""
    for split, count in (("train", train_count), ("validation", validation_count)):
        lines = []
        for index in range(count):
            name = f"{split}-{index:04d}.png"
            s3.put_object(Bucket=bucket, Key=f"{prefix}/{split}/{name}", Body=PNG)
            lines.append(f"{index}\t{index % 2}\t{name}")
        body = "\n".join(lines) + "\n"
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{split}.lst", Body=body.encode())
    if manifest is True:
        manifest = {
            "format": 1,
            "num_classes": 2,
            "num_training_samples": train_count,
            "splits": {
                "train": {"count": train_count, "classes": {"bicycle": 6, "motorcycle": 6}},
                "validation": {"count": validation_count},
            },
        }
    if manifest:
        s3.put_object(
            Bucket=bucket, Key=f"{prefix}/manifest.json", Body=json.dumps(manifest).encode()
        )


def all_objects(s3: Any, bucket: str = BUCKET) -> dict[str, str]:
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: o["ETag"] for o in listed}


def moto_clients() -> dict[str, Any]:
    """S3, SageMaker and SSM clients (moto must be active) and the images bucket."""
    import boto3

    session = boto3.Session(region_name=REGION)
    s3 = session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    return {"s3": s3, "sm": session.client("sagemaker"), "ssm": session.client("ssm")}


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0]


def moto_backend() -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION]


def make_job(
    sm: Any,
    name: str,
    *,
    image: str = US_EAST_1_IMAGE,
    created: datetime | None = None,
    status: str | None = None,
    failure_reason: str | None = None,
) -> str:
    """A training job in moto (which completes it at once), aged or failed on request."""
    sm.create_training_job(
        TrainingJobName=name,
        RoleArn=ROLE_ARN,
        AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/models/"},
        ResourceConfig={"InstanceType": "ml.g4dn.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    job = moto_backend().training_jobs[name]
    if created is not None:
        job.creation_time = created
    if status is not None:
        job.training_job_status = status
        job.failure_reason = failure_reason
    return name


def names(clients: dict[str, Any]) -> dict[str, list[str]]:
    sm = clients["sm"]
    return {
        "endpoints": sorted(e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]),
        "configs": sorted(
            c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]
        ),
        "models": sorted(m["ModelName"] for m in sm.list_models()["Models"]),
    }


class ScriptedSageMaker:
    """A SageMaker client whose DescribeTrainingJob walks through scripted answers."""

    def __init__(self, answers: list[dict[str, Any]]) -> None:
        self.answers = answers
        self.described = 0
        self.created: list[dict[str, Any]] = []

    def create_training_job(self, **request: Any) -> dict[str, Any]:
        self.created.append(request)
        return {"TrainingJobArn": f"arn:aws:sagemaker:::training-job/{request['TrainingJobName']}"}

    def describe_training_job(self, TrainingJobName: str) -> dict[str, Any]:  # noqa: N803
        answer = self.answers[min(self.described, len(self.answers) - 1)]
        self.described += 1
        return {"TrainingJobName": TrainingJobName, **answer}
