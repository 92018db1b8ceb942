"""CreateStateMachine's service-side checks, on the state machines SAM generates.

cfn-lint, `sam validate --lint` and `sam build` pass a template that CreateStateMachine then
refuses: they do not model what Step Functions checks against the role and the definition.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.helpers.iam import (
    STEP_FUNCTIONS_LOG_DELIVERY_ACTIONS,
    allowed,
    role_of,
    trusted_services,
)
from tests.helpers.intrinsics import DeployContext
from tests.helpers.sam_translate import PROJECT_ROOT, sam_template

pytestmark = pytest.mark.preflight

# https://docs.aws.amazon.com/step-functions/latest/dg/xray-iam.html
XRAY_ACTIONS = (
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
)
# https://docs.aws.amazon.com/step-functions/latest/dg/choosing-workflow-type.html: Express
# workflows do not support the .sync (run a job) or .waitForTaskToken (callback) patterns.
EXPRESS_UNSUPPORTED_SUFFIXES = (".sync", ".sync:2", ".waitForTaskToken")


def state_machines(deploy: DeployContext) -> dict[str, dict[str, Any]]:
    return {
        k: v
        for k, v in deploy.template["Resources"].items()
        if v["Type"] == "AWS::StepFunctions::StateMachine"
    }


def definition_text(logical_id: str) -> str:
    """The definition file the SAM resource names (`sam deploy` uploads it as it is)."""
    uri = sam_template()["Resources"][logical_id]["Properties"]["DefinitionUri"]
    return (PROJECT_ROOT / uri).read_text()


def task_states(states: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, state in states.items():
        if state.get("Type") == "Task":
            found.append((name, state))
        for branch in state.get("Branches", []):
            found += task_states(branch["States"])
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            found += task_states(processor["States"])
    return found


def test_a_state_machine_that_logs_may_deliver_its_logs(deploy):
    for logical_id, machine in state_machines(deploy).items():
        props = deploy.evaluate(machine["Properties"])
        destinations = props.get("LoggingConfiguration", {}).get("Destinations", [])
        if not destinations:
            continue
        role = role_of(deploy, machine["Properties"]["RoleArn"])
        actions = STEP_FUNCTIONS_LOG_DELIVERY_ACTIONS
        missing = [a for a in actions if not allowed(deploy, role, a, "*")]
        assert not missing, f"{logical_id}: its role {role} lacks {missing} on '*'"


def test_log_destinations_are_log_group_arns_ending_in_a_wildcard(deploy):
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-stepfunctions-statemachine-cloudwatchlogsloggroup.html:
    # "The ARN must end with :*". A log group's GetAtt Arn is that form; its name is not.
    resources = deploy.template["Resources"]
    for logical_id, machine in state_machines(deploy).items():
        logging = machine["Properties"].get("LoggingConfiguration", {})
        for destination in logging.get("Destinations", []):
            arn = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]
            value = str(deploy.evaluate(arn))
            if value.startswith("<") and value.endswith(".Arn>"):
                group = value[1:-5]
                assert resources[group]["Type"] == "AWS::Logs::LogGroup", logical_id
            else:
                assert value.endswith(":*"), f"{logical_id}: {value}"


def test_state_machine_roles_trust_step_functions(deploy):
    for logical_id, machine in state_machines(deploy).items():
        role = role_of(deploy, machine["Properties"]["RoleArn"])
        assert trusted_services(deploy, role) == {"states.amazonaws.com"}, logical_id


def test_traced_state_machines_may_write_traces(deploy):
    for logical_id, machine in state_machines(deploy).items():
        if not machine["Properties"].get("TracingConfiguration", {}).get("Enabled"):
            continue
        role = role_of(deploy, machine["Properties"]["RoleArn"])
        missing = [a for a in XRAY_ACTIONS if not allowed(deploy, role, a, "*")]
        assert not missing, f"{logical_id}: {missing}"


def test_every_substitution_is_defined_and_used(deploy):
    # CloudFormation replaces ${Name} from DefinitionSubstitutions; a name left over is sent
    # as it is, and CreateStateMachine refuses "${...}" as a function ARN.
    for logical_id, machine in state_machines(deploy).items():
        text = definition_text(logical_id)
        used = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", text))
        defined = set(machine["Properties"].get("DefinitionSubstitutions", {}))
        assert used == defined, f"{logical_id}: undefined {used - defined}, unused {defined - used}"


def test_the_role_may_invoke_every_function_the_definition_calls(deploy):
    checked = 0
    for logical_id, machine in state_machines(deploy).items():
        role = role_of(deploy, machine["Properties"]["RoleArn"])
        substitutions = deploy.evaluate(machine["Properties"]["DefinitionSubstitutions"])
        definition = json.loads(definition_text(logical_id))
        for name, state in task_states(definition["States"]):
            if state["Resource"] != "arn:aws:states:::lambda:invoke":
                continue
            target = state["Parameters"]["FunctionName"]
            function = substitutions[target.strip("${}")]  # <Function.Arn>
            function_id = function[1:].split(".", 1)[0]
            arn = f"arn:aws:lambda:us-east-1:123456789012:function:<{function_id}>"
            assert allowed(deploy, role, "lambda:InvokeFunction", arn), f"{logical_id}: {name}"
            checked += 1
    assert checked >= 6, "the definitions' Lambda tasks were not found"


def test_express_machines_use_no_pattern_express_lacks(deploy):
    for logical_id, machine in state_machines(deploy).items():
        if deploy.evaluate(machine["Properties"].get("StateMachineType")) != "EXPRESS":
            continue
        definition = json.loads(definition_text(logical_id))
        for name, state in task_states(definition["States"]):
            assert not state["Resource"].endswith(EXPRESS_UNSUPPORTED_SUFFIXES), name


def test_a_task_waits_longer_than_its_function_may_run(deploy):
    # A state's TimeoutSeconds below the function's Timeout turns a slow invocation into
    # States.Timeout, which hides the function's own named error (or Sandbox.Timedout).
    resources = deploy.template["Resources"]
    checked = 0
    for logical_id, machine in state_machines(deploy).items():
        substitutions = deploy.evaluate(machine["Properties"]["DefinitionSubstitutions"])
        definition = json.loads(definition_text(logical_id))
        for name, state in task_states(definition["States"]):
            target = state.get("Parameters", {}).get("FunctionName", "")
            if not target.startswith("${"):
                continue
            function_id = substitutions[target.strip("${}")][1:].split(".", 1)[0]
            timeout = int(resources[function_id]["Properties"].get("Timeout", 3))
            assert state.get("TimeoutSeconds", 99999999) > timeout, f"{logical_id}: {name}"
            checked += 1
    assert checked >= 6, "the definitions' Lambda tasks were not found"
