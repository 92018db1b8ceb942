"""An upload rule whose pattern EventBridge refuses is refused offline too, at start, as sam
deploy fails at the rule's PutRule (see mlwf.offline.event_patterns)."""

from __future__ import annotations

import pytest

from tests.helpers.project import edit_template, project_copy, refusal

pytestmark = pytest.mark.offline


def test_an_upload_rule_with_a_misspelt_operator_is_refused_at_start(tmp_path):
    # sam deploy fails at the rule's PutRule; moto took it, and the rule then matched every
    # upload, dataset/ included (mlwf/offline/event_patterns.py)
    template = project_copy(tmp_path)
    edit_template(template, "key: [{prefix: incoming/}]", "key: [{prefx: incoming/}]")

    assert refusal(template).endswith(
        "(ImageClassificationStateMachineImageUploaded): PutRule refuses it: "
        "Event pattern is not valid. "
        "Reason: Unrecognized match type prefx"
    )


def test_a_transformer_defining_a_predefined_variable_is_refused_at_start(tmp_path):
    # "These variables are reserved, and you can't create variables with these names"
    # (eb-transform-target-input.html); the words are ours
    template = project_copy(tmp_path)
    edit_template(
        template,
        "                key: $.detail.object.key\n",
        "                key: $.detail.object.key\n"
        "                aws.events.rule-name: $.detail.bucket.name\n",
    )
    assert refusal(template).endswith(
        "(ImageClassificationStateMachineImageUploaded): PutTargets refuses it: InputPathsMap "
        "defines aws.events.rule-name, which EventBridge predefines"
    )


def test_a_retry_policy_past_eventbridges_maximum_is_refused_at_start(tmp_path):
    # MaximumRetryAttempts is 0 to 185 (API_RetryPolicy.html); botocore checks only the
    # minimum before sending, and moto took 200
    template = project_copy(tmp_path)
    edit_template(template, "MaximumRetryAttempts: 10", "MaximumRetryAttempts: 200")
    assert refusal(template).endswith(
        "(ImageClassificationStateMachineImageUploaded): PutTargets refuses it: 1 validation "
        "error detected: Value '200' at 'RetryPolicy.MaximumRetryAttempts' failed to satisfy "
        "constraint: Member must have value less than or equal to 185"
    )
