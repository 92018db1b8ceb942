"""The three views of an image the ensemble classifies: Coates & Ng patch features, colour
HOG and HSV histograms."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image


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


def hog_features(x: np.ndarray, cells: Sequence[int]) -> np.ndarray:
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


def color_features(x: np.ndarray, bins: int) -> np.ndarray:
    if len(x) == 0:
        return np.zeros((0, 3 * bins), np.float32)
    hsv = np.stack([np.asarray(Image.fromarray(image).convert("HSV")) for image in x])
    # One bincount for every image and channel: (image, channel, bin) -> flat index
    index = hsv.astype(np.int64) * bins >> 8
    index += np.arange(3) * bins
    index += (np.arange(len(x)) * 3 * bins)[:, None, None, None]
    counts = np.bincount(index.ravel(), minlength=len(x) * 3 * bins)
    return (counts.reshape(len(x), 3 * bins) / (x.shape[1] * x.shape[2])).astype(np.float32)
