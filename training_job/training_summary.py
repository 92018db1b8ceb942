"""What a finished (or failed) training job reports: `summarize_training_job` reads
DescribeTrainingJob into a `TrainingSummary` that `mlwf train` prints."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from training_job.errors import MlwfError
from training_job.sagemaker_io import format_duration, seconds_between, status_text

VALIDATION_ACCURACY = "validation:accuracy"


@dataclass
class TrainingSummary:
    job_name: str
    status: str
    secondary_status: str | None = None
    failure_reason: str | None = None
    total_seconds: float | None = None  # creation to end, including waiting for capacity
    training_seconds: float | None = None
    billable_seconds: float | None = None
    spot: bool = False
    validation_accuracy: float | None = None
    model_artifact: str | None = None
    instance_type: str | None = None

    def lines(self) -> list[str]:
        accuracy = (
            f"{self.validation_accuracy:.4f}"
            if self.validation_accuracy is not None
            else f"not reported (no {VALIDATION_ACCURACY} in FinalMetricDataList)"
        )
        billable = format_duration(self.billable_seconds)
        if self.spot and self.billable_seconds is not None and self.training_seconds:
            saving = 100 * (1 - self.billable_seconds / self.training_seconds)
            billable += f" (managed spot: {saving:.0f}% saved)"
        status = status_text(self.status, self.secondary_status)
        return [
            f"Training job {self.job_name}",
            f"  status               {status}",
            f"  duration             {format_duration(self.total_seconds)} in all, "
            f"{format_duration(self.training_seconds)} training",
            f"  billable time        {billable} on {self.instance_type or 'n/a'}",
            f"  validation accuracy  {accuracy}",
            f"  model artifact       {self.model_artifact or 'none'}",
        ]


def final_metric(desc: Mapping[str, Any], name: str) -> float | None:
    for metric in desc.get("FinalMetricDataList") or []:
        if metric.get("MetricName") == name and metric.get("Value") is not None:
            return float(metric["Value"])
    return None


def summarize_training_job(desc: Mapping[str, Any]) -> TrainingSummary:
    training = desc.get("TrainingTimeInSeconds")
    if training is None:
        training = seconds_between(desc.get("TrainingStartTime"), desc.get("TrainingEndTime"))
    return TrainingSummary(
        job_name=desc["TrainingJobName"],
        status=desc["TrainingJobStatus"],
        secondary_status=desc.get("SecondaryStatus"),
        failure_reason=desc.get("FailureReason"),
        total_seconds=seconds_between(desc.get("CreationTime"), desc.get("TrainingEndTime")),
        training_seconds=training,
        billable_seconds=desc.get("BillableTimeInSeconds"),
        spot=bool(desc.get("EnableManagedSpotTraining")),
        validation_accuracy=final_metric(desc, VALIDATION_ACCURACY),
        model_artifact=(desc.get("ModelArtifacts") or {}).get("S3ModelArtifacts"),
        instance_type=(desc.get("ResourceConfig") or {}).get("InstanceType"),
    )


def raise_if_unsuccessful(desc: Mapping[str, Any]) -> None:
    status = desc["TrainingJobStatus"]
    if status in ("Failed", "Stopped"):
        reason = desc.get("FailureReason") or f"secondary status {desc.get('SecondaryStatus')}"
        raise MlwfError(f"training job {desc['TrainingJobName']} {status.lower()}: {reason}")
