"""A CPU stand-in for SageMaker's built-in image-classification algorithm (offline mode).

The contract is the real endpoint's: PNG or JPEG bytes in, a JSON list of two probabilities
out, `[p_bicycle, p_motorcycle]` (label 0 = bicycle, 1 = motorcycle), 32x32 RGB images
(other sizes are resized). Training takes the same images and labels as the real training
job and produces a gzipped tarball, as SageMaker's `model.tar.gz`.

The model is a small stacked ensemble of three views of the image, each with the classifier
that suited it best when tuned offline on CIFAR-100 bicycles vs motorcycles (5-fold CV on
the 1000 training images; see benchmarks/local_model.py):

- patches: Coates & Ng (2011) single-layer features. Normalised, ZCA-whitened 6x6 colour
  patches are encoded against a k-means dictionary of 400 ("triangle" activation) and
  sum-pooled over the four image quadrants; standardised, then a strongly regularised
  logistic regression. The strongest single view (CV ~0.85 alone).
- hog: colour HOG at 8-pixel cells (outline and frame shape), PCA to 256 dimensions, RBF
  SVM (~0.84 alone).
- color: HSV marginal histograms (motorcycles are shiny and saturated), RBF SVM (~0.73
  alone, but it errs on different images than the other two).

A logistic regression over the members' out-of-fold decision values (k-fold at train time)
combines them and is the calibration. Measured: 0.89-0.90 CV accuracy, 0.945-0.955 on the
200 test images (seeds 0-2) against 0.81 for HOG + SVM; of the images at >= 0.93 confidence
(~2/3 of them) 98% are right in CV, all on the test split. Training images are doubled by a
horizontal flip (a mirrored vehicle is the same class); test-time flipping measured no gain,
so inference looks at each image once. ~9 s to train on 1000 images, ~4-5 ms per image.

The defaults were twice the centroids and 4-pixel HOG cells as well until 2026-11: 1% more
CV accuracy, the same on the test images, but twice the training time and ~1.4x the
inference time, which is on the critical path of every offline execution.

Importing this module is cheap: scikit-learn and scikit-image load on first use.
"""

from __future__ import annotations

import io
import json
import math
import pickle
import platform
import tarfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_SIZE = 32
CLASSES: tuple[str, str] = ("bicycle", "motorcycle")
CONTENT_TYPES = frozenset({"image/png", "image/jpeg", "application/x-image"})
ARTIFACT_FORMAT = "mlwf-local-model"
ARTIFACT_VERSION = 1
METADATA_NAME = "metadata.json"
MODEL_NAME = "model.pkl"

# Far above any photo worth classifying at 32x32; refuses decompression bombs cheaply.
_MAX_PIXELS = 50_000_000
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


class LocalModelError(Exception):
    """The local model cannot train, load or answer; the message says why."""


class UnsupportedImage(LocalModelError):
    """The bytes are not a decodable PNG/JPEG image, or the content type is not an image."""


class OneThread:
    """Run the numeric work with one BLAS/OpenMP thread, process-wide, while any is active.

    OpenBLAS and OpenMP threads spin while they wait: measured on 2 cores with one other busy
    process (with the earlier, bigger defaults), training took 50-70 s instead of 15 s and
    an invocation 40 ms instead of 7 ms.
    One thread costs ~15% when the machine is otherwise idle. The limit is global, so nested
    and concurrent users share one: the first in sets it, the last out restores it. Setting
    and restoring it costs ~2.5 ms, a third of an invocation: a process that serves many
    invocations (the model server) holds one for its whole life, so each call only counts.
    """

    _lock = threading.Lock()
    _active = 0
    _controller: Any = None
    _limiter: Any = None

    def __enter__(self) -> None:
        with self._lock:
            cls = type(self)
            if cls._active == 0:
                if cls._controller is None:
                    import scipy.linalg  # noqa: F401  (loads scipy's own BLAS first)
                    from threadpoolctl import ThreadpoolController

                    cls._controller = ThreadpoolController()
                cls._limiter = cls._controller.limit(limits=1)
            cls._active += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            cls = type(self)
            cls._active -= 1
            if cls._active == 0:
                cls._limiter.restore_original_limits()
                cls._limiter = None


