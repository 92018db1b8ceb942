"""The local model's inference (mlwf/offline/local_model/inference.py) against scikit-learn's.

The endpoint answers from the fitted parameters read once into array arithmetic; scikit-learn's
own predict_proba (`_Ensemble.predict_proba`) is the reference. These tests hold the two equal
for every kind of member fit_ensemble builds, so a scikit-learn release that stores a fitted
attribute differently fails here.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC

from mlwf.offline.local_model import LocalModel, LocalModelError, decode_image, train
from mlwf.offline.local_model.inference import CompiledEnsemble
from tests.helpers.paths import PROJECT_ROOT
from tests.helpers.vehicle_images import dataset

# Fewer centroids and HOG components than the defaults, for speed; every member kind stays.
SMALL = {"local_num_centroids": "64", "local_kmeans_patches": "4000", "local_hog_components": "24"}


@pytest.fixture(scope="module")
def model() -> LocalModel:
    images, labels = dataset(20, seed=1)
    return train(images, labels, hyperparameters=SMALL)


@pytest.fixture(scope="module")
def decoded() -> np.ndarray:
    images, _ = dataset(10, seed=2)
    return np.stack([decode_image(image) for image in images])


def kinds(model: LocalModel) -> set[tuple[str, str, str]]:
    ensemble = model._ensemble
    return {
        (
            member.name,
            "+".join(type(step).__name__ for _, step in getattr(member.preprocess, "steps", []))
            or type(member.preprocess).__name__,
            type(member.classifier).__name__,
        )
        for member in ensemble.members
    }


def test_every_member_answers_as_scikit_learn_does(model, decoded) -> None:
    # Given a model with each kind of member fit_ensemble builds
    assert kinds(model) == {
        ("patches", "StandardScaler", "LogisticRegression"),
        ("hog", "StandardScaler+PCA", "SVC"),
        ("color", "StandardScaler", "SVC"),
    }
    ensemble = model._ensemble
    compiled = CompiledEnsemble(ensemble)
    # When each answers the same images
    expected = ensemble.predict_proba(decoded)
    # Then the probabilities are scikit-learn's, and not all alike (a model that learnt)
    np.testing.assert_allclose(compiled.predict_proba(decoded), expected, rtol=0, atol=1e-6)
    assert expected[:, 1].min() < 0.2 < 0.8 < expected[:, 1].max()


def test_each_members_decision_is_scikit_learns(model, decoded) -> None:
    ensemble = model._ensemble
    compiled = CompiledEnsemble(ensemble)
    for member, (name, affine, decide) in zip(ensemble.members, compiled._members, strict=True):
        features = ensemble.features(name, decoded)
        expected = member.classifier.decision_function(member.preprocess.transform(features))
        np.testing.assert_allclose(decide(affine(features)), expected, rtol=0, atol=1e-5)


def test_the_endpoint_and_batch_calls_answer_through_it(model, decoded) -> None:
    images, _ = dataset(3, seed=4)
    reference = model._ensemble.predict_proba(np.stack([decode_image(i) for i in images]))
    np.testing.assert_allclose(model.predict_proba(images), reference, atol=1e-6)
    for image, row in zip(images, reference, strict=True):
        answered = np.array(json.loads(model.invoke(image, "image/png")))
        np.testing.assert_allclose(answered, row, atol=1e-6)


def test_a_model_with_no_member_left_answers_the_class_prior(model, decoded) -> None:
    # fit_ensemble drops every member whose weight turns negative; none left, the prior
    ensemble = model._ensemble
    prior = DummyClassifier(strategy="prior").fit(np.zeros((4, 0)), [0, 1, 1, 1])
    bare = type(ensemble)(ensemble.encoder, ensemble.hog_cells, ensemble.color_bins, [], prior)
    answered = CompiledEnsemble(bare).predict_proba(decoded)
    np.testing.assert_allclose(answered, bare.predict_proba(decoded))
    np.testing.assert_allclose(answered[0], [0.25, 0.75])


@pytest.mark.parametrize(
    ("member", "attribute", "replacement", "named"),
    [
        ("color", "preprocess", MinMaxScaler().fit([[0.0], [1.0]]), "preprocessing step"),
        ("hog", "classifier", SVC(kernel="linear").fit([[0.0], [1.0]], [0, 1]), "classifier"),
    ],
)
def test_a_member_it_cannot_read_is_refused_by_name(
    model, member, attribute, replacement, named
) -> None:
    ensemble = model._ensemble
    members = [
        type(m)(m.name, replacement, m.classifier)
        if m.name == member and attribute == "preprocess"
        else type(m)(m.name, m.preprocess, replacement)
        if m.name == member
        else m
        for m in ensemble.members
    ]
    odd = type(ensemble)(
        ensemble.encoder, ensemble.hog_cells, ensemble.color_bins, members, ensemble.combiner
    )
    with pytest.raises(LocalModelError, match=rf"member '{member}': cannot read its {named}"):
        LocalModel(odd, model.metadata)


def test_importing_the_package_loads_neither_scikit_learn_nor_scipy() -> None:
    # The CLI imports it on paths that never touch a model; the model's libraries load with
    # the first model.
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, mlwf.offline.local_model; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy'}))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
    )
    assert loaded.stdout.strip() == "[]"
