"""Read SageMaker Model Monitor data capture and join it to true labels.

- `mlwf.capture.records`: parse capture lines (`parse_record`) and read every capture file
  under an S3 prefix or a local folder (`read_capture`).
- `mlwf.capture.join`: read a ``.lst`` file and hash its images (`read_labels`), give each
  record its true label (`join_labels`).
- `mlwf.capture.s3`: ``s3://`` URLs and the AWS errors of reading them.

The names below are the package's public API: import them from `mlwf.capture`.
Only the standard library at import time: boto3 and Pillow are imported when needed.
"""

from mlwf.capture.join import (
    LabelEntry,
    LabelJoin,
    LabelSet,
    join_labels,
    labels_of,
    parse_lst,
    pixels_sha256,
    read_labels,
)
from mlwf.capture.records import (
    KNOWN_ENCODINGS,
    MALFORMED_REASONS,
    PROBABILITY_TOLERANCE,
    SUM_TOLERANCE,
    CaptureRead,
    CaptureRecord,
    MalformedRecord,
    parse_probabilities,
    parse_record,
    parse_time,
    read_capture,
)
from mlwf.capture.s3 import S3Location, is_s3_url, parse_s3_url
from training_job.dataset.classes import CLASS_NAMES, class_name  # one place, named here too

__all__ = [
    "CLASS_NAMES",
    "KNOWN_ENCODINGS",
    "MALFORMED_REASONS",
    "PROBABILITY_TOLERANCE",
    "SUM_TOLERANCE",
    "CaptureRead",
    "CaptureRecord",
    "LabelEntry",
    "LabelJoin",
    "LabelSet",
    "MalformedRecord",
    "S3Location",
    "class_name",
    "is_s3_url",
    "join_labels",
    "labels_of",
    "parse_lst",
    "parse_probabilities",
    "parse_record",
    "parse_s3_url",
    "parse_time",
    "pixels_sha256",
    "read_capture",
    "read_labels",
]
