"""`mlwf invoke` as a user runs it: its own stack, seeded, one invocation, its result on
stdout, its log on stderr, exit 1 on the function's error."""

from __future__ import annotations

import json

import pytest

from mlwf.cli import main
from tests.helpers.paths import EVENTS_DIR

pytestmark = pytest.mark.offline


def test_invoke_classify_returns_inferences(capsys):
    # The whole command, as a user runs it: its own stack, seeded, then the invocation
    code = main(["invoke", "ClassifyImageFunction", "-e", str(EVENTS_DIR / "classify_image.json")])
    out, err = capsys.readouterr()
    payload = json.loads(out)
    assert code == 0
    assert "START RequestId" in err and "REPORT RequestId" in err
    # and what the seeding's training did, from its job's log: trained, or the cache used
    assert "\n  local model: cache used (" in err or "\n  training the local model on " in err
    assert len(payload["inferences"]) == 2 and abs(sum(payload["inferences"]) - 1) < 1e-3
    assert "image_data" not in payload


def test_a_failed_invocation_exits_one_and_prints_the_error(monkeypatch, capsys):
    # Given an invocation that ends in the function's error (as filter_inferences_fail.json)
    import mlwf.invoke

    error = {"errorType": "ThresholdConfidenceNotMet", "errorMessage": "below"}
    failed = {"payload": error, "function_error": "Unhandled"}
    monkeypatch.setattr(mlwf.invoke, "invoke", lambda *args, **kwargs: failed)
    event = str(EVENTS_DIR / "filter_inferences_fail.json")
    code = main(["invoke", "FilterInferencesFunction", "-e", event])
    # Then mlwf prints Lambda's error payload and exits 1
    assert code == 1
    assert json.loads(capsys.readouterr().out) == error


def test_invoke_unknown_function_is_one_line_before_any_stack_starts(monkeypatch, capsys):
    # Given a stack that must not start: the name is checked against the template first
    # (it was checked after the stack's start, ~8-10 s later)
    from mlwf.offline.runtime import OfflineStack

    def start(*args, **kwargs):
        raise AssertionError("the offline stack was started for an unknown function")

    monkeypatch.setattr(OfflineStack, "start", start)
    code = main(["invoke", "NoSuchFunction", "-e", str(EVENTS_DIR / "workflow_input.json")])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err == (
        "mlwf invoke: error: no function 'NoSuchFunction' in template.yaml; functions: "
        "SerializeImageDataFunction, ClassifyImageFunction, FilterInferencesFunction"
    )


def test_invoke_as_role_enforces_the_functions_policies(capsys):
    # The event names a placeholder bucket (events/ are for any account's bucket): the
    # caller's credentials may read it, the function's role, scoped to the stack's bucket,
    # may not, as on AWS.
    event = str(EVENTS_DIR / "serialize_image_data.json")
    assert main(["invoke", "SerializeImageDataFunction", "-e", event]) == 0
    capsys.readouterr()
    code = main(["invoke", "SerializeImageDataFunction", "-e", event, "--as-role"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 1
    assert payload["errorType"] == "ImageAccessDenied"
