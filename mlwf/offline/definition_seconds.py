"""The bounds CreateStateMachine holds a state's seconds to, which moto does not check.

A Wait state's Seconds is "an integer value from 0 to 99999999"
(https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html); a Task's
TimeoutSeconds and HeartbeatSeconds "MUST be a positive, non-zero integer" (the States
Language, https://states-language.net/), at most the same 99999999 (the schema
ChristopheBougere/asl-validator checks, which `make test` runs). moto took a Wait of
100000000 seconds and ran it, and a TimeoutSeconds of 0 failed each execution at run time in
Python's words. The refusals are SCHEMA_VALIDATION_FAILED in the words AWS gives the Map
state's bounds ("Maximum value is 100000000", mlwf.offline.definition_map): inferred for
these fields, whose own answers are not recorded.
"""

from __future__ import annotations

from typing import Any

from mlwf.offline.definition_fields import state_languages

MAXIMUM = 99_999_999
# (state type, field): its minimum
BOUNDS = {("Wait", "Seconds"): 0, ("Task", "TimeoutSeconds"): 1, ("Task", "HeartbeatSeconds"): 1}


def seconds_diagnostics(document: dict[str, Any]) -> list[str]:
    found = []
    for state, at, _ in state_languages(document):
        for (kind, field), minimum in BOUNDS.items():
            value = state.get(field)
            if state.get("Type") != kind or isinstance(value, bool):
                continue
            if not isinstance(value, int | float):
                continue  # a string or an object: moto's parser refuses it
            if value < minimum:
                found.append(
                    f"SCHEMA_VALIDATION_FAILED: Minimum value is {minimum} at {at}/{field}"
                )
            elif value > MAXIMUM:
                found.append(
                    f"SCHEMA_VALIDATION_FAILED: Maximum value is {MAXIMUM} at {at}/{field}"
                )
    return found
