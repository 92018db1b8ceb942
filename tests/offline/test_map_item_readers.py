"""A Distributed Map's ItemReader configurations that moto's grammar refused and AWS takes: a
ReaderConfig's MaxItems on an S3 listing, and JSON Lines objects (mlwf.offline.map_item_readers,
https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mlwf.batch import BATCH_MACHINE
from mlwf.offline.runtime import OfflineStack
from tests.helpers.definitions import distributed_map_machine, s3_reader
from tests.helpers.executions import event_types, run_to_end

pytestmark = pytest.mark.offline

KEYS = [f"reader/{name}.txt" for name in ("a", "b", "c", "d")]
LINES = b'{"n": 1}\n\n{"n": 2}\n"three"\n[4]\n'  # a blank line, then no object at all


def reading(reader: dict) -> dict:
    return distributed_map_machine(ItemReader=reader)


@pytest.fixture(scope="module")
def stack() -> Iterator[OfflineStack]:
    with OfflineStack.start(say=lambda _: None) as stack:
        bucket = stack.bucket_name()
        for key in KEYS:
            stack.s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        stack.s3.put_object(Bucket=bucket, Key="reader.jsonl", Body=LINES)
        stack.s3.put_object(Bucket=bucket, Key="broken.jsonl", Body=b'{"n": 1}\nnot json\n')
        stack.s3.put_object(Bucket=bucket, Key="broken.json", Body=b'[{"n": 1},')
        yield stack


def listing(stack: OfflineStack, config: dict | None = None) -> dict:
    return s3_reader("listObjectsV2", config, Bucket=stack.bucket_name(), Prefix="reader/")


def keys_of(ended: dict) -> list[str]:
    assert ended["status"] == "SUCCEEDED", ended
    return [item["Key"] for item in json.loads(ended["output"])]


def test_max_items_limits_an_s3_listing(stack):
    # Given the reader aws-cdk's S3ObjectsItemReader renders for maxItems: 2
    reader = listing(stack, {"MaxItems": 2})
    # When it runs (moto's grammar refused it: "Expected a InputType declaration")
    ended = run_to_end(stack.sfn, reading(reader))
    # Then the Map gets the listing's first two objects
    assert keys_of(ended) == KEYS[:2]


def test_max_items_path_limits_an_s3_listing(stack):
    reader = listing(stack, {"MaxItemsPath": "$.most"})
    assert keys_of(run_to_end(stack.sfn, reading(reader), json.dumps({"most": 3}))) == KEYS[:3]


def test_a_listing_without_max_items_reads_every_object(stack):
    assert keys_of(run_to_end(stack.sfn, reading(listing(stack)))) == KEYS


def jsonl_reader(stack: OfflineStack, key: str = "reader.jsonl", **config: object) -> dict:
    config = {"InputType": "JSONL", **config}
    return s3_reader("getObject", config, Bucket=stack.bucket_name(), Key=key)


def test_a_jsonl_object_gives_one_item_a_line(stack):
    # moto refused the InputType: "'JSONL' is not a valid InputTypeValue"
    ended = run_to_end(stack.sfn, reading(jsonl_reader(stack)))
    assert ended["status"] == "SUCCEEDED", ended
    assert json.loads(ended["output"]) == [{"n": 1}, {"n": 2}, "three", [4]]


def test_max_items_limits_a_jsonl_object(stack):
    ended = run_to_end(stack.sfn, reading(jsonl_reader(stack, MaxItems=2)))
    assert json.loads(ended["output"]) == [{"n": 1}, {"n": 2}]


@pytest.mark.parametrize(
    ("key", "input_type", "cause"),
    [
        ("broken.jsonl", "JSONL", "The JSONL object cannot be read: line 2 is not JSON"),
        ("broken.json", "JSON", "The JSON object cannot be read: "),
    ],
)
def test_an_object_that_is_not_its_input_type_fails_the_reader_catchably(
    stack, key, input_type, cause
):
    # Given a reader over an object that is not the JSON it declares, and a Catch
    definition = reading(jsonl_reader(stack, key, InputType=input_type))
    each = definition["States"]["Each"]
    each.pop("End")
    each["Catch"] = [{"ErrorEquals": ["States.ItemReaderFailed"], "Next": "Caught"}]
    each["Next"] = "Caught"
    definition["States"]["Caught"] = {"Type": "Pass", "End": True}
    # When it runs
    ended = run_to_end(stack.sfn, definition)
    # Then the reader fails with AWS's name for it (moto: States.Runtime, which no Catch
    # takes, in Python's words), and the Catch takes it
    assert ended["status"] == "SUCCEEDED", ended
    caught = json.loads(ended["output"])
    assert caught["Error"] == "States.ItemReaderFailed"
    assert caught["Cause"].startswith(cause)


def test_the_batch_machine_takes_a_max_items_edit(stack):
    # Given the project's batch machine, edited to classify at most 100 objects a run
    arn = stack.state_machine_arn(BATCH_MACHINE)
    definition = json.loads(stack.sfn.describe_state_machine(stateMachineArn=arn)["definition"])
    maps = [s for s in definition["States"].values() if "ItemReader" in s]
    maps[0]["ItemReader"]["ReaderConfig"] = {"MaxItems": 100}
    # When it is updated, Then it is taken, as AWS takes it
    stack.sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(definition))
    stored = stack.sfn.describe_state_machine(stateMachineArn=arn)["definition"]
    assert '"MaxItems": 100' in stored


@pytest.mark.parametrize(
    ("delimiter", "separator"), [("SEMICOLON", ";"), ("TAB", "\t"), ("PIPE", "|")]
)
def test_a_csv_reader_splits_its_rows_at_the_csv_delimiter(stack, delimiter, separator):
    # Given a CSV object whose fields are separated by another delimiter than a comma
    bucket, key = stack.bucket_name(), f"rows-{delimiter}.csv"
    text = separator.join(["key", "label"]) + "\n" + separator.join(["a, b.png", "1"]) + "\n"
    stack.s3.put_object(Bucket=bucket, Key=key, Body=text.encode())
    config = {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "CSVDelimiter": delimiter}
    reader = s3_reader("getObject", config, Bucket=bucket, Key=key)
    # When it runs (moto's grammar refused the field: "mismatched input '"CSVDelimiter"'")
    ended = run_to_end(stack.sfn, reading(reader))
    # Then each row is one item, split at that delimiter only
    assert ended["status"] == "SUCCEEDED", ended
    assert json.loads(ended["output"]) == [{"key": "a, b.png", "label": "1"}]


def test_a_csv_delimiter_outside_aws_s_list_is_refused(stack):
    config = {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "CSVDelimiter": ";"}
    reader = s3_reader("getObject", config, Bucket=stack.bucket_name(), Key="rows.csv")
    refused = "SCHEMA_VALIDATION_FAILED: .*ReaderConfig/CSVDelimiter"  # moto's words differ
    with pytest.raises(stack.sfn.exceptions.InvalidDefinition, match=refused):
        run_to_end(stack.sfn, reading(reader))


ROWS = (("1", "a"), ("2", "b"), ("3", "c"))


@pytest.mark.parametrize(
    ("input_type", "files", "expected"),
    [
        ("JSONL", [b'{"n": 1}\n{"n": 2}\n', b'{"n": 3}\n'], [{"n": 1}, {"n": 2}, {"n": 3}]),
        ("JSON", [b'[{"n": 1}]', b'[{"n": 2}, {"n": 3}]'], [{"n": 1}, {"n": 2}, {"n": 3}]),
        (
            "CSV",
            [b"n,m\n1,a\n", b"n,m\n2,b\n3,c\n"],
            [{"n": str(i), "m": m} for i, m in ((1, "a"), (2, "b"), (3, "c"))],
        ),
    ],
)
def test_load_and_flatten_makes_items_of_each_listed_object_s_records(
    stack, input_type, files, expected
):
    # Given objects under a prefix, and a listing reader that loads and flattens them
    bucket, prefix = stack.bucket_name(), f"flatten-{input_type}/"
    stack.s3.put_object(Bucket=bucket, Key=prefix, Body=b"")  # a folder's marker: no data
    for number, body in enumerate(files):
        stack.s3.put_object(Bucket=bucket, Key=f"{prefix}{number}.data", Body=body)
    config = {"InputType": input_type, "Transformation": "LOAD_AND_FLATTEN"}
    if input_type == "CSV":
        config["CSVHeaderLocation"] = "FIRST_ROW"
    reader = s3_reader("listObjectsV2", config, Bucket=bucket, Prefix=prefix)
    # When it runs (moto's grammar refused the Transformation)
    ended = run_to_end(stack.sfn, reading(reader))
    # Then the Map's items are the objects' records, object after object
    assert ended["status"] == "SUCCEEDED", ended
    assert json.loads(ended["output"]) == expected
    # and MaxItems counts records, not objects
    config["MaxItems"] = 2
    assert json.loads(run_to_end(stack.sfn, reading(reader))["output"]) == expected[:2]


@pytest.mark.parametrize("most", [1.5, "x"])
def test_a_max_items_path_that_reads_no_integer_fails_before_the_map_run(stack, most):
    # Given a reader whose MaxItemsPath reads no integer (AWS's run, as LocalStack recorded
    # it: test_map_item_reader_csv_max_items_paths[1.5])
    config = {"InputType": "JSON", "MaxItemsPath": "$.MaxItems"}
    reader = s3_reader("getObject", config, Bucket=stack.bucket_name(), Key="broken.json")
    definition = distributed_map_machine("MapState", ItemReader=reader)
    # When it runs
    ended = run_to_end(stack.sfn, definition, json.dumps({"MaxItems": most}))
    # Then the execution fails with States.Runtime before any Map Run, in AWS's words
    # (moto: States.ItemReaderFailed after MapRunStarted, the value in single quotes)
    assert (ended["status"], ended["error"]) == ("FAILED", "States.Runtime")
    assert ended["cause"] == (
        "An error occurred while executing the state 'MapState' (entered at the event id #2). "
        f'The MaxItemsPath field refers to value "{most}" which is not a valid integer: '
        "$.MaxItems"
    )
    assert event_types(stack.sfn, ended) == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "ExecutionFailed",
    ]


def test_items_pointer_selects_the_array_in_a_nested_json_object(stack):
    # Given a JSON object whose items sit in a nested array (the page's example pointer)
    bucket = stack.bucket_name()
    document = {"inventory": {"products": {"featured": [{"n": 1}, {"n": 2}], "other": [3]}}}
    stack.s3.put_object(Bucket=bucket, Key="nested.json", Body=json.dumps(document).encode())
    config = {"InputType": "JSON", "ItemsPointer": "/inventory/products/featured"}
    reader = s3_reader("getObject", config, Bucket=bucket, Key="nested.json")
    # When it runs (moto's grammar refused the field: "mismatched input '"ItemsPointer"'")
    ended = run_to_end(stack.sfn, reading(reader))
    # Then the Map's items are that array's
    assert ended["status"] == "SUCCEEDED", ended
    assert json.loads(ended["output"]) == [{"n": 1}, {"n": 2}]
    # and a pointer to nothing fails the reader
    config["ItemsPointer"] = "/inventory/missing"
    failed = run_to_end(stack.sfn, reading(reader))
    assert (failed["status"], failed["error"]) == ("FAILED", "States.ItemReaderFailed")
    assert "ItemsPointer /inventory/missing" in failed["cause"]
