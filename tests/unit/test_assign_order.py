"""mlwf/offline/assign_order.py: a state's Assign takes effect once the state has given its
output, as in AWS's recorded run, and the moto internals the patch wraps, pinned."""

from __future__ import annotations

import inspect
import json

import boto3
import pytest

from mlwf.offline.assign_order import assignments_after_output
from mlwf.offline.jsonata_states import jsonata_evaluated
from mlwf.offline.moto_patches import stops_as_aws
from tests.helpers.executions import run_to_end


@pytest.fixture
def sfn(aws):
    # moto reads a variable through JSONata, which the offline stack evaluates
    with stops_as_aws(), jsonata_evaluated(), assignments_after_output():
        yield boto3.client("stepfunctions", region_name="us-east-1")


def test_a_wait_states_output_path_reads_the_value_from_before_its_assign(sfn):
    # Given a Wait state that assigns n, and its OutputPath reading n
    wait = {"Type": "Wait", "Seconds": 0, "Assign": {"n": 2}, "OutputPath": "$n", "Next": "Read"}
    definition = {
        "StartAt": "Set",
        "States": {
            "Set": {"Type": "Pass", "Assign": {"n": 1}, "Next": "Wait"},
            "Wait": wait,
            "Read": {"Type": "Pass", "Parameters": {"before.$": "$", "after.$": "$n"}, "End": True},
        },
    }
    # When it runs
    ended = run_to_end(sfn, definition)
    # Then the Wait's output is the old value (moto gave 2), and the next state reads the new
    assert json.loads(ended["output"]) == {"before": 1, "after": 2}


def test_a_write_to_an_enclosing_scopes_variable_is_still_refused(sfn):
    # Given a Map iteration that assigns a variable of the machine's scope
    processor = {
        "StartAt": "Write",
        "States": {"Write": {"Type": "Pass", "Assign": {"outer": 2}, "End": True}},
    }
    definition = {
        "StartAt": "Set",
        "States": {
            "Set": {"Type": "Pass", "Assign": {"outer": 1}, "Next": "Each"},
            "Each": {"Type": "Map", "ItemProcessor": processor, "End": True},
        },
    }
    # When it runs, then moto refuses the write, as it did before the patch (in its words)
    ended = run_to_end(sfn, definition, "[1]")
    assert (ended["status"], ended["error"]) == ("FAILED", "States.Runtime")


def test_the_pinned_moto_sets_each_variable_as_its_assign_is_evaluated():
    from moto.stepfunctions.parser.asl.component.common.assign.assign_decl import AssignDecl
    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField

    assign = inspect.getsource(AssignDecl.__dict__["_eval_body"])
    assert "env.variable_store.set(" in assign
    body = inspect.getsource(CommonStateField.__dict__["_eval_body"])
    assert body.index("self._eval_state(env)") < body.index("self._eval_state_output(env=env)")
