"""What starting an offline stack says or refuses about a template a user edited: the
resources it leaves out, named (mlwf/offline/resource_types.py), and a state machine property
Step Functions refuses (mlwf/offline/request_constraints.py)."""

from __future__ import annotations

import pytest

from mlwf.offline.runtime import OfflineStack

pytestmark = pytest.mark.offline


def test_the_start_names_the_resources_it_left_out(tmp_path):
    # an alarm nothing refers to (mlwf/offline/resource_types.py)
    from tests.helpers.project import edit_template, project_copy

    template = project_copy(tmp_path)
    edit_template(
        template,
        "Resources:\n",
        "Resources:\n  FailuresAlarm:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n"
        "      ComparisonOperator: GreaterThanThreshold\n      EvaluationPeriods: 1\n",
    )
    said: list[str] = []
    with OfflineStack.start(template, say=said.append):
        pass
    assert said[0] == (
        "not made offline (AWS would make them; offline, nothing runs them and a call to one "
        "fails): FailuresAlarm (AWS::CloudWatch::Alarm)"
    )


def test_a_template_logging_level_step_functions_does_not_have_is_refused(tmp_path):
    # `Level: EVERYTHING` was created, and DescribeStateMachine echoed it
    # (API_LoggingConfiguration.html: ALL | ERROR | FATAL | OFF; request_constraints.py)
    from tests.helpers.project import project_copy, refusal

    template = project_copy(tmp_path)
    text = template.read_text()
    assert "Level: ALL" in text
    template.write_text(text.replace("Level: ALL", "Level: EVERYTHING", 1))
    message = refusal(template)
    assert message.startswith(f"{template} (ImageClassificationStateMachine): CreateStateMachine")
    assert message.endswith(
        "refuses it: ValidationException: 1 validation error detected: Value 'EVERYTHING' at "
        "'loggingConfiguration.level' failed to satisfy constraint: Member must satisfy enum "
        "value set: [ALL, ERROR, FATAL, OFF]"
    )
