"""What `mlwf train` reads of a staged dataset in moto's S3 before it starts a job
(training_job/dataset/staged.py): the train split's size from manifest.json or train.lst,
and a missing channel as one error."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.sagemaker_stack import (
    BUCKET,
    stage_fake_dataset,
)
from training_job.dataset.staged import check_staged_dataset, num_training_samples
from training_job.errors import MlwfError

# ---------------------------------------------------------------- fixtures


# ---------------------------------------------------------------- the staged dataset


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        (True, 12),  # what `mlwf stage` writes
        ({"splits": {"train": {"count": 7}}}, 7),
        ({"splits": {"train": {"classes": {"bicycle": 3, "motorcycle": 4}}}}, 7),
        ({"train": {"count": 8}}, 8),
        ({"train": 9}, 9),
        ({"counts": {"train": 10}}, 10),
        ({"something": "else"}, 12),  # unknown shape: count train.lst
        (None, 12),  # no manifest: count train.lst
    ],
)
def test_num_training_samples(
    clients: dict[str, Any], manifest: dict[str, Any] | bool | None, expected: int
) -> None:
    stage_fake_dataset(clients["s3"], manifest=manifest)
    assert num_training_samples(clients["s3"], BUCKET, "dataset") == expected


def test_unparseable_manifest_falls_back_to_the_lst(clients: dict[str, Any]) -> None:
    stage_fake_dataset(clients["s3"], manifest=None)
    clients["s3"].put_object(Bucket=BUCKET, Key="dataset/manifest.json", Body=b"{not json")
    assert num_training_samples(clients["s3"], BUCKET, "dataset") == 12


def test_nothing_staged(clients: dict[str, Any]) -> None:
    with pytest.raises(MlwfError, match="run `mlwf stage` first"):
        num_training_samples(clients["s3"], BUCKET, "dataset")
    with pytest.raises(MlwfError, match="missing train/, validation/, train.lst"):
        check_staged_dataset(clients["s3"], BUCKET, "dataset")


def test_partially_staged(clients: dict[str, Any]) -> None:
    stage_fake_dataset(clients["s3"])
    clients["s3"].delete_object(Bucket=BUCKET, Key="dataset/validation.lst")
    with pytest.raises(MlwfError, match=r"missing validation\.lst\)"):
        check_staged_dataset(clients["s3"], BUCKET, "dataset")
