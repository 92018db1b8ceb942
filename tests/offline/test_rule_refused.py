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
