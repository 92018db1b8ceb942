"""Which training job `mlwf deploy` deploys: the one it is given by name, else the newest
Completed image-classification job named after the stack's prefix; either way checked to
have a model artifact to deploy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from training_job import sagemaker_io
from training_job.errors import MlwfError
from training_job.sagemaker_io import is_algorithm_image, is_not_found
from training_job.stack import StackSettings


def job_prefixes(settings: StackSettings) -> list[str]:
    """Name prefixes of our training jobs: `mlwf train` names them after the endpoint prefix,
    or after the default prefix when it ran without a stack."""
    return list(
        dict.fromkeys([sagemaker_io.name_prefix(settings), sagemaker_io.DEFAULT_NAME_PREFIX])
    )


def check_deployable(desc: Mapping[str, Any]) -> None:
    name, status = desc["TrainingJobName"], desc["TrainingJobStatus"]
    if status != "Completed":
        reason = f": {desc['FailureReason']}" if desc.get("FailureReason") else ""
        raise MlwfError(f"training job {name} is {status}{reason}; only a Completed job deploys")
    image = (desc.get("AlgorithmSpecification") or {}).get("TrainingImage")
    if not is_algorithm_image(image):
        raise MlwfError(
            f"training job {name} did not use the {sagemaker_io.ALGORITHM} algorithm "
            f"(image {image or 'unknown'})"
        )
    if not (desc.get("ModelArtifacts") or {}).get("S3ModelArtifacts"):
        raise MlwfError(f"training job {name} has no model artifact")


def describe_training_job(sm: Any, name: str) -> dict[str, Any]:
    """A named job, checked to be a Completed image-classification job with an artifact."""
    try:
        desc: dict[str, Any] = sm.describe_training_job(TrainingJobName=name)
    except Exception as exc:
        if is_not_found(exc):
            raise MlwfError(f"no training job named {name!r}") from exc
        raise
    check_deployable(desc)
    return desc


def find_latest_training_job(sm: Any, prefixes: Iterable[str]) -> dict[str, Any]:
    """The newest Completed image-classification job named `<prefix>-...`.

    Sorted here by CreationTime: moto ignores ListTrainingJobs' SortBy/SortOrder (and pages
    before it filters), so the paginator's order is not trusted."""
    prefixes = list(prefixes)
    summaries: dict[str, Mapping[str, Any]] = {}
    paginator = sm.get_paginator("list_training_jobs")
    for prefix in prefixes:
        pages = paginator.paginate(
            NameContains=prefix,
            StatusEquals="Completed",
            SortBy="CreationTime",
            SortOrder="Descending",
        )
        for page in pages:
            for summary in page.get("TrainingJobSummaries", []):
                if summary["TrainingJobName"].startswith(prefix + "-"):
                    summaries[summary["TrainingJobName"]] = summary
    newest_first = sorted(
        summaries.values(),
        key=lambda s: (s["CreationTime"], s["TrainingJobName"]),
        reverse=True,
    )
    for summary in newest_first:
        desc: dict[str, Any] = sm.describe_training_job(TrainingJobName=summary["TrainingJobName"])
        try:
            check_deployable(desc)
        except MlwfError:
            continue
        return desc
    names = " or ".join(f"{p}-*" for p in prefixes)
    raise MlwfError(
        f"no completed {sagemaker_io.ALGORITHM} training job named {names} in "
        f"{sm.meta.region_name}: run `mlwf train` first, or pass --training-job NAME"
    )
