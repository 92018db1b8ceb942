"""What a Distributed Map needs of its state machine's role, checked on the translated template.

AWS documents these permissions at
https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html:
- states:StartExecution on the state machine itself (the Map starts its child executions on
  it), and states:DescribeExecution / states:StopExecution on those child executions
  (`execution:<state machine name>/*`);
- for an ItemReader over ListObjectsV2, s3:ListBucket on the bucket (where the bucket comes
  from the input, on the bucket it resolves to at run time: the images bucket);
- for a ResultWriter, s3:PutObject (and s3:GetObject) on the prefix it writes under
  (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html).
Without them, the batch execution fails at its Map state in AWS (States.Runtime, or
States.ItemReaderFailed / States.ResultWriterFailed with an AccessDenied cause), while
cfn-lint and `sam validate` pass the template.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.helpers.iam import allowed, role_of
from tests.helpers.intrinsics import DeployContext
from tests.helpers.sam_translate import PROJECT_ROOT, sam_template

pytestmark = pytest.mark.preflight

STATES_ARN = "arn:aws:states:us-east-1:123456789012"


def distributed_maps(states: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, state in states.items():
        processor = state.get("ItemProcessor") or {}
        if processor.get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED":
            found.append((name, state))
        found += distributed_maps(processor.get("States", {}))
        for branch in state.get("Branches", []):
            found += distributed_maps(branch["States"])
    return found


def machines_with_distributed_maps(deploy: DeployContext) -> list[tuple[str, dict, list]]:
    found = []
    for logical_id, resource in deploy.template["Resources"].items():
        if resource["Type"] != "AWS::StepFunctions::StateMachine":
            continue
        uri = sam_template()["Resources"][logical_id]["Properties"]["DefinitionUri"]
        substitutions = deploy.evaluate(resource["Properties"].get("DefinitionSubstitutions", {}))
        text = (PROJECT_ROOT / uri).read_text()
        for name, value in substitutions.items():
            text = text.replace("${" + name + "}", str(value))
        maps = distributed_maps(json.loads(text)["States"])
        if maps:
            found.append((logical_id, resource["Properties"], maps))
    return found


def bucket_arn(deploy: DeployContext, bucket: str) -> str:
    """The ARN IAM sees for a bucket named in the definition ("<Logical>" is the stack's)."""
    if bucket.startswith("<") and bucket.endswith(">"):
        return f"<{bucket[1:-1]}.Arn>"
    return f"arn:aws:s3:::{bucket}"


def test_the_batch_machine_is_checked(deploy):
    assert [m[0] for m in machines_with_distributed_maps(deploy)] == [
        "BatchClassificationStateMachine"
    ]


def test_the_role_may_start_and_manage_the_maps_child_executions(deploy):
    for logical_id, props, maps in machines_with_distributed_maps(deploy):
        # The role can name its own machine only by a name set in the template (a Ref or
        # GetAtt of the machine in its own role is a circular dependency).
        name = deploy.evaluate(props.get("StateMachineName"))
        assert isinstance(name, str) and not name.startswith("<"), logical_id
        role = role_of(deploy, props["RoleArn"])
        assert allowed(deploy, role, "states:StartExecution", f"{STATES_ARN}:stateMachine:{name}")
        for state_name, state in maps:
            label = state.get("Label", state_name)
            child = f"{STATES_ARN}:execution:{name}/{label}:0f2b6c1e-child"
            for action in ("states:DescribeExecution", "states:StopExecution"):
                assert allowed(deploy, role, action, child), f"{logical_id}: {action} on {child}"


def test_the_role_may_list_what_the_item_reader_lists(deploy):
    for logical_id, props, maps in machines_with_distributed_maps(deploy):
        role = role_of(deploy, props["RoleArn"])
        for state_name, state in maps:
            reader = state.get("ItemReader")
            if not reader or reader["Resource"] != "arn:aws:states:::s3:listObjectsV2":
                continue
            parameters = reader["Parameters"]
            # From the input: `mlwf batch` passes the stack's images bucket
            bucket = parameters.get("Bucket") or "<ImagesBucket>"
            arn = bucket_arn(deploy, bucket)
            assert allowed(deploy, role, "s3:ListBucket", arn), f"{logical_id}: {state_name}"


def test_the_role_may_write_what_the_result_writer_writes(deploy):
    checked = 0
    for logical_id, props, maps in machines_with_distributed_maps(deploy):
        role = role_of(deploy, props["RoleArn"])
        for _, state in maps:
            writer = state.get("ResultWriter")
            if not writer:
                continue
            parameters = writer["Parameters"]
            prefix = parameters.get("Prefix")
            if prefix is None:  # a Format of the execution's name, e.g. 'results/{}'
                formatted = re.fullmatch(r"States\.Format\('([^']*)'.*\)", parameters["Prefix.$"])
                assert formatted, f"{logical_id}: {parameters['Prefix.$']}"
                prefix = formatted.group(1).replace("{}", "mlwf-batch-0123456789ab")
            bucket = bucket_arn(deploy, parameters["Bucket"])
            for name in ("manifest.json", "SUCCEEDED_0.json", "FAILED_0.json", "PENDING_0.json"):
                key = f"{bucket}/{prefix}/2bd1b0c3-0d6c-4a31-9f40-0e1f3a9d7c55/{name}"
                for action in ("s3:PutObject", "s3:GetObject"):
                    assert allowed(deploy, role, action, key), f"{logical_id}: {action} {key}"
            # and nothing outside that prefix
            assert not allowed(deploy, role, "s3:PutObject", f"{bucket}/dataset/train/x.png")
            checked += 1
    assert checked, "no ResultWriter found"
