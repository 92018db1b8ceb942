"""FilterInferencesFunction: pass confident states on, fail the rest with a named error."""

from __future__ import annotations

import math
from types import ModuleType

import pytest

from tests.helpers.events import load_event


@pytest.fixture
def app(load_app) -> ModuleType:
    return load_app("FilterInferencesFunction")


def test_confident_state_passes_unchanged(app, lambda_context):
    event = load_event("filter_inferences_pass.json")
    assert app.lambda_handler(event, lambda_context) == load_event("filter_inferences_pass.json")


def test_low_confidence_fails_naming_the_key_and_confidence(app, lambda_context):
    event = load_event("filter_inferences_fail.json")
    with pytest.raises(app.ThresholdConfidenceNotMet) as raised:
        app.lambda_handler(event, lambda_context)
    message = str(raised.value)
    assert event["s3_key"] in message
    assert f"{max(event['inferences']):.4f}" in message
    assert "0.93" in message


def test_threshold_comes_from_the_template(app, template):
    assert app.THRESHOLD == float(template.parameters["ConfidenceThreshold"])


@pytest.mark.parametrize(
    ("inferences", "passes"),
    [([0.93, 0.07], True), ([0.07, 0.93], True), ([0.9299, 0.0701], False), ([1.0, 0.0], True)],
)
def test_threshold_is_inclusive(app, inferences, passes):
    event = {"s3_key": "k.png", "inferences": inferences}
    if passes:
        assert app.filter_inferences(event, 0.93) is event
    else:
        with pytest.raises(app.ThresholdConfidenceNotMet):
            app.filter_inferences(event, 0.93)


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"inferences": None},
        {"inferences": []},
        {"inferences": "0.9,0.1"},
        {"inferences": {"bicycle": 0.9}},
        {"inferences": ["0.9", "0.1"]},
        {"inferences": [True, False]},
        {"inferences": [0.9, None]},
        {"inferences": [1.2, -0.2]},
        {"inferences": [math.nan, 0.5]},
        {"inferences": [math.inf, 0.0]},
        [0.9, 0.1],
    ],
)
def test_bad_inferences_are_named(app, lambda_context, event):
    with pytest.raises(app.InvalidInferences):
        app.lambda_handler(event, lambda_context)


@pytest.mark.parametrize("raw", [None, "", "high", "0.49", "1.01", "nan", "-1", "inf"])
def test_misconfigured_threshold_fails_every_invocation_with_its_name(
    load_app, lambda_context, raw
):
    # Given the function deployed with a bad THRESHOLD (the import itself must not fail)
    app = load_app("FilterInferencesFunction", THRESHOLD=raw)

    # Then each invocation fails with the named configuration error, confident or not
    with pytest.raises(app.InvalidThresholdConfiguration):
        app.lambda_handler(load_event("filter_inferences_pass.json"), lambda_context)


@pytest.mark.parametrize(("raw", "value"), [("0.5", 0.5), ("1", 1.0), ("0.93", 0.93)])
def test_valid_thresholds_parse(app, raw, value):
    assert app.parse_threshold(raw) == value


def test_metrics_record_the_verdicts(app, lambda_context, capsys):
    app.lambda_handler(load_event("filter_inferences_pass.json"), lambda_context)
    with pytest.raises(app.ThresholdConfidenceNotMet):
        app.lambda_handler(load_event("filter_inferences_fail.json"), lambda_context)
    out = capsys.readouterr().out
    assert '"ConfidentInferences":[1.0]' in out.replace(" ", "")
    assert '"LowConfidenceInferences":[1.0]' in out.replace(" ", "")
