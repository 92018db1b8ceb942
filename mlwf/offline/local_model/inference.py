"""The fitted ensemble read once into array arithmetic, for the endpoint's one image per call.

scikit-learn checks its input on every call (check_array, feature names, dataframe
detection): for one image that was ~3 ms of a 7-8 ms invocation, against well under 1 ms
of arithmetic. The endpoint serves one image per call, on the critical path of every offline
execution, so the fitted parameters are read here once, when a model is loaded, into the
same arithmetic scikit-learn does:

- StandardScaler then PCA: one affine map, ((f - mean) / scale - pca_mean) @ components.T;
- LogisticRegression: f @ coef + intercept (binary: one column);
- SVC with the RBF kernel: dual_coef @ exp(-gamma |z - sv|^2) + intercept;
- the combiner: LogisticRegression's expit (binary), or DummyClassifier's class prior.

The features themselves (`_Ensemble.features`) are the same code in both paths.
`_Ensemble.predict_proba` stays scikit-learn's own, the reference:
tests/unit/test_local_model_inference.py holds the two equal, so a change in how
scikit-learn stores these fitted attributes fails there, not in a user's endpoint.
Only what `fit_ensemble` builds is read; anything else is refused with LocalModelError.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mlwf.offline.local_model.ensemble import _Ensemble
from mlwf.offline.local_model.errors import LocalModelError
from mlwf.offline.local_model.threads import OneThread


@dataclass(frozen=True)
class _Affine:
    """z = f * scale + offset, or f @ matrix + offset once a PCA has made it a matrix."""

    scale: np.ndarray | None
    matrix: np.ndarray | None
    offset: np.ndarray

    def __call__(self, features: np.ndarray) -> np.ndarray:
        z = features.astype(np.float64)
        if self.matrix is not None:
            z = z @ self.matrix
        elif self.scale is not None:
            z *= self.scale
        z += self.offset
        return z


@dataclass(frozen=True)
class _LinearDecision:
    weights: np.ndarray
    intercept: float

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return z @ self.weights + self.intercept


@dataclass(frozen=True)
class _RbfDecision:
    support_vectors: np.ndarray
    support_norms: np.ndarray  # |sv|^2, once
    gamma: float
    dual_coef: np.ndarray
    intercept: float

    def __call__(self, z: np.ndarray) -> np.ndarray:
        distances = (z * z).sum(axis=1)[:, None] - 2.0 * z @ self.support_vectors.T
        distances += self.support_norms
        np.maximum(distances, 0.0, out=distances)  # rounding can make a tiny one negative
        return np.exp(-self.gamma * distances) @ self.dual_coef + self.intercept


def _affine(preprocess: Any, name: str) -> _Affine:
    steps = [step for _, step in preprocess.steps] if hasattr(preprocess, "steps") else [preprocess]
    width = int(preprocess.n_features_in_)
    # Kept diagonal while it is: a 1600-wide scaler as a dense matrix cost 0.4 ms a call.
    scale, matrix, offset = np.ones(width), None, np.zeros(width)
    for step in steps:
        kind = type(step).__name__
        if kind == "StandardScaler" and step.with_mean and step.with_std:
            if matrix is None:
                scale = scale / step.scale_
            else:
                matrix = matrix / step.scale_
            offset = (offset - step.mean_) / step.scale_
        elif kind == "PCA" and not step.whiten:
            components = step.components_.T
            matrix = scale[:, None] * components if matrix is None else matrix @ components
            offset = (offset - step.mean_) @ components
        else:
            raise LocalModelError(f"member {name!r}: cannot read its preprocessing step {step!r}")
    return _Affine(None if matrix is not None else scale, matrix, offset)


def _decision(classifier: Any, name: str) -> _LinearDecision | _RbfDecision:
    kind = type(classifier).__name__
    if len(getattr(classifier, "classes_", ())) != 2:
        raise LocalModelError(f"member {name!r}: expected a binary classifier, got {classifier!r}")
    if kind == "LogisticRegression":
        return _LinearDecision(
            classifier.coef_[0].astype(np.float64), float(classifier.intercept_[0])
        )
    # fit_ensemble gives each SVC a number for gamma (its own "scale"), so no private
    # attribute of the fitted SVC is read.
    if kind == "SVC" and classifier.kernel == "rbf" and isinstance(classifier.gamma, float):
        support_vectors = np.asarray(classifier.support_vectors_, np.float64)
        return _RbfDecision(
            support_vectors,
            (support_vectors * support_vectors).sum(axis=1),
            classifier.gamma,
            np.asarray(classifier.dual_coef_[0], np.float64),
            float(classifier.intercept_[0]),
        )
    raise LocalModelError(f"member {name!r}: cannot read its classifier {classifier!r}")


class CompiledEnsemble:
    """`_Ensemble.predict_proba`, as array arithmetic read once from the fitted ensemble."""

    def __init__(self, ensemble: _Ensemble) -> None:
        # scipy loads with the model, not with the package (importing it stays cheap)
        from scipy.special import expit  # type: ignore[import-untyped]  # unstubbed

        self._expit = expit
        self._ensemble = ensemble
        self._members = [
            (
                member.name,
                _affine(member.preprocess, member.name),
                _decision(member.classifier, member.name),
            )
            for member in ensemble.members
        ]
        combiner = ensemble.combiner
        kind = type(combiner).__name__
        if kind == "LogisticRegression" and len(combiner.classes_) == 2:
            self._combiner: _LinearDecision | None = _LinearDecision(
                combiner.coef_[0].astype(np.float64), float(combiner.intercept_[0])
            )
            self._prior = None
        elif kind == "DummyClassifier" and combiner.strategy == "prior":
            self._combiner = None
            self._prior = np.asarray(combiner.class_prior_, np.float64)
        else:
            raise LocalModelError(f"cannot read the ensemble's combiner {combiner!r}")

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Probabilities of (bicycle, motorcycle) for decoded images x: shape (n, 2)."""
        if self._combiner is None:
            assert self._prior is not None
            return np.tile(self._prior, (len(x), 1))
        if len(x) == 0:
            return np.zeros((0, 2))
        with OneThread():
            scores = np.column_stack(
                [
                    decide(affine(self._ensemble.features(name, x)))
                    for name, affine, decide in self._members
                ]
            )
        positive = self._expit(self._combiner(scores))
        return np.column_stack([1.0 - positive, positive])
