"""The facts the Lambda functions share are copied, since each function is self-contained
(imports nothing from the repository): these tests fail when the copies drift apart.

Each value is read from the modules themselves (imported with the environment template.yaml
gives them), never restated here. The Powertools-layer hint, copied into every function, is
held equal by tests/unit/test_powertools_layer_missing.py; the filter's failure marker that
`mlwf run` parses, by tests/unit/test_executions.py.
"""

from __future__ import annotations

import json
import math

import pytest

from mlwf.offline.local_model import CONTENT_TYPES as LOCAL_MODEL_CONTENT_TYPES
from mlwf.settings import THRESHOLD_RANGE
from tests.helpers.paths import PROJECT_ROOT
from training_job.dataset.classes import CLASS_NAMES

# The file name suffixes of each image format; a fact of the formats, not of this project.
SUFFIXES_OF_FORMAT = {"PNG": {".png"}, "JPEG": {".jpg", ".jpeg"}}


@pytest.fixture
def serializer(load_app):
    return load_app("SerializeImageDataFunction")


@pytest.fixture
def classifier(load_app):
    return load_app("ClassifyImageFunction")


@pytest.fixture
def filter_app(load_app):
    return load_app("FilterInferencesFunction")


# --------------------------------------------------------------------------- image signatures


def test_serializer_and_classifier_recognise_the_same_image_signatures(serializer, classifier):
    # serializer: signature -> format; classifier: signature -> content type it sends
    assert set(serializer.IMAGE_SIGNATURES) == set(classifier.CONTENT_TYPES)
    for signature, image_format in serializer.IMAGE_SIGNATURES.items():
        assert classifier.CONTENT_TYPES[signature] == f"image/{image_format.lower()}"


def batch_key_patterns() -> set[str]:
    """The key patterns the batch definition's image filter (a Choice) lets through."""
    definition = json.loads(
        (PROJECT_ROOT / "statemachine/batch_classification.asl.json").read_text()
    )
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("StringMatches"), str):
                found.add(value["StringMatches"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(definition)
    return found


def test_the_batch_classifies_keys_of_exactly_the_formats_the_serializer_accepts(serializer):
    formats = set(serializer.IMAGE_SIGNATURES.values())
    assert set(SUFFIXES_OF_FORMAT) == formats  # this table knows every accepted format
    suffixes = set().union(*(SUFFIXES_OF_FORMAT[f] for f in formats))
    # (S3 keys are case-sensitive: the filter lists each suffix in both cases)
    assert batch_key_patterns() == {f"*{s}" for s in suffixes} | {f"*{s.upper()}" for s in suffixes}


def test_the_offline_model_accepts_every_content_type_the_classifier_sends(classifier):
    # Offline must pass what AWS would pass: the stand-in endpoint takes what the real one is sent.
    assert set(classifier.CONTENT_TYPES.values()) <= LOCAL_MODEL_CONTENT_TYPES


# --------------------------------------------------------------------------- probabilities

PROBES = [
    0,
    1,
    0.0,
    1.0,
    0.5,
    -0.0,
    1e-300,
    -1e-12,
    1 + 1e-12,
    2,
    -1,
    math.nan,
    math.inf,
    -math.inf,
    True,
    False,
    "0.5",
    None,
    [0.5],
]


def filter_accepts(app, value) -> bool:
    try:
        app.check_inferences({"inferences": [value]})
    except app.InvalidInferences:
        return False
    return True


@pytest.mark.parametrize("value", PROBES, ids=repr)
def test_classifier_and_filter_agree_on_what_a_probability_is(classifier, filter_app, value):
    # What the classifier passes on, the filter must take, and the filter must refuse
    # nothing the classifier let through.
    assert classifier._is_probability(value) == filter_accepts(filter_app, value)


def test_the_classifier_expects_one_probability_per_class(classifier):
    assert classifier.CLASS_COUNT == len(CLASS_NAMES)


# --------------------------------------------------------------------------- threshold


def test_the_threshold_range_is_the_templates_everywhere(filter_app):
    from samtranslator.yaml_helper import yaml_parse

    declared = yaml_parse((PROJECT_ROOT / "template.yaml").read_text())["Parameters"]
    threshold = declared["ConfidenceThreshold"]
    template_range = (float(threshold["MinValue"]), float(threshold["MaxValue"]))
    assert filter_app.THRESHOLD_BOUNDS == template_range
    assert THRESHOLD_RANGE == template_range  # `mlwf monitor` / `mlwf threshold` check with it


# --------------------------------------------------------------------------- redeploy drain


def test_a_replaced_endpoint_drains_for_the_classifiers_cache_and_timeout(classifier, template):
    # mlwf deploy keeps a replaced endpoint alive while warm classify functions may still
    # hold its name: for their SSM cache time plus one invocation.
    from training_job import rollout

    assert rollout.PARAMETER_CACHE_SECONDS == classifier.ENDPOINT_NAME_CACHE_SECONDS
    assert rollout.CLASSIFY_TIMEOUT_SECONDS == template.function("ClassifyImageFunction").timeout
    # ...and no stack can set a longer cache than the drain covers
    from cfnlint.decode import cfn_yaml

    declared = cfn_yaml.load(str(PROJECT_ROOT / "template.yaml"))["Parameters"]
    cache = declared["EndpointNameCacheSeconds"]
    assert cache["Default"] == cache["MaxValue"] == rollout.PARAMETER_CACHE_SECONDS
