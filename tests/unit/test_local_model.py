"""The local model (the mlwf/offline/local_model package): the offline stand-in for SageMaker's
image-classification algorithm.

Most tests train on small seeded synthetic images (tests/helpers/vehicle_images.py). The
last one trains on the real CIFAR-100 split in ../shared and holds the model to its targets
there.
"""

from __future__ import annotations

import io
import json
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from mlwf.offline.local_model import (
    DEFAULT_HYPERPARAMETERS,
    LocalModel,
    LocalModelError,
    UnsupportedImage,
    decode_image,
    train,
)
from tests.helpers.vehicle_images import dataset, draw, encode

DATA = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cifar100-bicycle-motorcycle"
)
# Smaller than the defaults so each training takes well under a second on tiny data.
FAST = {"local_num_centroids": "48", "local_kmeans_patches": "4000", "local_hog_components": "32"}


@pytest.fixture(scope="module")
def training_set() -> tuple[list[bytes], np.ndarray]:
    return dataset(20, seed=1)


@pytest.fixture(scope="module")
def test_set() -> tuple[list[bytes], np.ndarray]:
    return dataset(10, seed=2)


@pytest.fixture(scope="module")
def model(training_set) -> LocalModel:
    """Trained with the default hyperparameters, as the offline trainer does."""
    images, labels = training_set
    return train(images, labels)


@pytest.fixture(scope="module")
def fast_model(training_set) -> LocalModel:
    images, labels = training_set
    return train(images, labels, hyperparameters=FAST)


# ---------------------------------------------------------------- images


def test_decode_image_gives_32x32_rgb_whatever_the_png_or_jpeg() -> None:
    array = draw(1, np.random.default_rng(0))
    assert np.array_equal(decode_image(encode(array)), array)  # PNG is lossless
    for data in (
        encode(array, mode="RGBA"),  # the CIFAR PNGs are RGBA
        encode(array, mode="L"),
        encode(array, mode="P"),
        encode(array, "JPEG"),
        encode(np.zeros((48, 80, 3), np.uint8), "JPEG"),  # resized
        bytearray(encode(array)),
    ):
        decoded = decode_image(data)
        assert decoded.shape == (32, 32, 3)
        assert decoded.dtype == np.uint8
    jpeg = decode_image(encode(array, "JPEG")).astype(int)
    assert np.abs(jpeg - array).mean() < 12  # lossy, but the same picture


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not an image at all",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,  # a PNG signature and nothing valid after it
        encode(draw(0, np.random.default_rng(0)))[:-200],  # truncated inside the pixel data
        encode(np.zeros((32, 32, 3), np.uint8), "GIF"),  # an image, but not PNG/JPEG
        encode(np.zeros((32, 32, 3), np.uint8), "BMP"),
        "a string",
    ],
)
def test_decode_image_rejects_what_is_not_a_png_or_jpeg(data) -> None:
    with pytest.raises(UnsupportedImage):
        decode_image(data)


# ---------------------------------------------------------------- training and prediction


def test_predict_proba_gives_one_probability_row_per_image(model, test_set) -> None:
    images, labels = test_set
    probabilities = model.predict_proba(images)
    assert probabilities.shape == (len(images), 2)
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    # The classes are easy to tell apart: the model gets (nearly) all unseen images right
    assert (probabilities.argmax(axis=1) == labels).mean() >= 0.9
    assert model.predict_proba([]).shape == (0, 2)


def test_the_fast_settings_learn_too(fast_model, test_set) -> None:
    images, labels = test_set
    assert (fast_model.predict_proba(images).argmax(axis=1) == labels).mean() >= 0.9


def test_predict_proba_wants_a_sequence_of_images(fast_model, test_set) -> None:
    with pytest.raises(TypeError):
        fast_model.predict_proba(test_set[0][0])  # one image, not a list of them
    with pytest.raises(UnsupportedImage, match="image 1"):
        fast_model.predict_proba([test_set[0][0], b"garbage"])


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("PNG", "image/png"),
        ("JPEG", "image/jpeg"),
        ("PNG", "application/x-image"),
        ("JPEG", "application/x-image"),
        ("PNG", "Image/PNG; charset=binary"),
    ],
)
def test_invoke_answers_like_the_endpoint(fast_model, fmt, content_type) -> None:
    rng = np.random.default_rng(5)
    for label in (0, 1):
        body = encode(draw(label, rng), fmt)
        response = fast_model.invoke(body, content_type)
        assert isinstance(response, bytes)
        probabilities = json.loads(response)
        assert isinstance(probabilities, list) and len(probabilities) == 2
        assert all(isinstance(p, float) for p in probabilities)
        assert sum(probabilities) == pytest.approx(1.0)
        assert int(np.argmax(probabilities)) == label
        np.testing.assert_allclose(probabilities, fast_model.predict_proba([body])[0], atol=1e-6)


