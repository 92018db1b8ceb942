"""A state's QueryLanguage is its own, else the whole machine's, as AWS has it
(mlwf.offline.query_languages): what AWS's validation was recorded taking is taken and runs,
and a state that declares none runs in the machine's language, not its Map's."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mlwf.offline.runtime import OfflineStack
from tests.helpers.executions import run_to_end

pytestmark = pytest.mark.offline


def jsonata_map(inner_state: dict, **map_fields: object) -> dict:
    """A JSONPath machine of one JSONata Map whose item processor is that one state."""
    processor = {
        "ProcessorConfig": {"Mode": "INLINE"},
        "StartAt": "Pass",
        "States": {"Pass": {**inner_state, "End": True}},
    }
    map_state = {"Type": "Map", "QueryLanguage": "JSONata", **map_fields}
    return {
        "StartAt": "Map",
        "States": {"Map": {**map_state, "ItemProcessor": processor, "End": True}},
    }


@pytest.fixture(scope="module")
def stack() -> Iterator[OfflineStack]:
    with OfflineStack.start(say=lambda _: None) as stack:
        yield stack


def test_a_jsonpath_state_in_a_jsonata_map_of_a_jsonpath_machine_is_taken(stack):
    # Given AWS's recorded definition (valid_query_language_pass.json5: validated OK on
    # 2025-10-19; moto refused it, "Cannot downgrade from JSONata context ...")
    definition = jsonata_map({"QueryLanguage": "JSONPath", "Type": "Pass"})
    definition["QueryLanguage"] = "JSONPath"
    # When it is validated and run, then it is taken and runs
    answer = stack.sfn.validate_state_machine_definition(definition=json.dumps(definition))
    assert (answer["result"], answer["diagnostics"]) == ("OK", [])
    ended = run_to_end(stack.sfn, definition, "[1, 2]")
    assert (ended["status"], json.loads(ended["output"])) == ("SUCCEEDED", [1, 2])


def test_a_state_that_declares_no_language_runs_in_the_machines(stack):
    # Given a JSONata Map in a JSONPath machine, its state declaring no QueryLanguage and
    # using a JSONPath field (moto read the state as JSONata and refused the definition at
    # CreateStateMachine: "Unsupported declaration in QueryLanguage=JSONPath block")
    definition = jsonata_map({"Type": "Pass", "Parameters": {"v.$": "$"}}, Items="{% [1, 2] %}")
    # When it runs, then the state is JSONPath: its Parameters shape each item
    ended = run_to_end(stack.sfn, definition, "{}")
    assert json.loads(ended["output"]) == [{"v": 1}, {"v": 2}]
