"""The validation split `mlwf stage` makes (training_job/dataset/split.py): stratified,
seeded, independent of input order, and a bad fraction refused in one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.helpers.sagemaker_stack import quiet
from tests.helpers.stage_data import (
    BUCKET,
    ONE_LINE_ERROR,
    cli,
    keys,
)
from training_job.dataset.sources import load_source
from training_job.dataset.split import split_validation
from training_job.dataset.types import Dataset

# --------------------------------------------------------------------------- validation split


def test_validation_split_is_stratified_seeded_and_keeps_test(tarball: Path) -> None:
    dataset = load_source(tarball, verify=False, log=quiet)
    first = split_validation(dataset, fraction=0.2, seed=5)
    again = split_validation(dataset, fraction=0.2, seed=5)
    other = split_validation(dataset, fraction=0.2, seed=6)

    assert first.counts() == {
        "train": {"bicycle": 8, "motorcycle": 8},
        "validation": {"bicycle": 2, "motorcycle": 2},
        "test": {"bicycle": 3, "motorcycle": 3},
    }
    assert first.splits["validation"].names == again.splits["validation"].names
    assert first.splits["validation"].names != other.splits["validation"].names
    train, validation = set(first.splits["train"].names), set(first.splits["validation"].names)
    assert not train & validation
    assert train | validation == set(dataset.splits["train"].names)
    # Every image keeps its label, pixels and lst index wherever it lands.
    original = dataset.splits["train"]
    for split in (first.splits["train"], first.splits["validation"]):
        for row, name in enumerate(split.names):
            source_row = original.names.index(name)
            assert split.labels[row] == original.labels[source_row]
            assert split.ids[row] == original.ids[source_row]
            np.testing.assert_array_equal(split.images[row], original.images[source_row])
    assert first.splits["test"] is dataset.splits["test"]
    assert (first.seed, first.validation_fraction) == (5, 0.2)


def test_validation_split_does_not_depend_on_input_order(tarball: Path) -> None:
    dataset = load_source(tarball, verify=False, log=quiet)
    train = dataset.splits["train"]
    shuffled = Dataset(
        splits={**dataset.splits, "train": train.take(np.random.default_rng(1).permutation(20))},
        source=dataset.source,
    )
    a = split_validation(dataset, 0.3, seed=2).splits["validation"].names
    b = split_validation(shuffled, 0.3, seed=2).splits["validation"].names
    assert sorted(a) == sorted(b)


@pytest.mark.parametrize(
    ("fraction", "per_class"), [(0.1, 1), (0.01, 1), (0.25, 3), (0.5, 5), (0.99, 9)]
)
def test_each_class_keeps_images_on_both_sides(tarball: Path, fraction: float, per_class: int):
    dataset = load_source(tarball, verify=False, log=quiet)
    split = split_validation(dataset, fraction, seed=0)
    assert split.counts()["validation"] == {"bicycle": per_class, "motorcycle": per_class}


@pytest.mark.parametrize("fraction", ["0", "1", "-0.1", "1.5", "nan"])
def test_a_bad_validation_fraction_is_refused(
    s3: Any, tarball: Path, fraction: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = cli(
        "--source",
        str(tarball),
        "--no-verify",
        "--bucket",
        BUCKET,
        "--validation-fraction",
        fraction,
    )
    err = capsys.readouterr().err
    assert rc == 1
    assert ONE_LINE_ERROR.match(err.strip()) and "--validation-fraction" in err
    assert keys(s3) == set()