@pytest.mark.parametrize("content_type", ["text/plain", "image/gif", "application/json", ""])
def test_invoke_rejects_other_content_types(fast_model, test_set, content_type) -> None:
    with pytest.raises(UnsupportedImage, match="content type"):
        fast_model.invoke(test_set[0][0], content_type)


def test_invoke_rejects_bytes_that_are_not_an_image(fast_model) -> None:
    with pytest.raises(UnsupportedImage) as caught:
        fast_model.invoke(b"\x00\x01 definitely not a PNG", "image/png")
    assert isinstance(caught.value, LocalModelError)
    assert "PNG or JPEG" in str(caught.value)


def test_training_is_reproducible_for_a_seed(training_set, test_set) -> None:
    images, labels = training_set
    first = train(images, labels, hyperparameters=FAST, seed=3)
    again = train(images, labels, hyperparameters=FAST, seed=3)
    np.testing.assert_array_equal(
        first.predict_proba(test_set[0]), again.predict_proba(test_set[0])
    )


def test_training_accepts_the_real_algorithms_hyperparameters(training_set) -> None:
    images, labels = training_set
    sagemaker = {"num_classes": "2", "epochs": "30", "image_shape": "3,32,32"}
    trained = train(images, labels, hyperparameters={**sagemaker, **FAST})
    recorded = trained.metadata["hyperparameters"]
    assert recorded["epochs"] == "30"  # recorded, not used
    assert recorded["local_num_centroids"] == "48"
    assert recorded["local_folds"] == DEFAULT_HYPERPARAMETERS["local_folds"]


@pytest.mark.parametrize(
    ("hyperparameters", "message"),
    [
        ({"local_num_centroid": "10"}, "unknown hyperparameter"),
        ({"local_num_centroids": "many"}, "expected int"),
        ({"local_patch_c": "-1"}, "out of"),
        ({"local_hog_cells": "4,x"}, "local_hog_cells"),
        ({"local_hog_cells": "32"}, "local_hog_cells"),
        ({"local_flip": "maybe"}, "local_flip"),
        ({"num_classes": "3"}, "num_classes"),
    ],
)
def test_training_rejects_bad_hyperparameters(training_set, hyperparameters, message) -> None:
    images, labels = training_set
    with pytest.raises(LocalModelError, match=message):
        train(images, labels, hyperparameters=hyperparameters)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([0] * 6, "no motorcycle images"),
        ([1] * 6, "no bicycle images"),
        ([0, 0, 0, 0, 0, 1], "at least 2 images of each class"),
        ([0, 1, 0, 1, 0, 2], "0 \\(bicycle\\) or 1"),
        ([0, 1, 0, 1, 0], "6 images but 5 labels"),
    ],
)
def test_training_needs_both_classes_and_valid_labels(training_set, labels, message) -> None:
    images = training_set[0][:6]
    with pytest.raises(LocalModelError, match=message):
        train(images, labels, hyperparameters=FAST)


def test_training_needs_images(training_set) -> None:
    with pytest.raises(LocalModelError, match="no training images"):
        train([], [])
    images, labels = training_set
    with pytest.raises(UnsupportedImage, match="training image 3"):
        train([*images[:3], b"garbage", *images[4:]], labels, hyperparameters=FAST)


def test_two_images_per_class_are_enough_to_train(test_set) -> None:
    # The folds shrink to the smallest class, PCA to the number of samples
    images, labels = dataset(2, seed=4)
    trained = train(images, labels)
    assert trained.metadata["metrics"]["cv_folds"] == 2
    probabilities = trained.predict_proba(test_set[0])
    assert probabilities.shape == (len(test_set[0]), 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)


