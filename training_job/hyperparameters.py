"""The hyperparameters of a `mlwf train` job: the built-in image-classification algorithm's
defaults for this dataset, the keys it knows, and the checks on user overrides."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from training_job import sagemaker_io
from training_job.dataset.classes import CLASS_NAMES
from training_job.dataset.layout import IMAGE_SIZE
from training_job.errors import MlwfError

# Transfer learning: start from the ImageNet-pretrained ResNet-18 and fine-tune on 32x32
# CIFAR images. Early stopping watches validation accuracy: at least 10 epochs, then stop
# after 5 without improvement, so `epochs` is a ceiling rather than a cost.
DEFAULT_HYPERPARAMETERS: dict[str, str] = {
    "num_classes": str(len(CLASS_NAMES)),
    "image_shape": f"3,{IMAGE_SIZE},{IMAGE_SIZE}",
    "use_pretrained_model": "1",
    "num_layers": "18",
    "augmentation_type": "crop_color_transform",
    "epochs": "30",
    "mini_batch_size": "32",
    "learning_rate": "0.01",
    "early_stopping": "true",
    "early_stopping_min_epochs": "10",
    "early_stopping_patience": "5",
    "early_stopping_tolerance": "0.0",
    "precision_dtype": "float32",
}

# The algorithm's documented hyperparameters: an unknown key is a typo that would otherwise
# fail the job minutes after it started.
KNOWN_HYPERPARAMETERS = frozenset(
    {
        "augmentation_type",
        "beta_1",
        "beta_2",
        "checkpoint_frequency",
        "early_stopping",
        "early_stopping_min_epochs",
        "early_stopping_patience",
        "early_stopping_tolerance",
        "epochs",
        "eps",
        "gamma",
        "image_shape",
        "kv_store",
        "learning_rate",
        "lr_scheduler_factor",
        "lr_scheduler_step",
        "mini_batch_size",
        "momentum",
        "multi_label",
        "num_classes",
        "num_layers",
        "num_training_samples",
        "optimizer",
        "precision_dtype",
        "resize",
        "top_k",
        "use_pretrained_model",
        "use_weighted_loss",
        "weight_decay",
    }
)
_INTEGER_HYPERPARAMETERS = frozenset(
    {
        "checkpoint_frequency",
        "early_stopping_min_epochs",
        "early_stopping_patience",
        "epochs",
        "mini_batch_size",
        "num_classes",
        "num_layers",
        "num_training_samples",
        "resize",
        "top_k",
    }
)
_FLOAT_HYPERPARAMETERS = frozenset(
    {
        "beta_1",
        "beta_2",
        "early_stopping_tolerance",
        "eps",
        "gamma",
        "learning_rate",
        "lr_scheduler_factor",
        "momentum",
        "weight_decay",
    }
)


def parse_hyperparameter_overrides(items: Iterable[str]) -> dict[str, str]:
    """`KEY=VALUE` strings -> dict; MlwfError on a malformed item or an unknown key."""
    overrides: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise MlwfError(f"--hyperparameter {item!r}: expected KEY=VALUE, e.g. epochs=20")
        if key not in KNOWN_HYPERPARAMETERS:
            close = difflib.get_close_matches(key, sorted(KNOWN_HYPERPARAMETERS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise MlwfError(
                f"--hyperparameter {item!r}: {key!r} is not a hyperparameter of the "
                f"{sagemaker_io.ALGORITHM} algorithm{hint}"
            )
        if len(value) > 256:
            raise MlwfError(f"--hyperparameter {key}: values are limited to 256 characters")
        overrides[key] = value
    return overrides


def build_hyperparameters(
    num_training_samples: int, overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The defaults, the real size of the training split, then the overrides; checked."""
    hyperparameters = dict(DEFAULT_HYPERPARAMETERS)
    hyperparameters["num_training_samples"] = str(num_training_samples)
    # A tiny (e.g. synthetic) dataset gets smaller batches; an explicit override is checked.
    default_batch = int(hyperparameters["mini_batch_size"])
    hyperparameters["mini_batch_size"] = str(max(1, min(default_batch, num_training_samples)))
    hyperparameters.update({k: str(v) for k, v in (overrides or {}).items()})
    for key, value in hyperparameters.items():
        if key in _INTEGER_HYPERPARAMETERS:
            if not value.isdigit() or int(value) < 1:
                raise MlwfError(f"hyperparameter {key}={value!r}: expected a positive integer")
        elif key in _FLOAT_HYPERPARAMETERS:
            try:
                float(value)
            except ValueError:
                raise MlwfError(f"hyperparameter {key}={value!r}: expected a number") from None
    if int(hyperparameters["mini_batch_size"]) > int(hyperparameters["num_training_samples"]):
        raise MlwfError(
            f"mini_batch_size {hyperparameters['mini_batch_size']} is larger than the "
            f"{hyperparameters['num_training_samples']} training images"
        )
    return hyperparameters
