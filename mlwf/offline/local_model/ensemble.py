"""The stacked ensemble: its hyperparameters, its members and their combiner, and how it is fitted.

The members' out-of-fold decision values (k-fold at train time) train a logistic
regression that combines them and is the calibration.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlwf.offline.local_model.errors import LocalModelError
from mlwf.offline.local_model.features import _PatchEncoder, color_features, hog_features
from mlwf.offline.local_model.images import IMAGE_SIZE
from mlwf.offline.local_model.threads import OneThread
from training_job.dataset.classes import CLASS_NAMES

# Precomputed RBF kernels make the k-fold SVM fits cheap; above this many (augmented)
# training images the n x n kernel would be too big, so each fold fits on features instead.
_MAX_KERNEL_SAMPLES = 6000

# The stand-in's own knobs. They are prefixed so they can never collide with the real
# algorithm's hyperparameters (`epochs`, `gamma`, ...), which the training request carries
# too and which this model records but ignores.
DEFAULT_HYPERPARAMETERS: dict[str, str] = {
    "local_num_centroids": "400",
    "local_patch_size": "6",
    "local_kmeans_patches": "50000",
    "local_patch_c": "0.01",
    "local_hog_cells": "8",
    "local_hog_components": "256",
    "local_hog_c": "3",
    "local_color_bins": "16",
    "local_color_c": "1",
    "local_folds": "5",
    "local_flip": "true",
}


@dataclass
class _Member:
    """One view of the image: features -> unsupervised preprocessing -> classifier."""

    name: str
    preprocess: Any  # fitted scikit-learn transformer
    classifier: Any  # fitted scikit-learn classifier with decision_function


@dataclass
class _Ensemble:
    encoder: _PatchEncoder
    hog_cells: tuple[int, ...]
    color_bins: int
    members: list[_Member] = field(default_factory=list)
    combiner: Any = None

    def features(self, name: str, x: np.ndarray) -> np.ndarray:
        if name == "patches":
            return self.encoder.transform(x)
        if name == "hog":
            return hog_features(x, self.hog_cells)
        return color_features(x, self.color_bins)

    def scores(self, x: np.ndarray) -> np.ndarray:
        columns = [
            m.classifier.decision_function(m.preprocess.transform(self.features(m.name, x)))
            for m in self.members
        ]
        return np.column_stack(columns) if columns else np.zeros((len(x), 0))

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """scikit-learn's own answer: the reference that the endpoint's arithmetic
        (inference.CompiledEnsemble) is held to by tests/unit/test_local_model_inference.py."""
        if len(x) == 0:
            return np.zeros((0, 2))
        import sklearn

        # (features of decoded uint8 images are always finite)
        with OneThread(), sklearn.config_context(assume_finite=True):
            return self.combiner.predict_proba(self.scores(x))


def parse_hyperparameters(hyperparameters: Mapping[str, str] | None) -> dict[str, Any]:
    given = {str(k): str(v).strip() for k, v in (hyperparameters or {}).items()}
    unknown = sorted(
        k for k in given if k.startswith("local_") and k not in DEFAULT_HYPERPARAMETERS
    )
    if unknown:
        raise LocalModelError(
            f"unknown hyperparameter(s) {', '.join(unknown)}; the local model knows "
            f"{', '.join(DEFAULT_HYPERPARAMETERS)}"
        )
    if given.get("num_classes", "2") != "2":
        raise LocalModelError(
            f"num_classes={given['num_classes']}: the local model classifies {len(CLASS_NAMES)} "
            f"classes ({', '.join(CLASS_NAMES)})"
        )
    values = {
        **DEFAULT_HYPERPARAMETERS,
        **{k: v for k, v in given.items() if k.startswith("local_")},
    }

    def number(key: str, kind: type, low: float, high: float = math.inf) -> Any:
        try:
            value = kind(values[key])
        except ValueError:
            raise LocalModelError(
                f"hyperparameter {key}={values[key]!r}: expected {kind.__name__}"
            ) from None
        if not low <= value <= high:
            raise LocalModelError(f"hyperparameter {key}={values[key]!r}: out of [{low}, {high}]")
        return value

    try:
        cells = tuple(int(c) for c in values["local_hog_cells"].split(",") if c.strip())
    except ValueError:
        cells = ()
    if not cells or any(not 2 <= c <= IMAGE_SIZE // 2 for c in cells):
        raise LocalModelError(
            f"hyperparameter local_hog_cells={values['local_hog_cells']!r}: expected cell "
            f"sizes between 2 and {IMAGE_SIZE // 2}, comma separated"
        )
    flip = values["local_flip"].lower()
    if flip not in {"true", "false", "1", "0"}:
        raise LocalModelError(f"hyperparameter local_flip={values['local_flip']!r}: true/false")
    return {
        "num_centroids": number("local_num_centroids", int, 2, 10_000),
        "patch_size": number("local_patch_size", int, 2, 16),
        "kmeans_patches": number("local_kmeans_patches", int, 1000, 10_000_000),
        "patch_c": number("local_patch_c", float, 1e-9),
        "hog_cells": cells,
        "hog_components": number("local_hog_components", int, 1),
        "hog_c": number("local_hog_c", float, 1e-9),
        "color_bins": number("local_color_bins", int, 2, 256),
        "color_c": number("local_color_c", float, 1e-9),
        "folds": number("local_folds", int, 2, 100),
        "flip": flip in {"true", "1"},
    }


def fit_ensemble(
    x: np.ndarray, y: np.ndarray, hp: Mapping[str, Any], seed: int
) -> tuple[_Ensemble, dict[str, Any]]:
    from sklearn.base import clone
    from sklearn.decomposition import PCA
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics.pairwise import rbf_kernel
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    n = len(x)
    # The mirror image of a vehicle is the same class: twice the training data for free.
    # Row i + n is the flip of row i; both always fall in the same fold.
    xa = np.concatenate([x, x[:, :, ::-1]]) if hp["flip"] else x
    ya = np.concatenate([y, y]) if hp["flip"] else y
    origin = np.arange(len(xa)) % n

    folds = min(hp["folds"], int(np.bincount(y).min()))
    fold_of = np.empty(n, np.int64)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for k, (_, held_out) in enumerate(splitter.split(np.zeros((n, 1)), y)):
        fold_of[held_out] = k
    fold_of_aug = fold_of[origin]

    encoder = _PatchEncoder(hp["num_centroids"], hp["patch_size"], hp["kmeans_patches"], seed)
    ensemble = _Ensemble(encoder.fit(xa), hp["hog_cells"], hp["color_bins"])

    def hog_preprocess(features: np.ndarray) -> Any:
        components = min(hp["hog_components"], *features.shape)
        return make_pipeline(StandardScaler(), PCA(components, random_state=seed))

    # (view, unsupervised preprocessing for its features, classifier, C); tuned offline
    plans = [
        ("patches", lambda _: StandardScaler(), "logistic", hp["patch_c"]),
        ("hog", hog_preprocess, "rbf", hp["hog_c"]),
        ("color", lambda _: StandardScaler(), "rbf", hp["color_c"]),
    ]
    # The members' out-of-fold decision values train the combiner. Hand-rolled rather than
    # StackingClassifier: the folds must keep an image and its flip together, and the SVMs
    # reuse one precomputed kernel across folds.
    out_of_fold = np.zeros((n, len(plans)))
    for column, (name, make_preprocess, kind, c) in enumerate(plans):
        features = ensemble.features(name, xa)
        preprocess = make_preprocess(features)
        z = preprocess.fit_transform(features).astype(np.float32)
        if kind == "logistic":
            gamma, kernel = None, None
        else:
            gamma = 1.0 / (z.shape[1] * max(float(z.var()), 1e-12))  # SVC's gamma="scale"
            kernel = rbf_kernel(z, gamma=gamma) if len(z) <= _MAX_KERNEL_SAMPLES else None

        def make(kind: str = kind, c: float = c, gamma: float | None = gamma) -> Any:
            if kind == "logistic":
                # newton-cg: 3x faster than lbfgs here, same solution
                return LogisticRegression(C=c, solver="newton-cg", max_iter=1000)
            return SVC(C=c, gamma=gamma)

        for k in range(folds):
            fit_rows = np.flatnonzero(fold_of_aug != k)
            held_out = np.flatnonzero(fold_of == k)  # original images only
            if kernel is not None:
                model = SVC(C=c, kernel="precomputed")
                model.fit(kernel[np.ix_(fit_rows, fit_rows)], ya[fit_rows])
                scores = model.decision_function(kernel[np.ix_(held_out, fit_rows)])
            else:
                scores = make().fit(z[fit_rows], ya[fit_rows]).decision_function(z[held_out])
            out_of_fold[held_out, column] = scores
        ensemble.members.append(_Member(name, preprocess, make().fit(z, ya)))

    # A member whose out-of-fold scores get a negative weight is anti-correlated with the
    # labels out of sample (it happens on tiny training sets): it is dropped rather than
    # trusted upside down. With none left the model answers the class prior, "don't know".
    keep = list(range(len(plans)))
    while keep:
        combiner = LogisticRegression().fit(out_of_fold[:, keep], y)
        positive = [column for column, w in zip(keep, combiner.coef_[0], strict=True) if w > 0]
        if positive == keep:
            break
        keep = positive
    if not keep:
        combiner = DummyClassifier(strategy="prior").fit(out_of_fold[:, keep], y)
    ensemble.members = [ensemble.members[column] for column in keep]
    ensemble.combiner = combiner
    # Honest estimate of the whole model: the combiner is cross-validated too.
    stacked = cross_val_predict(
        clone(combiner), out_of_fold[:, keep], y, cv=splitter, method="predict_proba"
    )
    confident = stacked.max(axis=1) >= 0.93
    metrics = {
        "cv_accuracy": round(float((stacked.argmax(axis=1) == y).mean()), 4),
        "cv_confident_share": round(float(confident.mean()), 4),
        "cv_confident_accuracy": (
            round(float((stacked.argmax(axis=1) == y)[confident].mean()), 4)
            if confident.any()
            else None
        ),
        "cv_member_accuracy": {
            name: round(float(((out_of_fold[:, i] > 0) == y).mean()), 4)
            for i, (name, *_) in enumerate(plans)
        },
        "cv_folds": folds,
        "members": [member.name for member in ensemble.members],
    }
    return ensemble, metrics
