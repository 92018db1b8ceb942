"""The console's graph layout is computed from the definition: every state and transition of
the deployed definitions is drawn, nothing overlaps, and edited definitions (a new state, a
Parallel, a Choice looping back) draw correctly too."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from mlwf.console.layout import END, START, layout
from mlwf.offline.template_spec import TemplateSpec


@pytest.fixture
def definitions(template: TemplateSpec) -> dict[str, dict[str, Any]]:
    """The definitions as deployed (DefinitionSubstitutions applied), by logical id."""
    return {k: json.loads(m.definition) for k, m in template.state_machines.items()}


def nodes_by_id(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in graph["nodes"]}


def transitions(scope: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(source, target, kind) of every transition the ASL scope declares."""
    found = {(START, scope["StartAt"], "start")}
    for name, state in scope["States"].items():
        if "Next" in state:
            found.add((name, state["Next"], "next"))
        if state.get("Default"):
            found.add((name, state["Default"], "default"))
        for rule in state.get("Choices", []):
            found.add((name, rule["Next"], "choice"))
        for rule in state.get("Catch", []):
            found.add((name, rule["Next"], "catch"))
        if state.get("End") or state["Type"] in ("Succeed", "Fail"):
            found.add((name, END, "end"))
    return found


def assert_well_drawn(graph: dict[str, Any], scope: dict[str, Any]) -> None:
    """Every state a node, every transition an edge from its source's box to its target's,
    no two boxes overlapping, all inside the drawing; the same for nested scopes."""
    nodes = nodes_by_id(graph)
    assert set(scope["States"]) | {START} <= set(nodes)
    drawn = {(e["source"], e["target"], e["kind"]) for e in graph["edges"]}
    assert drawn == transitions(scope)
    for edge in graph["edges"]:
        source, target = nodes[edge["source"]], nodes[edge["target"]]
        (x0, y0), (x1, y1) = edge["points"][0], edge["points"][-1]
        assert source["x"] <= x0 <= source["x"] + source["width"]
        assert y0 in (source["y"], source["y"] + source["height"])
        assert target["x"] <= x1 <= target["x"] + target["width"]
        assert y1 in (target["y"], target["y"] + target["height"])
    boxes = list(nodes.values())
    for i, a in enumerate(boxes):
        assert 0 <= a["x"] and a["x"] + a["width"] <= graph["width"] + 0.5
        assert 0 <= a["y"] and a["y"] + a["height"] <= graph["height"] + 0.5
        for b in boxes[i + 1 :]:
            apart = (
                a["x"] + a["width"] <= b["x"]
                or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"]
                or b["y"] + b["height"] <= a["y"]
            )
            assert apart, f"{a['id']} overlaps {b['id']}"
    for name, state in scope["States"].items():
        inner = nodes[name].get("scopes")
        if state["Type"] == "Map":
            processor = state.get("ItemProcessor") or state["Iterator"]
            assert inner is not None and len(inner) == 1
            assert_well_drawn(inner[0], processor)
        elif state["Type"] == "Parallel":
            assert inner is not None and len(inner) == len(state["Branches"])
            for drawn_branch, branch in zip(inner, state["Branches"], strict=True):
                assert_well_drawn(drawn_branch, branch)


def test_the_deployed_definitions_are_drawn_whole(definitions):
    for definition in definitions.values():
        assert_well_drawn(layout(definition), definition)


def test_retry_rules_are_on_their_state(definitions):
    graph = layout(definitions["ImageClassificationStateMachine"])
    classify = nodes_by_id(graph)["Classify image"]
    state = definitions["ImageClassificationStateMachine"]["States"]["Classify image"]
    assert [r["errors"] for r in classify["retry"]] == [r["ErrorEquals"] for r in state["Retry"]]
    assert len(classify["retry"]) >= 2  # the definition's retriers, each drawn


def test_a_state_added_to_the_definition_gets_its_own_layer(definitions):
    # Given a Pass state inserted between Classify and Filter
    edited = copy.deepcopy(definitions["ImageClassificationStateMachine"])
    edited["States"]["Classify image"]["Next"] = "Audit"
    edited["States"]["Audit"] = {"Type": "Pass", "Next": "Filter low-confidence inferences"}
    before, after = layout(definitions["ImageClassificationStateMachine"]), layout(edited)
    assert_well_drawn(after, edited)
    nodes = nodes_by_id(after)
    # Then it sits between them, and the drawing grew by a layer
    assert nodes["Classify image"]["y"] < nodes["Audit"]["y"]
    assert nodes["Audit"]["y"] < nodes["Filter low-confidence inferences"]["y"]
    assert after["height"] > before["height"]


def test_a_parallel_draws_its_branches_side_by_side(definitions):
    edited = copy.deepcopy(definitions["ImageClassificationStateMachine"])
    edited["States"]["Serialize image data"]["Next"] = "Both"
    edited["States"]["Both"] = {
        "Type": "Parallel",
        "Branches": [
            {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
            {
                "StartAt": "Right",
                "States": {
                    "Right": {"Type": "Pass", "Next": "Right again"},
                    "Right again": {"Type": "Succeed"},
                },
            },
        ],
        "Next": "Classify image",
    }
    graph = layout(edited)
    assert_well_drawn(graph, edited)
    both = nodes_by_id(graph)["Both"]
    left, right = both["scopes"]
    assert left["dx"] + left["width"] <= right["dx"]
    assert both["width"] >= left["width"] + right["width"]
    assert both["height"] > right["height"]  # the taller branch fits inside


def test_a_choice_that_loops_back_is_drawn_with_a_back_edge():
    definition = {
        "StartAt": "Wait a bit",
        "States": {
            "Wait a bit": {"Type": "Wait", "Seconds": 1, "Next": "Done?"},
            "Done?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.done", "BooleanEquals": True, "Next": "Finish"}],
                "Default": "Wait a bit",
            },
            "Finish": {"Type": "Succeed"},
        },
    }
    graph = layout(definition)
    assert_well_drawn(graph, definition)
    back = [e for e in graph["edges"] if e["back"]]
    assert [(e["source"], e["target"], e["kind"]) for e in back] == [
        ("Done?", "Wait a bit", "default")
    ]
    nodes = nodes_by_id(graph)
    assert nodes["Wait a bit"]["y"] < nodes["Done?"]["y"] < nodes["Finish"]["y"]


def test_a_wide_fan_out_keeps_every_state_apart():
    choices = [{"Variable": "$.n", "NumericEquals": i, "Next": f"Case {i}"} for i in range(6)]
    states: dict[str, Any] = {"Route": {"Type": "Choice", "Choices": choices, "Default": "Other"}}
    for i in range(6):
        states[f"Case {i}"] = {"Type": "Pass", "Next": "Join"}
    states["Other"] = {"Type": "Fail", "Error": "Unknown"}
    states["Join"] = {"Type": "Succeed"}
    definition = {"StartAt": "Route", "States": states}
    graph = layout(definition)
    assert_well_drawn(graph, definition)
    layer = {nodes_by_id(graph)[f"Case {i}"]["y"] for i in range(6)}
    assert len(layer) == 1  # one layer, spread out sideways


def test_a_broken_definition_still_draws_what_it_can():
    # Next naming a missing state: AWS refuses it, but a page must not fail on it.
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Missing"}}}
    graph = layout(definition)
    assert [n["id"] for n in graph["nodes"]] == [START, "A"]
