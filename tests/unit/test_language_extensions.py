"""Fn::FindInMap as CloudFormation takes it, with AWS::LanguageExtensions' DefaultValue where
the template lists that transform, and Fn::ForEach refused by name (mlwf/offline/
language_extensions.py). Each of these crashed `mlwf` with a Python traceback, or blamed the
user's indentation."""

from __future__ import annotations

import pytest

from mlwf.offline.intrinsics import FIND_IN_MAP_ARGUMENTS
from mlwf.offline.template import load_template
from tests.helpers.project import edit_template, load_refusal, project_copy

EXTENDED = "Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]"
MAPPINGS = "Mappings:\n  Thresholds:\n    eu-west-1: {Value: 0.9}\nConditions:\n"


def threshold_from_map(tmp_path, find_in_map: str, *, extended: bool):
    """The project's template, its filter function's THRESHOLD read with `find_in_map`."""
    template = project_copy(tmp_path)
    edit_template(template, "Conditions:\n", MAPPINGS)
    edit_template(template, "THRESHOLD: !Ref ConfidenceThreshold", f"THRESHOLD: {find_in_map}")
    if extended:
        edit_template(template, "Transform: AWS::Serverless-2016-10-31", EXTENDED)
    return template


def test_a_default_value_answers_a_missing_key_under_the_language_extensions(tmp_path):
    # findinmap-enhancements.html: "a default value to be returned if a mapping is not found"
    template = threshold_from_map(
        tmp_path,
        "!FindInMap [Thresholds, !Ref AWS::Region, Value, {DefaultValue: 0.7}]",
        extended=True,
    )
    spec = load_template(template, region="us-east-1")
    assert spec.functions["FilterInferencesFunction"].environment["THRESHOLD"] == "0.7"
    spec = load_template(template, region="eu-west-1")  # the key is there: its value
    assert spec.functions["FilterInferencesFunction"].environment["THRESHOLD"] == "0.9"


@pytest.mark.parametrize(
    "find_in_map",
    [
        "!FindInMap [Thresholds, !Ref AWS::Region, Value, {DefaultValue: 0.7}]",  # no transform
        "!FindInMap [Thresholds, eu-west-1]",
        "!FindInMap [Thresholds, eu-west-1, Value, Other, More]",
    ],
)
def test_other_lengths_fail_in_cloudformations_words(tmp_path, find_in_map):
    # a Python ValueError traceback ("too many values to unpack") before
    template = threshold_from_map(tmp_path, find_in_map, extended=False)
    refused = load_refusal(template)
    assert refused == f"template.yaml: {FIND_IN_MAP_ARGUMENTS}"


def test_for_each_is_refused_by_name(tmp_path):
    # SAM's own refusal blamed the YAML: "All 'Resources' must be Objects. If you're using
    # YAML, this may be an indentation issue."
    template = project_copy(tmp_path)
    edit_template(template, "Transform: AWS::Serverless-2016-10-31", EXTENDED)
    edit_template(
        template,
        "Resources:\n",
        "Resources:\n  Fn::ForEach::Queues:\n    - Suffix\n    - [Alpha, Beta]\n"
        "    - Extra${Suffix}Queue:\n        Type: AWS::SQS::Queue\n",
    )
    refused = load_refusal(template)
    assert refused == (
        "template.yaml: the offline mode does not expand AWS::LanguageExtensions's "
        "Fn::ForEach (Fn::ForEach::Queues): write the resources out to test the template offline"
    )
