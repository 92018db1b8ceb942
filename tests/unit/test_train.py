"""`mlwf train` against moto's S3 and SageMaker: the exact CreateTrainingJob request, the
hyperparameters and their overrides, a whole run, and the one-line errors. Waiting and the
result are in test_training_summary.py, the staged dataset's checks in test_staged_dataset.py;
the fake stack's helpers are in tests/helpers/sagemaker_stack.py."""

from __future__ import annotations

import io
import time
from typing import Any

import boto3
import pytest

from mlwf.cli import main
from tests.helpers.paths import REGION
from tests.helpers.sagemaker_stack import (
    BUCKET,
    PREFIX,
    ROLE_ARN,
    US_EAST_1_IMAGE,
    assert_one_line_error,
    no_sleep,
    run_cli,
    settings,
)
from training_job import sagemaker_io, train
from training_job.errors import MlwfError
from training_job.training_log import TRAINING_LOG_GROUP

# each name made from the clock is new, as on AWS (tests/unit/conftest.py)
pytestmark = pytest.mark.usefixtures("ticking_names")

STACK_FLAGS = [
    "--bucket",
    BUCKET,
    "--role-arn",
    ROLE_ARN,
    "--endpoint-prefix",
    PREFIX,
    "--region",
    REGION,
]


# ---------------------------------------------------------------- fixtures


# ---------------------------------------------------------------- the request


def expected_channel(name: str, uri: str) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": uri,
                "S3DataDistributionType": "FullyReplicated",
            }
        },
        "ContentType": "application/x-image",
    }