def test_training_reports_its_metrics(model, training_set) -> None:
    metrics = model.metadata["metrics"]
    assert metrics["num_images"] == {"bicycle": 20, "motorcycle": 20}
    assert 0.8 <= metrics["cv_accuracy"] <= 1.0
    assert set(metrics["cv_member_accuracy"]) == {"patches", "hog", "color"}
    assert set(metrics["members"]) <= {"patches", "hog", "color"}
    assert metrics["train_seconds"] > 0


# ---------------------------------------------------------------- artifacts


def test_artifact_round_trip_gives_identical_probabilities(model, test_set) -> None:
    artifact = model.to_artifact()
    with tarfile.open(fileobj=io.BytesIO(artifact), mode="r:gz") as tar:
        assert sorted(tar.getnames()) == ["metadata.json", "model.pkl"]
        metadata = json.load(tar.extractfile("metadata.json"))
    assert metadata["version"] == 1
    assert metadata["classes"] == ["bicycle", "motorcycle"]
    assert metadata["hyperparameters"] == DEFAULT_HYPERPARAMETERS
    assert metadata["metrics"] == model.metadata["metrics"]

    loaded = LocalModel.from_artifact(artifact)
    assert loaded.classes == ("bicycle", "motorcycle")
    assert loaded.metadata == model.metadata
    np.testing.assert_array_equal(
        loaded.predict_proba(test_set[0]), model.predict_proba(test_set[0])
    )
    body = test_set[0][0]
    assert loaded.invoke(body, "image/png") == model.invoke(body, "image/png")


def tarball(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


def artifact_members(model: LocalModel) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(model.to_artifact()), mode="r:gz") as tar:
        return {name: tar.extractfile(name).read() for name in tar.getnames()}


def test_from_artifact_rejects_corrupt_or_foreign_artifacts(fast_model) -> None:
    good = fast_model.to_artifact()
    members = artifact_members(fast_model)
    metadata = json.loads(members["metadata.json"])
    bad = {
        "empty": b"",
        "garbage": b"this is not a tarball",
        "truncated": good[: len(good) // 2],
        "no model": tarball({"metadata.json": members["metadata.json"]}),
        "no metadata": tarball({"model.pkl": members["model.pkl"]}),
        "other tarball": tarball({"model.tar": b"x", "code/inference.py": b"print()"}),
        "metadata not json": tarball({**members, "metadata.json": b"{"}),
        "foreign format": tarball(
            {**members, "metadata.json": json.dumps({**metadata, "format": "x"}).encode()}
        ),
        "newer version": tarball(
            {**members, "metadata.json": json.dumps({**metadata, "version": 99}).encode()}
        ),
        "other classes": tarball(
            {**members, "metadata.json": json.dumps({**metadata, "classes": ["a", "b"]}).encode()}
        ),
        "damaged model": tarball({**members, "model.pkl": members["model.pkl"][:-100]}),
        "not a model": tarball({**members, "model.pkl": pickle.dumps({"a": 1})}),
    }
    for case, data in bad.items():
        with pytest.raises(LocalModelError):
            LocalModel.from_artifact(data)
            pytest.fail(f"{case}: accepted")


# ---------------------------------------------------------------- the real data


def read_split(split: str) -> tuple[list[bytes], np.ndarray]:
    images, labels = [], []
    for line in (DATA / f"{split}.lst").read_text().splitlines():
        if line.strip():
            _, label, path = line.split("\t")
            images.append((DATA / split / path).read_bytes())
            labels.append(int(float(label)))
    return images, np.asarray(labels)


@pytest.mark.shared_data
def test_real_cifar_bicycles_and_motorcycles_meet_the_targets() -> None:
    if not (DATA / "train.lst").is_file() or not (DATA / "test.lst").is_file():
        pytest.skip(f"the real data is not in {DATA}")
    trained = train(*read_split("train"))
    images, labels = read_split("test")
    probabilities = trained.predict_proba(images)
    right = probabilities.argmax(axis=1) == labels
    confident = probabilities.max(axis=1) >= 0.93
    assert right.mean() >= 0.90
    assert 0.3 <= confident.mean() <= 0.9  # a healthy share both above and below 0.93
    assert right[confident].mean() >= 0.97
