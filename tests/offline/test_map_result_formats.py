"""A Distributed Map's ResultWriter WriterConfig offline: moto's grammar refused it; AWS
transforms the children's results (NONE, COMPACT, FLATTEN) and formats them (JSON, JSONL),
as the Map's result when the WriterConfig is alone, in the result files otherwise
(mlwf.offline.map_result_formats,
https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mlwf.offline.runtime import OfflineStack
from tests.helpers.definitions import distributed_map_machine
from tests.helpers.executions import run_to_end

pytestmark = pytest.mark.offline

# Each child answers its item twice, [n, n], and fails for an item over 2.
PAIRS = {
    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
    "StartAt": "Big?",
    "States": {
        "Big?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$", "NumericGreaterThan": 2, "Next": "Fail"}],
            "Default": "Pair",
        },
        "Fail": {"Type": "Fail", "Error": "TooBig", "Cause": "over 2"},
        "Pair": {
            "Type": "Pass",
            "Parameters": {"pair.$": "States.Array($, $)"},
            "OutputPath": "$.pair",
            "End": True,
        },
    },
}


def writing(writer: dict, **fields: object) -> dict:
    return distributed_map_machine(children=PAIRS, ResultWriter=writer, **fields)


@pytest.fixture(scope="module")
def stack() -> Iterator[OfflineStack]:
    with OfflineStack.start(say=lambda _: None) as stack:
        yield stack


def result(stack: OfflineStack, definition: dict, items: list) -> object:
    ended = run_to_end(stack.sfn, definition, json.dumps(items))
    assert ended["status"] == "SUCCEEDED", ended
    return json.loads(ended["output"])


@pytest.mark.parametrize(
    ("transformation", "expected"),
    [("COMPACT", [[1, 1], [2, 2]]), ("FLATTEN", [1, 1, 2, 2])],
)
def test_a_writer_config_alone_transforms_the_map_s_result(stack, transformation, expected):
    # Given a ResultWriter of a WriterConfig alone (moto's grammar refused it)
    config = {"WriterConfig": {"Transformation": transformation, "OutputType": "JSON"}}
    # When the Map runs, Then its result is the children's outputs, transformed
    assert result(stack, writing(config), [1, 2]) == expected


def test_none_gives_each_child_with_its_metadata(stack):
    config = {"WriterConfig": {"Transformation": "NONE", "OutputType": "JSON"}}
    first, second = result(stack, writing(config), [1, 2])
    assert (first["Status"], json.loads(first["Output"])) == ("SUCCEEDED", [1, 1])
    assert json.loads(second["Input"]) == 2
    assert {"ExecutionArn", "Name", "StartDate", "StopDate"} <= set(first)


def test_a_failed_child_s_result_is_left_unchanged(stack):
    # "If a child workflow execution fails, Step Functions returns its execution result
    # unchanged": as NONE gives it
    config = {"WriterConfig": {"Transformation": "FLATTEN", "OutputType": "JSON"}}
    *flat, failed = result(stack, writing(config, ToleratedFailureCount=1), [1, 3])
    assert flat == [1, 1]
    assert (failed["Status"], failed["Error"]) == ("FAILED", "TooBig")


def test_result_files_hold_the_transformed_results_as_json_lines(stack):
    # Given a ResultWriter to S3 with a WriterConfig
    bucket = stack.bucket_name()
    writer = {
        "Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": bucket, "Prefix": "formats"},
        "WriterConfig": {"Transformation": "FLATTEN", "OutputType": "JSONL"},
    }
    # When the Map runs
    details = result(stack, writing(writer), [1, 2])["ResultWriterDetails"]
    # Then the succeeded children's file holds their flattened outputs, one a line
    manifest = json.loads(stack.s3.get_object(Bucket=bucket, Key=details["Key"])["Body"].read())
    (listed,) = manifest["ResultFiles"]["SUCCEEDED"]
    body = stack.s3.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read()
    assert body == b"1\n1\n2\n2\n"
    assert listed["Size"] == len(body)


@pytest.mark.parametrize("field", ["Transformation", "OutputType"])
def test_a_writer_config_value_outside_aws_s_list_is_refused(stack, field):
    config = {"Transformation": "COMPACT", "OutputType": "JSON", field: "FLATTENED"}
    with pytest.raises(stack.sfn.exceptions.InvalidDefinition) as refused:
        run_to_end(stack.sfn, writing({"WriterConfig": config}), "[1]")
    message = str(refused.value)
    assert "SCHEMA_VALIDATION_FAILED" in message
    assert f"/States/Each/ResultWriter/WriterConfig/{field}" in message
