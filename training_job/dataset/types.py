"""The dataset in memory (`Split`, `Dataset`) and on disk (`LocalFile`, `LocalStaging`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from training_job.dataset.classes import CLASS_NAMES

if TYPE_CHECKING:
    import numpy as np

Log = Callable[[str], Any]


@dataclass(frozen=True)
class Split:
    """Images of one split, all arrays aligned: `ids` is the lst index column."""

    images: np.ndarray  # (N, 32, 32, 3) uint8
    labels: np.ndarray  # (N,) int64, 0 bicycle / 1 motorcycle
    names: tuple[str, ...]  # unique, safe PNG file names
    ids: np.ndarray  # (N,) int64, unique within the split
    ambiguous: np.ndarray | None = None  # (N,) bool, synthetic source only

    def __len__(self) -> int:
        return len(self.names)

    def take(self, rows: np.ndarray) -> Split:
        return Split(
            images=self.images[rows],
            labels=self.labels[rows],
            names=tuple(self.names[i] for i in rows),
            ids=self.ids[rows],
            ambiguous=None if self.ambiguous is None else self.ambiguous[rows],
        )

    def class_counts(self) -> dict[str, int]:
        return {name: int((self.labels == label).sum()) for label, name in enumerate(CLASS_NAMES)}


@dataclass(frozen=True)
class Dataset:
    splits: dict[str, Split]
    source: dict[str, Any]  # provenance written into the manifest
    seed: int | None = None
    validation_fraction: float | None = None

    def counts(self) -> dict[str, dict[str, int]]:
        return {name: split.class_counts() for name, split in self.splits.items()}

    @property
    def num_training_samples(self) -> int:
        return len(self.splits["train"])


@dataclass(frozen=True)
class LocalFile:
    key: str  # relative to the prefix: "train/x.png", "train.lst", "manifest.json"
    path: Path
    md5: str
    size: int
    content_type: str


@dataclass(frozen=True)
class LocalStaging:
    work_dir: Path
    images: list[LocalFile]
    lists: list[LocalFile]
    manifest_file: LocalFile
    manifest: dict[str, Any]