def test_training_job_request_is_exact() -> None:
    hyperparameters = train.build_hyperparameters(900)
    request = train.build_training_job_request(
        settings(),
        hyperparameters,
        job_name="image-classification-20260102-030405-000",
        image_uri=sagemaker_io.training_image_uri("us-east-1"),
    )
    assert request == {
        "TrainingJobName": "image-classification-20260102-030405-000",
        "AlgorithmSpecification": {"TrainingImage": US_EAST_1_IMAGE, "TrainingInputMode": "File"},
        "RoleArn": ROLE_ARN,
        "HyperParameters": {
            "num_classes": "2",
            "num_training_samples": "900",
            "image_shape": "3,32,32",
            "use_pretrained_model": "1",
            "num_layers": "18",
            "augmentation_type": "crop_color_transform",
            "epochs": "30",
            "mini_batch_size": "32",
            "learning_rate": "0.01",
            "early_stopping": "true",
            "early_stopping_min_epochs": "10",
            "early_stopping_patience": "5",
            "early_stopping_tolerance": "0.0",
            "precision_dtype": "float32",
        },
        "InputDataConfig": [
            expected_channel("train", f"s3://{BUCKET}/dataset/train/"),
            expected_channel("validation", f"s3://{BUCKET}/dataset/validation/"),
            expected_channel("train_lst", f"s3://{BUCKET}/dataset/train.lst"),
            expected_channel("validation_lst", f"s3://{BUCKET}/dataset/validation.lst"),
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/models/"},
        "ResourceConfig": {
            "InstanceType": "ml.g4dn.xlarge",
            "InstanceCount": 1,
            "VolumeSizeInGB": 30,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "EnableManagedSpotTraining": False,
    }


def test_spot_request_waits_longer_and_checkpoints() -> None:
    request = train.build_training_job_request(
        settings(prefix="custom/prefix"),
        train.build_hyperparameters(10),
        job_name="job-1",
        image_uri="image",
        instance_type="ml.g5.xlarge",
        max_runtime=1800,
        spot=True,
    )
    assert request["EnableManagedSpotTraining"] is True
    assert request["StoppingCondition"] == {
        "MaxRuntimeInSeconds": 1800,
        "MaxWaitTimeInSeconds": 3600,
    }
    assert request["CheckpointConfig"] == {"S3Uri": f"s3://{BUCKET}/models/job-1/checkpoints/"}
    assert request["ResourceConfig"]["InstanceType"] == "ml.g5.xlarge"
    uris = [c["DataSource"]["S3DataSource"]["S3Uri"] for c in request["InputDataConfig"]]
    assert uris[0] == f"s3://{BUCKET}/custom/prefix/train/"
    assert uris[3] == f"s3://{BUCKET}/custom/prefix/validation.lst"


@pytest.mark.parametrize(
    ("spot", "max_wait", "message"),
    [(True, 3600, "must be longer"), (True, 100, "must be longer"), (False, 7200, "--spot")],
)
def test_bad_spot_settings(spot: bool, max_wait: int, message: str) -> None:
    with pytest.raises(MlwfError, match=message):
        train.build_training_job_request(
            settings(),
            train.build_hyperparameters(10),
            job_name="j",
            image_uri="i",
            max_runtime=3600,
            spot=spot,
            max_wait=max_wait,
        )


def test_image_uri_is_looked_up_per_region() -> None:
    assert sagemaker_io.training_image_uri("us-east-1") == US_EAST_1_IMAGE
    assert sagemaker_io.training_image_uri("eu-west-1") == (
        "685385470294.dkr.ecr.eu-west-1.amazonaws.com/image-classification:1"
    )


# ---------------------------------------------------------------- hyperparameters


def test_overrides_replace_defaults() -> None:
    overrides = train.parse_hyperparameter_overrides(
        ["epochs=5", " learning_rate = 0.001 ", "optimizer=adam", "image_shape=3,28,28"]
    )
    assert overrides == {
        "epochs": "5",
        "learning_rate": "0.001",
        "optimizer": "adam",
        "image_shape": "3,28,28",
    }
    hyperparameters = train.build_hyperparameters(100, overrides)
    assert hyperparameters["epochs"] == "5"
    assert hyperparameters["optimizer"] == "adam"
    assert hyperparameters["num_training_samples"] == "100"
    assert hyperparameters["use_pretrained_model"] == "1"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("epochs", "expected KEY=VALUE"),
        ("=5", "expected KEY=VALUE"),
        ("epochs=", "expected KEY=VALUE"),
        ("epoch=5", "did you mean 'epochs'"),
        ("batch=5", "not a hyperparameter"),
    ],
)
def test_bad_override_forms(item: str, message: str) -> None:
    with pytest.raises(MlwfError, match=message):
        train.parse_hyperparameter_overrides([item])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"epochs": "ten"}, "positive integer"),
        ({"epochs": "0"}, "positive integer"),
        ({"learning_rate": "fast"}, "expected a number"),
        ({"mini_batch_size": "64"}, "larger than the 50 training images"),
    ],
)
def test_bad_override_values(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(MlwfError, match=message):
        train.build_hyperparameters(50, overrides)


# ---------------------------------------------------------------- all together


def test_train_function_against_moto(staged: dict[str, Any]) -> None:
    lines: list[str] = []
    summary = train.train(
        staged["sm"],
        staged["s3"],
        settings(),
        region=REGION,
        overrides={"epochs": "3"},
        spot=True,
        sleep=no_sleep,
        echo=lines.append,
    )
    job = staged["sm"].describe_training_job(TrainingJobName=summary.job_name)
    assert summary.job_name == "image-classification-20260102-030405-000"
    assert job["HyperParameters"]["num_training_samples"] == "12"
    assert job["HyperParameters"]["epochs"] == "3"
    assert job["EnableManagedSpotTraining"] is True
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    # moto completes the job at once, with the artifact under the output path.
    assert summary.status == "Completed"
    assert summary.model_artifact == (
        f"s3://{BUCKET}/models/{summary.job_name}/output/model.tar.gz"
    )
    # moto reports only a made-up train:progress metric.
    assert summary.validation_accuracy is None


# ---------------------------------------------------------------- the command line


def test_cli_train(staged: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    # the algorithm's log line for the job the command will start (names tick: conftest)
    name = "image-classification-20260102-030405-000"
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName=TRAINING_LOG_GROUP)
    logs.create_log_stream(logGroupName=TRAINING_LOG_GROUP, logStreamName=f"{name}/algo-1-1")
    logs.put_log_events(
        logGroupName=TRAINING_LOG_GROUP,
        logStreamName=f"{name}/algo-1-1",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "epoch 1: accuracy 0.9"}],
    )
    code, out, err = run_cli(
        [
            "train",
            *STACK_FLAGS,
            "--hyperparameter",
            "epochs=5",
            "--hyperparameter",
            "mini_batch_size=4",
            "--instance-type",
            "ml.g5.xlarge",
            "--max-runtime",
            "1200",
            "--poll-interval",
            "0",
        ],
        capsys,
    )
    assert (code, err) == (0, "")
    job = staged["sm"].describe_training_job(TrainingJobName=name)
    assert job["AlgorithmSpecification"]["TrainingImage"] == US_EAST_1_IMAGE
    assert job["RoleArn"] == ROLE_ARN
    assert job["HyperParameters"]["epochs"] == "5"
    assert job["HyperParameters"]["mini_batch_size"] == "4"
    assert job["HyperParameters"]["num_training_samples"] == "12"
    assert job["ResourceConfig"]["InstanceType"] == "ml.g5.xlarge"
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 1200}
    assert [c["ChannelName"] for c in job["InputDataConfig"]] == [
        "train",
        "validation",
        "train_lst",
        "validation_lst",
    ]
    # nothing to poll at a 0 s interval: the line says so by not naming one
    assert f"Waiting for {name} (Ctrl-C stops the waiting, not the job)" in out
    assert "] algo-1 | epoch 1: accuracy 0.9\n" in out  # read from the job's log
    assert f"Training job {name}" in out
    assert "status               Completed" in out
    assert "validation accuracy  not reported" in out
    assert f"model artifact       s3://{BUCKET}/models/{name}/output/model.tar.gz" in out
    assert f"Next: mlwf deploy --training-job {name}" in out


