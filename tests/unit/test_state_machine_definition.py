"""The state machine definition as written (statemachine/), read without running it: its
substitutions, retries, timeouts and what may never hide a low-confidence verdict."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers.paths import PROJECT_ROOT

LAMBDA_RETRY_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}


@pytest.fixture(scope="module")
def definition_text(template_spec) -> str:
    return template_spec.state_machines[
        "ImageClassificationStateMachine"
    ].definition_path.read_text()


@pytest.fixture(scope="module")
def template_spec():
    from mlwf.offline.template import load_template

    return load_template(PROJECT_ROOT / "template.yaml")


def test_placeholders_are_the_definition_substitutions(template_spec, definition_text):
    placeholders = set(re.findall(r"\$\{([A-Za-z0-9]+)\}", definition_text))
    machine = template_spec.state_machines["ImageClassificationStateMachine"]
    assert placeholders == set(machine.substitutions)
    assert "${" not in machine.definition


def test_every_task_retries_lambda_errors_and_has_a_timeout(definition_text):
    states = json.loads(definition_text)["States"]
    tasks = {name: state for name, state in states.items() if state["Type"] == "Task"}
    assert len(tasks) == 3
    for name, task in tasks.items():
        assert task.get("TimeoutSeconds", 0) > 0, name
        retried = {e for retrier in task["Retry"] for e in retrier["ErrorEquals"]}
        assert LAMBDA_RETRY_ERRORS <= retried, name
        assert all(r["BackoffRate"] > 1 for r in task["Retry"]), name


def test_no_catch_or_retry_can_hide_a_low_confidence_verdict(definition_text):
    states = json.loads(definition_text)["States"]
    for name, state in states.items():
        assert "Catch" not in state, name
        for retrier in state.get("Retry", []):
            assert "ThresholdConfidenceNotMet" not in retrier["ErrorEquals"], name
            assert "States.ALL" not in retrier["ErrorEquals"], name


def test_task_timeouts_exceed_the_functions_timeouts(template_spec, definition_text):
    states = json.loads(definition_text)["States"]
    machine = template_spec.state_machines["ImageClassificationStateMachine"]
    by_arn = {f.arn: f for f in template_spec.functions.values()}
    for state in json.loads(machine.definition)["States"].values():
        assert state["Resource"] == "arn:aws:states:::lambda:invoke"
        function = by_arn[state["Parameters"]["FunctionName"]]
        assert state["TimeoutSeconds"] > function.timeout, function.logical_id
    assert len(states) == 3
