"""The compute of a SageMaker training job, offline.

moto records CreateTrainingJob and marks the job Completed at once, with its artifact path
but no artifact. Right after that call (botocore's after-call event, through the bridge)
the local trainer reads the job's channels from moto's S3 as the built-in algorithm
names them (`train` + `train_lst`, `validation` + `validation_lst`), trains the local
model (or takes it from mlwf.offline.model_cache), writes `model.tar.gz` to the job's
S3ModelArtifacts, and sets the job's final metrics (or its failure) in moto's backend.
What it has to say goes to the job's log stream in CloudWatch Logs, as the algorithm's
output does on SageMaker, where `mlwf train` reads it. Everything else is `mlwf train`'s own code.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from mlwf.offline import model_cache
from mlwf.offline.cloudwatch_logs import LogGroupSink
from mlwf.offline.template_spec import ACCOUNT_ID
from mlwf.offline.training_channels import read_channel
from training_job.errors import MlwfError
from training_job.training_log import TRAINING_LOG_GROUP


@dataclass
class TrainingReport:
    job_name: str
    train_count: int
    validation_count: int
    validation_accuracy: float | None
    seconds: float
    artifact: str


class LocalTrainer:
    def __init__(self, session: Any, *, seed: int = 0):
        self.session = session
        self.s3 = session.client("s3")
        self.seed = seed
        self.reports: list[TrainingReport] = []
        self._log = LogGroupSink(ACCOUNT_ID, session.region_name, TRAINING_LOG_GROUP)

    def __call__(self, request: dict[str, Any]) -> None:
        """Train for a CreateTrainingJob request that moto has just recorded."""
        name = request["TrainingJobName"]
        # One instance: the stream SageMaker names [job]/algo-1-[epoch seconds]
        # (https://docs.aws.amazon.com/sagemaker/latest/dg/logging-cloudwatch.html)
        stream = f"{name}/algo-1-{int(time.time())}"
        say = partial(self._say, stream)
        try:
            report = self.train(request, say=say)
        except Exception as exc:  # the job fails, as SageMaker's would, with the reason
            say(f"local training failed: {exc}")
            # TrainingEndTime: "for failed jobs, the time when SageMaker detects a job
            # failure" (API_DescribeTrainingJob): after the log's last line
            self._end(
                name,
                self._seconds_since_start(name),
                "Failed",
                training_job_status="Failed",
                failure_reason=str(exc)[:1024],
            )
            return
        self.reports.append(report)
        metrics = [{"MetricName": "train:progress", "Value": 100.0}]
        if report.validation_accuracy is not None:
            metrics.append(
                {"MetricName": "validation:accuracy", "Value": report.validation_accuracy}
            )
        now = datetime.now(UTC)
        # SageMaker bills "the time interval between" TrainingStartTime and TrainingEndTime
        # (API_DescribeTrainingJob), in whole seconds, at least 1 (botocore's model: min 1):
        # the job ends that many seconds after its start, so its times agree with its
        # seconds; rounded up from the time since its start, so that its end comes after
        # every line its log has (up to a second ahead of the clock).
        seconds = self._seconds_since_start(name)
        self._end(
            name,
            seconds,
            "Completed",
            final_metric_data_list=[{**m, "Timestamp": now} for m in metrics],
            billable_time_in_seconds=seconds,
            training_time_in_seconds=seconds,
        )

    def _seconds_since_start(self, name: str) -> int:
        """Whole seconds since the job's start, rounded up, at least 1 (botocore's model)."""
        started = self._job(name).training_start_time
        now = datetime.now(UTC)
        if started.tzinfo is None:  # moto keeps naive UTC times
            now = now.replace(tzinfo=None)
        return max(1, math.ceil((now - started).total_seconds()))

    def _say(self, stream: str, line: str) -> None:
        self._log(stream, [line])

    def _end(self, name: str, seconds: float, outcome: str, **fields: Any) -> None:
        """The job ended `seconds` after its start (moto set both to its creation, when
        training here begins), with its secondary statuses leading to `outcome`."""
        job = self._job(name)
        ended = job.training_start_time + timedelta(seconds=seconds)
        fields.update(
            training_end_time=ended,
            last_modified_time=ended,
            secondary_status=outcome,
            secondary_status_transitions=_transitions(job, ended, outcome),
        )
        for field_name, value in fields.items():  # moto has no API to end a job: its backend
            setattr(job, field_name, value)

    def train(self, request: dict[str, Any], say: Callable[[str], None]) -> TrainingReport:
        import numpy as np

        from mlwf.offline.local_model import train

        started = time.perf_counter()
        channels = {
            channel["ChannelName"]: channel["DataSource"]["S3DataSource"]["S3Uri"]
            for channel in request["InputDataConfig"]
        }
        missing = {"train", "train_lst"} - set(channels)
        if missing:
            raise MlwfError(f"training job has no {', '.join(sorted(missing))} channel")
        training = read_channel(self.s3, channels["train"], channels["train_lst"])
        validation = None
        if "validation" in channels and "validation_lst" in channels:
            validation = read_channel(self.s3, channels["validation"], channels["validation_lst"])
        hyperparameters = request.get("HyperParameters")
        cache_key = model_cache.model_key(
            training.etags,
            training.labels,
            (validation.etags, validation.labels) if validation else ((), ()),
            hyperparameters,
            self.seed,
        )
        cached = model_cache.load(cache_key)
        if cached is not None:
            say(f"local model: cache used ({cached.path}), not trained again")
            body, accuracy, validation_count = (
                cached.artifact,
                cached.validation_accuracy,
                cached.validation_count,
            )
        else:
            images = training.images(self.s3)  # read only now: the cache needs their ETags
            say(f"training the local model on {len(images)} images (offline stand-in)")
            model = train(images, training.labels, hyperparameters=hyperparameters, seed=self.seed)
            accuracy, validation_count = None, 0
            if validation and validation.keys:
                predicted = model.predict_proba(validation.images(self.s3)).argmax(axis=1)
                accuracy = float((predicted == np.asarray(validation.labels)).mean())
                validation_count = len(validation.keys)
            body = model.to_artifact()
            model_cache.store(cache_key, body, accuracy, validation_count)
        artifact = self._artifact_path(request["TrainingJobName"])
        bucket, _, key = artifact.removeprefix("s3://").partition("/")
        self.s3.put_object(Bucket=bucket, Key=key, Body=body)
        if accuracy is not None:
            say(f"validation accuracy {accuracy:.4f} on {validation_count} images")
        say(f"model artifact written to {artifact}")
        return TrainingReport(
            request["TrainingJobName"],
            len(training.keys),
            validation_count,
            accuracy,
            time.perf_counter() - started,
            artifact,
        )

    def _artifact_path(self, job_name: str) -> str:
        sagemaker = self.session.client("sagemaker")
        job = sagemaker.describe_training_job(TrainingJobName=job_name)
        return job["ModelArtifacts"]["S3ModelArtifacts"]

    def _job(self, job_name: str) -> Any:
        from moto.sagemaker.models import sagemaker_backends

        return sagemaker_backends[ACCOUNT_ID][self.session.region_name].training_jobs[job_name]


def _transitions(job: Any, ended: Any, outcome: str) -> list[dict[str, Any]]:
    """The secondary statuses a job went through, with their times, after moto's Starting
    entry: API_SecondaryStatusTransition's Training, then Uploading and Completed, or Failed
    (each message its description there)."""
    started = job.training_start_time
    uploading = (
        "Training is complete and the model artifacts are being uploaded to the S3 location."
    )
    stages = [("Training", started, ended, "Training is in progress.")]
    if outcome == "Completed":
        stages += [
            ("Uploading", ended, ended, uploading),
            ("Completed", ended, ended, "The training job has completed."),
        ]
    else:
        stages.append(("Failed", ended, ended, "The training job has failed."))
    return [
        *job.secondary_status_transitions[:1],
        *(
            {"Status": status, "StartTime": start, "EndTime": end, "StatusMessage": message}
            for status, start, end, message in stages
        ),
    ]
