"""The two classes, in label order, and the CIFAR-100 fine labels they come from.

The one place for these facts in the workstation code (training_job/, mlwf/). The Lambda
functions import nothing from the repository and carry their own class count;
tests/unit/test_function_copies.py keeps it equal to len(CLASS_NAMES).
"""

from __future__ import annotations

CLASS_NAMES = ("bicycle", "motorcycle")  # index = label
CIFAR_FINE_LABELS = (8, 48)  # the CIFAR-100 fine label of each class, in label order


def class_name(index: int) -> str:
    """The class name of a class index (``class N`` beyond the two known classes)."""
    return CLASS_NAMES[index] if 0 <= index < len(CLASS_NAMES) else f"class {index}"