# ---------------------------------------------------------------- images


def decode_image(data: bytes) -> np.ndarray:
    """PNG or JPEG bytes -> 32x32x3 uint8 RGB (resized if needed); UnsupportedImage otherwise."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise UnsupportedImage(f"expected image bytes, got {type(data).__name__}")
    if not data:
        raise UnsupportedImage("the image is empty")
    try:
        with Image.open(io.BytesIO(data), formats=("PNG", "JPEG")) as image:
            if image.width * image.height > _MAX_PIXELS:
                raise UnsupportedImage(f"the image is too large ({image.width}x{image.height})")
            if image.format == "JPEG":
                image.draft("RGB", (IMAGE_SIZE, IMAGE_SIZE))  # let libjpeg downscale big photos
            image.load()
            if image.mode in ("I;16", "I"):  # 16-bit grey: convert("RGB") would clip it
                image = image.point(lambda v: v / 256).convert("L")
            image = image.convert("RGB")
            if image.size != (IMAGE_SIZE, IMAGE_SIZE):
                image = image.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BICUBIC)
            return np.asarray(image, dtype=np.uint8)
    except UnsupportedImage:
        raise
    except UnidentifiedImageError:
        raise UnsupportedImage("the bytes are not a PNG or JPEG image") from None
    except Image.DecompressionBombError as exc:
        raise UnsupportedImage(f"the image is too large: {exc}") from None
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or corrupt image data
        raise UnsupportedImage(f"the image cannot be decoded: {exc}") from None


def _decode_all(images: Sequence[bytes], what: str) -> np.ndarray:
    if isinstance(images, bytes | bytearray | memoryview | str):
        raise TypeError(
            f"{what}: expected a sequence of images, not a single {type(images).__name__}"
        )
    decoded = []
    for index, data in enumerate(images):
        try:
            decoded.append(decode_image(data))
        except UnsupportedImage as exc:
            raise UnsupportedImage(f"{what} {index}: {exc}") from None
    if not decoded:
        return np.zeros((0, IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    return np.stack(decoded)


# ---------------------------------------------------------------- features


class _PatchEncoder:
    """Coates & Ng single-layer features: whitened patches -> k-means triangle code -> pooled.

    Written out because no library ships it; k-means itself is scikit-learn's.
    """

    def __init__(self, n_centroids: int, patch_size: int, n_patches: int, seed: int) -> None:
        self.n_centroids = n_centroids
        self.patch_size = patch_size
        self.n_patches = n_patches
        self.seed = seed

    @staticmethod
    def _normalise(patches: np.ndarray) -> np.ndarray:
        # Per-patch brightness and contrast normalisation; the +10 (pixels are 0..255)
        # keeps flat patches from being blown up into noise.
        patches = patches - patches.mean(axis=1, keepdims=True)
        patches /= np.sqrt(patches.var(axis=1, keepdims=True) + 10.0)
        return patches

    def _windows(self, x: np.ndarray) -> np.ndarray:
        # (n, h', w', 3, p, p) view: every patch position, no copy
        p = self.patch_size
        return np.lib.stride_tricks.sliding_window_view(x, (p, p), axis=(1, 2))

    def fit(self, x: np.ndarray) -> _PatchEncoder:
        from sklearn.cluster import MiniBatchKMeans

        rng = np.random.default_rng(self.seed)
        windows = self._windows(x)
        n, rows, cols = windows.shape[:3]
        dim = windows.shape[3] * self.patch_size**2
        # Enough patches for k-means, fewer than all of them (that would be ~1.5M).
        count = max(self.n_centroids * 4, min(self.n_patches, 100 * n))
        picks = (
            rng.integers(0, n, count),
            rng.integers(0, rows, count),
            rng.integers(0, cols, count),
        )
        patches = self._normalise(windows[picks].reshape(count, dim).astype(np.float32))
        self.mean_ = patches.mean(axis=0)
        eigenvalues, eigenvectors = np.linalg.eigh(np.cov(patches - self.mean_, rowvar=False))
        # ZCA whitening; 0.1 regularises the tiny eigenvalues (pixel noise)
        self.whiten_ = ((eigenvectors / np.sqrt(eigenvalues + 0.1)) @ eigenvectors.T).astype(
            np.float32
        )
        # k-means++ seeding on a 5*k sample: on the default 3*batch_size it took 3 of the
        # 4 seconds, for no measurable gain in accuracy.
        kmeans = MiniBatchKMeans(
            n_clusters=self.n_centroids,
            batch_size=2048,
            init_size=min(count, 5 * self.n_centroids),
            n_init=1,
            random_state=self.seed,
        ).fit((patches - self.mean_) @ self.whiten_)
        centroids = kmeans.cluster_centers_.astype(np.float32)
        # [-2c, |c|^2, 1]: against [p, 1, |p|^2] one matrix product gives |p - c|^2
        self.distance_matrix_ = np.column_stack(
            [-2.0 * centroids, (centroids**2).sum(axis=1), np.ones(len(centroids), np.float32)]
        ).T.copy()
        return self

    def transform(self, x: np.ndarray, batch: int = 8) -> np.ndarray:
        # Small batches keep the (patches x centroids) distance matrix in cache: ~1.5x
        # faster than batches of 100.
        return np.concatenate(
            [self._encode(x[start : start + batch]) for start in range(0, len(x), batch)]
        )

    def _encode(self, x: np.ndarray) -> np.ndarray:
        windows = self._windows(x.astype(np.float32))
        n, rows, cols = windows.shape[:3]
        patches = self._normalise(windows.reshape(n * rows * cols, -1))
        patches -= self.mean_
        patches = patches @ self.whiten_
        ones = np.ones((len(patches), 1), np.float32)
        squares = (patches * patches).sum(axis=1, keepdims=True)
        dist = np.concatenate([patches, ones, squares], axis=1) @ self.distance_matrix_
        # Triangle activation: max(0, mean distance - distance to each centroid)
        np.maximum(dist, 0.0, out=dist)  # rounding can make a tiny distance negative
        np.sqrt(dist, out=dist)
        code = np.subtract(dist.mean(axis=1, keepdims=True), dist, out=dist)
        np.maximum(code, 0.0, out=code)
        code = code.reshape(n, rows, cols, -1)
        r, c = (rows + 1) // 2, (cols + 1) // 2
        quadrants = (
            code[:, :r, :c],
            code[:, :r, c:],
            code[:, r:, :c],
            code[:, r:, c:],
        )
        return np.concatenate([q.sum(axis=(1, 2)) for q in quadrants], axis=1)


def _hog_features(x: np.ndarray, cells: Sequence[int]) -> np.ndarray:
    from skimage.feature import hog

    scaled = x.astype(np.float32) / 255.0
    return np.array(
        [
            np.concatenate(
                [
                    hog(
                        image,
                        orientations=9,
                        pixels_per_cell=(cell, cell),
                        cells_per_block=(2, 2),
                        channel_axis=-1,
                    )
                    for cell in cells
                ]
            )
            for image in scaled
        ],
        dtype=np.float32,
    )


def _color_features(x: np.ndarray, bins: int) -> np.ndarray:
    if len(x) == 0:
        return np.zeros((0, 3 * bins), np.float32)
    hsv = np.stack([np.asarray(Image.fromarray(image).convert("HSV")) for image in x])
    # One bincount for every image and channel: (image, channel, bin) -> flat index
    index = hsv.astype(np.int64) * bins >> 8
    index += np.arange(3) * bins
    index += (np.arange(len(x)) * 3 * bins)[:, None, None, None]
    counts = np.bincount(index.ravel(), minlength=len(x) * 3 * bins)
    return (counts.reshape(len(x), 3 * bins) / (x.shape[1] * x.shape[2])).astype(np.float32)


# ---------------------------------------------------------------- the ensemble


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
            return _hog_features(x, self.hog_cells)
        return _color_features(x, self.color_bins)

    def scores(self, x: np.ndarray) -> np.ndarray:
        columns = [
            m.classifier.decision_function(m.preprocess.transform(self.features(m.name, x)))
            for m in self.members
        ]
        return np.column_stack(columns) if columns else np.zeros((len(x), 0))

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros((0, 2))
        import sklearn

        # Features of decoded uint8 images are always finite: skipping scikit-learn's check
        # of every array saves ~10% of an invocation.
        with OneThread(), sklearn.config_context(assume_finite=True):
            return self.combiner.predict_proba(self.scores(x))


def _parse_hyperparameters(hyperparameters: Mapping[str, str] | None) -> dict[str, Any]:
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
            f"num_classes={given['num_classes']}: the local model classifies {len(CLASSES)} "
            f"classes ({', '.join(CLASSES)})"
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


def _fit_ensemble(
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


# ---------------------------------------------------------------- the model


class LocalModel:
    """A trained local model: what the offline endpoint serves."""

    classes: tuple[str, str] = CLASSES

    def __init__(self, ensemble: _Ensemble, metadata: Mapping[str, Any]) -> None:
        self._ensemble = ensemble
        self._metadata = dict(metadata)

    @property
    def metadata(self) -> dict[str, Any]:
        """Version, classes, hyperparameters and training metrics (a copy)."""
        return json.loads(json.dumps(self._metadata))

    def predict_proba(self, images: Sequence[bytes]) -> np.ndarray:
        """Probabilities of (bicycle, motorcycle) for each image: shape (n, 2), rows sum to 1."""
        return self._ensemble.predict_proba(_decode_all(images, "image"))

    def invoke(self, body: bytes, content_type: str) -> bytes:
        """The endpoint: one image in, b"[p_bicycle, p_motorcycle]" (JSON) out."""
        kind = (content_type or "").split(";")[0].strip().lower()
        if kind not in CONTENT_TYPES:
            raise UnsupportedImage(
                f"content type {content_type!r} is not supported; "
                f"use one of {', '.join(sorted(CONTENT_TYPES))}"
            )
        probabilities = self._ensemble.predict_proba(decode_image(body)[None])[0]
        return json.dumps([float(p) for p in probabilities]).encode()

    def to_artifact(self) -> bytes:
        """The model as a gzipped tarball: model.pkl plus metadata.json."""
        members = {
            METADATA_NAME: json.dumps(self._metadata, indent=2, sort_keys=True).encode(),
            MODEL_NAME: pickle.dumps(self._ensemble, protocol=pickle.HIGHEST_PROTOCOL),
        }
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            for name, payload in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(payload)
                info.mtime = int(time.time())
                tar.addfile(info, io.BytesIO(payload))
        return buffer.getvalue()

    @classmethod
    def from_artifact(cls, data: bytes) -> LocalModel:
        """Load a model written by to_artifact; LocalModelError if it is not one."""
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
                payloads = {}
                for name in (METADATA_NAME, MODEL_NAME):
                    member = tar.getmember(name)
                    stream = tar.extractfile(member) if member.isfile() else None
                    if stream is None:
                        raise LocalModelError(f"the artifact's {name} is not a file")
                    payloads[name] = stream.read()
        except LocalModelError:
            raise
        except KeyError as exc:
            raise LocalModelError(f"not a local-model artifact: {exc.args[0]}") from None
        except (tarfile.TarError, OSError, EOFError, TypeError) as exc:
            raise LocalModelError(f"not a gzipped tarball: {exc}") from None

        try:
            metadata = json.loads(payloads[METADATA_NAME])
        except ValueError as exc:
            raise LocalModelError(f"the artifact's {METADATA_NAME} is not JSON: {exc}") from None
        if not isinstance(metadata, dict) or metadata.get("format") != ARTIFACT_FORMAT:
            raise LocalModelError(f"not a local-model artifact (format is not {ARTIFACT_FORMAT})")
        if metadata.get("version") != ARTIFACT_VERSION:
            raise LocalModelError(
                f"artifact version {metadata.get('version')!r} is not supported "
                f"(this code reads version {ARTIFACT_VERSION})"
            )
        if tuple(metadata.get("classes", ())) != CLASSES:
            raise LocalModelError(f"the artifact's classes are not {CLASSES}")
        # Unpickling runs code named by the file, so artifacts are only ever loaded from the
        # user's own bucket, where their own training job wrote them, which is also how
        # SageMaker treats its model.tar.gz.
        try:
            ensemble = pickle.loads(payloads[MODEL_NAME])
        except Exception as exc:  # any damage surfaces as some exception from pickle
            raise LocalModelError(f"the artifact's model cannot be loaded: {exc!r}") from None
        if not isinstance(ensemble, _Ensemble):
            raise LocalModelError("the artifact's model is not a local model")
        return cls(ensemble, metadata)


def train(
    images: Sequence[bytes],
    labels: Sequence[int],
    *,
    hyperparameters: Mapping[str, str] | None = None,
    seed: int = 0,
) -> LocalModel:
    """Train on PNG/JPEG images with labels 0 (bicycle) / 1 (motorcycle).

    `hyperparameters` may hold the real algorithm's (recorded, ignored) and the local model's
    own `local_*` overrides of DEFAULT_HYPERPARAMETERS. Every random choice follows `seed`.
    """
    started = time.perf_counter()
    hp = _parse_hyperparameters(hyperparameters)
    if isinstance(labels, bytes | str):
        raise TypeError("labels: expected a sequence of 0/1 labels")
    raw_labels = list(labels)
    if len(raw_labels) != len(images):
        raise LocalModelError(f"{len(images)} images but {len(raw_labels)} labels")
    if not raw_labels:
        raise LocalModelError("no training images")
    bad = [label for label in raw_labels if label not in (0, 1) or isinstance(label, float)]
    if bad:
        raise LocalModelError(f"labels must be 0 (bicycle) or 1 (motorcycle), got {bad[0]!r}")
    y = np.asarray(raw_labels, dtype=np.int64)
    counts = np.bincount(y, minlength=2)
    if counts.min() == 0:
        missing = CLASSES[int(counts.argmin())]
        raise LocalModelError(f"the training data has no {missing} images: need both classes")
    if counts.min() < 2:
        raise LocalModelError(
            f"need at least 2 images of each class, got {counts[0]} bicycle(s) and "
            f"{counts[1]} motorcycle(s)"
        )
    x = _decode_all(images, "training image")
    with OneThread():
        ensemble, metrics = _fit_ensemble(x, y, hp, seed)
    metrics["train_seconds"] = round(time.perf_counter() - started, 2)
    metrics["num_images"] = {CLASSES[0]: int(counts[0]), CLASSES[1]: int(counts[1])}
    given = {str(k): str(v) for k, v in (hyperparameters or {}).items()}
    metadata = {
        "format": ARTIFACT_FORMAT,
        "version": ARTIFACT_VERSION,
        "classes": list(CLASSES),
        "image_shape": [3, IMAGE_SIZE, IMAGE_SIZE],
        "seed": seed,
        "hyperparameters": {**DEFAULT_HYPERPARAMETERS, **given},
        "metrics": metrics,
        "libraries": _library_versions(),
    }
    return LocalModel(ensemble, metadata)


def _library_versions() -> dict[str, str]:
    import PIL
    import skimage
    import sklearn

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "scikit-image": skimage.__version__,
        "pillow": PIL.__version__,
    }
