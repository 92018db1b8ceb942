"""`mlwf invoke` on each file in events/: the invocation it makes, on one stack seeded as
it seeds its own (the whole command, exit code and printing: test_cli_invoke.py). The
module holds only the tests of that stack: it stays up until the module ends."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mlwf.invoke import invoke_seeded, seed
from mlwf.offline.runtime import OfflineStack
from tests.helpers.paths import EVENTS_DIR

pytestmark = pytest.mark.offline


EVENT_FUNCTIONS = {
    "serialize_image_data.json": ("SerializeImageDataFunction", True),
    "workflow_input.json": ("SerializeImageDataFunction", True),
    "classify_image.json": ("ClassifyImageFunction", True),
    "filter_inferences_pass.json": ("FilterInferencesFunction", True),
    "filter_inferences_fail.json": ("FilterInferencesFunction", False),
    # The rule's raw event, not a function's input: the serializer names what is missing.
    "s3_object_created.json": ("SerializeImageDataFunction", False),
}


# Inputs of a state machine rather than of a function: run by the tests of that machine.
MACHINE_INPUTS = {"batch_input.json"}  # tests/offline/test_batch.py


def test_every_event_file_is_covered():
    assert {p.name for p in EVENTS_DIR.glob("*.json")} == set(EVENT_FUNCTIONS) | MACHINE_INPUTS


@pytest.fixture(scope="module")
def seeded_stack() -> Iterator[OfflineStack]:
    """One stack seeded as `mlwf invoke` seeds each of its own (mlwf.invoke.seed), its
    functions run with the caller's credentials as `mlwf invoke` runs them."""
    with OfflineStack.start(say=lambda _: None, function_roles=False) as stack:
        seed(stack)
        yield stack


@pytest.mark.parametrize("event_file", sorted(EVENT_FUNCTIONS))
def test_invoke_runs_each_event(event_file, seeded_stack, capsys):
    # The invocation `mlwf invoke` makes after seeding; its exit code and printing are
    # test_invoke_classify_returns_inferences's and test_a_failed_invocation_exits_one's
    function, succeeds = EVENT_FUNCTIONS[event_file]
    event = json.loads((EVENTS_DIR / event_file).read_text())
    result = invoke_seeded(seeded_stack, function, event)
    err = capsys.readouterr().err
    payload = result["payload"]
    assert "START RequestId" in err and "REPORT RequestId" in err
    if succeeds:
        assert result["function_error"] is None
        assert "errorType" not in payload
    else:
        assert result["function_error"] == "Unhandled"
        assert payload["errorType"] in {"ThresholdConfidenceNotMet", "InvalidImageRequest"}
        assert payload["errorMessage"]
