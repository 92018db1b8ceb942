"""mlwf/offline/error_outputs.py: a Catch's error output binds null where the failure names no
error or cause (AWS's recorded runs; tests/offline/test_recorded_histories.py replays one),
and the moto internal it replaces, pinned."""

from __future__ import annotations

from types import SimpleNamespace

from mlwf.offline.error_outputs import error_output, error_outputs_as_aws


def failure(**details: object) -> SimpleNamespace:
    return SimpleNamespace(event_details={"executionFailedEventDetails": details})


def state_class() -> type:
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState

    return ExecutionState


def test_the_pinned_moto_binds_empty_strings_to_missing_fields():
    # (why the patch exists; if moto binds null, drop the patch)
    construct = state_class().__dict__["_construct_error_output_value"]
    assert isinstance(construct, staticmethod)
    assert construct.__func__(failure()) == {"Error": "", "Cause": ""}


def test_missing_fields_are_null_and_given_ones_kept():
    assert error_output(failure()) == {"Error": None, "Cause": None}
    assert error_output(failure(error="E")) == {"Error": "E", "Cause": None}
    assert error_output(failure(error="E", cause="C")) == {"Error": "E", "Cause": "C"}


def test_the_patch_is_in_place_only_while_the_block_runs():
    state = state_class()
    with error_outputs_as_aws():
        assert state._construct_error_output_value(failure()) == {"Error": None, "Cause": None}
    assert state._construct_error_output_value(failure()) == {"Error": "", "Cause": ""}
