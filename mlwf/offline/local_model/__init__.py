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
so inference looks at each image once. ~9-13 s to train on 1000 images, ~5.4 ms per image
(the fitted members are read once into plain array arithmetic, `inference`: scikit-learn's
per-call checks made it ~8.9 ms).

The defaults were twice the centroids and 4-pixel HOG cells as well until 2026-11: 1% more
CV accuracy, the same on the test images, but twice the training time and ~1.4x the
inference time, which is on the critical path of every offline execution.

Modules: `images` (bytes to 32x32 RGB), `features` (the three views), `ensemble` (its
hyperparameters, members, combiner and fitting), `artifact` (the model.tar.gz), `model`
(`LocalModel`, `train`), `inference` (what the endpoint computes), `threads` (`OneThread`),
`errors`. Import the names below from this package.

Importing this package is cheap: scikit-learn and scikit-image load on first use.
"""

from mlwf.offline.local_model.artifact import (
    ARTIFACT_FORMAT,
    ARTIFACT_VERSION,
    METADATA_NAME,
    MODEL_NAME,
)
from mlwf.offline.local_model.ensemble import DEFAULT_HYPERPARAMETERS, _Ensemble, _Member
from mlwf.offline.local_model.errors import LocalModelError, UnsupportedImage
from mlwf.offline.local_model.features import _PatchEncoder
from mlwf.offline.local_model.images import IMAGE_SIZE, decode_image
from mlwf.offline.local_model.model import CONTENT_TYPES, LocalModel, train
from mlwf.offline.local_model.threads import OneThread

# model.pkl pickles the ensemble, and pickle names each class by module and name. Every
# artifact so far names them mlwf.offline.local_model._Ensemble (and _Member,
# _PatchEncoder): they stay reachable under those names, so artifacts written before and
# after this module became a package load alike and the format stays ARTIFACT_VERSION 1.
for _pickled in (_Ensemble, _Member, _PatchEncoder):
    _pickled.__module__ = __name__

__all__ = [
    "ARTIFACT_FORMAT",
    "ARTIFACT_VERSION",
    "CONTENT_TYPES",
    "DEFAULT_HYPERPARAMETERS",
    "IMAGE_SIZE",
    "METADATA_NAME",
    "MODEL_NAME",
    "LocalModel",
    "LocalModelError",
    "OneThread",
    "UnsupportedImage",
    "decode_image",
    "train",
]