def test_cli_no_wait(staged: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["train", *STACK_FLAGS, "--no-wait"], capsys)
    assert code == 0
    assert "Started training job image-classification-20260102-030405-000" in out
    assert "Waiting for" not in out


def test_cli_settings_from_the_stack(
    staged: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs = {
        "ImagesBucketName": BUCKET,
        "SageMakerExecutionRoleArn": ROLE_ARN,
        "EndpointPrefix": "from-the-stack",
    }
    monkeypatch.setattr("training_job.stack.stack_outputs", lambda name, session: outputs)
    code, out, err = run_cli(["train", "--stack-name", "s", "--poll-interval", "0"], capsys)
    assert (code, err) == (0, "")
    assert "Training job from-the-stack-20260102-030405-000" in out


def no_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    """No deployed stack (quicker than asking moto's CloudFormation, same answer)."""

    def stack_outputs(name: str, session: Any) -> dict[str, str]:
        raise MlwfError(f"cannot read stack {name!r}: Stack with id {name} does not exist")

    monkeypatch.setattr("training_job.stack.stack_outputs", stack_outputs)


def test_cli_without_endpoint_prefix_uses_the_default(
    staged: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # No stack: the prefix is optional for train, so the template's default names the job.
    no_stack(monkeypatch)
    code, out, _ = run_cli(
        ["train", "--bucket", BUCKET, "--role-arn", ROLE_ARN, "--poll-interval", "0"], capsys
    )
    assert code == 0
    assert f"Training job {sagemaker_io.DEFAULT_NAME_PREFIX}-20260102-030405-000" in out


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--hyperparameter", "epochs"], "expected KEY=VALUE"),
        (["--hyperparameter", "epoch=3"], "did you mean 'epochs'"),
        (["--hyperparameter", "epochs=-1"], "positive integer"),
        (["--max-wait", "9000"], "--spot"),
        (["--spot", "--max-wait", "10"], "must be longer"),
    ],
)
def test_cli_bad_input_is_one_line(
    staged: dict[str, Any], capsys: pytest.CaptureFixture[str], extra: list[str], fragment: str
) -> None:
    code, _, err = run_cli(["train", *STACK_FLAGS, *extra], capsys)
    assert_one_line_error(code, err, "mlwf train: error:", fragment)
    assert staged["sm"].list_training_jobs()["TrainingJobSummaries"] == []


def test_cli_nothing_staged(clients: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["train", *STACK_FLAGS], capsys)
    assert_one_line_error(code, err, "run `mlwf stage` first")


def test_cli_missing_settings(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    no_stack(monkeypatch)
    code, _, err = run_cli(["train", "--stack-name", "no-such-stack"], capsys)
    assert_one_line_error(code, err, "cannot read stack 'no-such-stack'")


def test_help(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--hyperparameter KEY=VALUE" in out
    assert "ml.g4dn.xlarge" in out
