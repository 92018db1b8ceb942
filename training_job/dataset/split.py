"""The validation split: a stratified, seeded share of train. Test is held out and never
used as the validation channel."""

from __future__ import annotations

import math

from training_job.dataset.classes import CLASS_NAMES
from training_job.dataset.types import Dataset, Split
from training_job.errors import MlwfError

DEFAULT_VALIDATION_FRACTION = 0.1


def split_validation(
    dataset: Dataset, fraction: float = DEFAULT_VALIDATION_FRACTION, seed: int = 0
) -> Dataset:
    """Move a stratified, seeded `fraction` of train (per class) into `validation`.

    A `validation` split already in `dataset` is merged back into train first, so the result
    depends only on the set of training images, `fraction` and `seed` (not on their order).
    Each class keeps at least one image on each side. Test is passed through untouched.
    """
    import numpy as np

    check_fraction(fraction)
    train = dataset.splits["train"]
    if "validation" in dataset.splits:
        train = _concat(train, dataset.splits["validation"])
    if len(set(train.ids.tolist())) != len(train):
        raise MlwfError("train and validation share lst indices; they must be unique")
    canonical = np.array(sorted(range(len(train)), key=train.names.__getitem__), dtype=np.int64)
    rng = np.random.default_rng(seed)
    chosen = np.zeros(len(train), dtype=bool)
    for label, name in enumerate(CLASS_NAMES):
        members = canonical[train.labels[canonical] == label]
        if len(members) < 2:
            raise MlwfError(
                f"train has {len(members)} {name} image(s): need at least 2 to split "
                "a validation set"
            )
        n_validation = min(len(members) - 1, max(1, math.floor(len(members) * fraction + 0.5)))
        chosen[members[rng.permutation(len(members))[:n_validation]]] = True
    splits = {
        "train": train.take(np.flatnonzero(~chosen)),
        "validation": train.take(np.flatnonzero(chosen)),
        "test": dataset.splits["test"],
    }
    return Dataset(splits=splits, source=dataset.source, seed=seed, validation_fraction=fraction)


def check_fraction(fraction: float) -> None:
    if not (0.0 < fraction < 1.0) or math.isnan(fraction):
        raise MlwfError(
            f"--validation-fraction must be between 0 and 1 (exclusive), got {fraction}"
        )


def _concat(first: Split, second: Split) -> Split:
    import numpy as np

    ambiguous = None
    if first.ambiguous is not None and second.ambiguous is not None:
        ambiguous = np.concatenate([first.ambiguous, second.ambiguous])
    return Split(
        images=np.concatenate([first.images, second.images]),
        labels=np.concatenate([first.labels, second.labels]),
        names=first.names + second.names,
        ids=np.concatenate([first.ids, second.ids]),
        ambiguous=ambiguous,
    )
