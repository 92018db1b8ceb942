"""The synthetic bicycle/motorcycle generator (training_job/synthetic.py)."""

from __future__ import annotations

import numpy as np
import pytest

from training_job import synthetic


@pytest.fixture(scope="module")
def train() -> synthetic.SyntheticImages:
    return synthetic.generate(300, seed=0, split="train")


@pytest.fixture(scope="module")
def test() -> synthetic.SyntheticImages:
    return synthetic.generate(200, seed=0, split="test")


def test_shapes_and_types(train: synthetic.SyntheticImages) -> None:
    assert train.images.shape == (600, 32, 32, 3)
    assert train.images.dtype == np.uint8
    assert train.labels.dtype == np.int64
    assert np.bincount(train.labels).tolist() == [300, 300]
    assert train.ambiguous.shape == train.mix.shape == (600,)
    assert train.ambiguous.dtype == bool


def test_same_seed_same_bytes_other_seed_or_split_other_images() -> None:
    a = synthetic.generate(40, seed=7)
    b = synthetic.generate(40, seed=7)
    for field in ("images", "labels", "ambiguous", "mix"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.images, synthetic.generate(40, seed=8).images)
    assert not np.array_equal(a.images, synthetic.generate(40, seed=7, split="test").images)


def test_generate_split_defaults() -> None:
    images, labels = synthetic.generate_split("test", seed=1)
    assert images.shape == (2 * synthetic.DEFAULT_COUNTS["test"], 32, 32, 3)
    assert np.bincount(labels).tolist() == [50, 50]
    same, _ = synthetic.generate_split("test", 50, seed=1)
    np.testing.assert_array_equal(images, same)


def test_labels_are_shuffled(train: synthetic.SyntheticImages) -> None:
    first_half = train.labels[:300]
    assert 100 < first_half.sum() < 200  # not all bicycles first


@pytest.mark.parametrize("count", [1, 5, 50, 300])
def test_the_ambiguous_share_is_exact_per_class(count: int) -> None:
    result = synthetic.generate(count, seed=2)
    expected = round(synthetic.AMBIGUOUS_FRACTION * count)
    for label in (0, 1):
        assert result.ambiguous[result.labels == label].sum() == expected
    if count >= 50:
        assert 0.15 <= result.ambiguous.mean() <= 0.2


def test_class_mix_separates_clear_images_only(train: synthetic.SyntheticImages) -> None:
    clear = ~train.ambiguous
    bicycles, motorcycles = (
        train.mix[clear & (train.labels == 0)],
        train.mix[clear & (train.labels == 1)],
    )
    assert bicycles.min() >= 0.0 and bicycles.max() <= 0.15
    assert motorcycles.min() >= 0.85 and motorcycles.max() <= 1.0
    ambiguous = train.mix[train.ambiguous]
    assert ambiguous.min() >= 0.4 and ambiguous.max() <= 0.6
    # Ambiguous images look the same whatever their label: no label leaks into the mix.
    by_label = [train.mix[train.ambiguous & (train.labels == label)].mean() for label in (0, 1)]
    assert abs(by_label[0] - by_label[1]) < 0.05


def test_images_vary(train: synthetic.SyntheticImages) -> None:
    flat = train.images.reshape(len(train.images), -1)
    assert len(np.unique(flat, axis=0)) == len(flat)
    assert flat.std(axis=1).min() > 5  # never a flat colour
    assert len(np.unique(train.images[..., 0].mean(axis=(1, 2)).round())) > 100  # backgrounds


def ridge_scores(train: synthetic.SyntheticImages, test: synthetic.SyntheticImages) -> np.ndarray:
    """A linear model on 16x16 average-pooled pixels, fit in closed form: the simplest
    classifier there is. Positive scores mean motorcycle."""

    def features(images: np.ndarray) -> np.ndarray:
        pooled = images.astype(np.float32).reshape(-1, 16, 2, 16, 2, 3).mean(axis=(2, 4)) / 255
        flat = pooled.reshape(len(images), -1)
        return np.hstack([flat, np.ones((len(images), 1), np.float32)])

    x, y = features(train.images), train.labels * 2.0 - 1.0
    weights = np.linalg.solve(x.T @ x + 10 * np.eye(x.shape[1]), x.T @ y)
    return features(test.images) @ weights


def test_a_simple_classifier_learns_the_clear_images_and_not_the_ambiguous(
    train: synthetic.SyntheticImages, test: synthetic.SyntheticImages
) -> None:
    scores = ridge_scores(train, test)
    right = (scores > 0) == (test.labels == 1)
    clear = ~test.ambiguous
    assert right[clear].mean() >= 0.95
    # Ambiguous test images (72 of them): chance level, and much less confident.
    assert 0.3 <= right[test.ambiguous].mean() <= 0.7
    assert np.abs(scores[test.ambiguous]).mean() < 0.6 * np.abs(scores[clear]).mean()


def test_zero_ambiguous_fraction_gives_only_clear_images() -> None:
    result = synthetic.generate(30, seed=0, ambiguous_fraction=0.0)
    assert not result.ambiguous.any()
    assert ((result.mix <= 0.15) | (result.mix >= 0.85)).all()


@pytest.mark.parametrize(
    "kwargs",
    [{"count_per_class": -1}, {"count_per_class": 3, "ambiguous_fraction": 1.5},
     {"count_per_class": 3, "split": "dev"}],
)  # fmt: skip
def test_bad_arguments(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        synthetic.generate(**kwargs)


def test_zero_images() -> None:
    result = synthetic.generate(0)
    assert result.images.shape == (0, 32, 32, 3)
    assert result.labels.shape == (0,)
