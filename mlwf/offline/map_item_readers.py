"""A Distributed Map's ItemReader configurations that moto's grammar lacks, read as AWS reads them.

moto 5.2.5 knows a ReaderConfig only with `InputType` CSV or JSON. AWS takes more
(https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html):
- a ReaderConfig on an S3 listing (`arn:aws:states:::s3:listObjectsV2`) with `MaxItems` or
  `MaxItemsPath` and no InputType, which "limits the number of data items passed to the Map
  state"; it is what aws-cdk's `S3ObjectsItemReader` renders for its `maxItems`
  (`ReaderConfig: {MaxItems}` beside the listing, aws-cdk-lib
  aws-stepfunctions/lib/states/distributed-map/item-reader.ts). moto refused it: "Expected a
  InputType declaration";
- on a listing, `Transformation: LOAD_AND_FLATTEN` with an InputType: Step Functions reads
  "the actual content of each object listed", parses it "based on InputType" and creates
  "items from the file contents (rows/records) rather than metadata"; moto refused it
  ("mismatched input '"Transformation"'"). Offline each object is read with the listing's
  client (a key ending in "/", a folder's marker, is skipped: an inference, not recorded),
  then parsed as one object of that InputType (JSON, JSONL or CSV; PARQUET not modelled);
  MaxItems counts the records;
- `CSVDelimiter` (`COMMA`, the default, `PIPE`, `SEMICOLON`, `SPACE`, `TAB`) on a CSV
  reader; moto refused it ("mismatched input '"CSVDelimiter"'"), and its CSV reader is given
  the text with commas instead;
- `ItemsPointer` on a JSON reader, a JSON Pointer to the array in a nested object ("you can
  select the specific node with your data set with an ItemsPointer",
  `"/inventory/products/featured"`); moto refused it ("mismatched input '"ItemsPointer"'").
  It is resolved by the `jsonpointer` library (RFC 6901); a pointer to nothing fails the
  reader (States.ItemReaderFailed, our words);
- `InputType: JSONL`, JSON Lines: one item per line of the object (the Map "starts as many
  child workflow executions as the number of lines present in the JSONL file"). moto refused
  it: "'JSONL' is not a valid InputTypeValue".

moto's parser is given an equivalent text (`reader_for_moto_grammar`: InputType JSON in place
of the missing or JSONL one, no CSVDelimiter, Transformation or ItemsPointer), and its JSON
and CSV readers
are patched to hand on a listing's items as they are, to read JSONL line by line, to split CSV
at its delimiter and to parse a loaded listing's objects, the ReaderConfig read back from the
stored definition (mlwf.offline.map_states). MaxItems applies to each, as to JSON.

An object that is not the JSON (or JSON Lines) its InputType declares fails the Map Run with
States.ItemReaderFailed, AWS's name for a Map state that "couldn't read from the item source"
(https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html; LocalStack
recorded AWS failing readers with it: "Attempting to map over non-iterable node.", "CSV headers
cannot contain duplicates."). moto let Python's JSONDecodeError through as States.Runtime, which
no Catch takes. The cause's words are ours: AWS's for unreadable JSON are not recorded.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any
from unittest.mock import patch

from mlwf.offline.map_run_failures import map_run_failure
from mlwf.offline.map_states import current_map_state

LISTING = "s3:listObjectsV2"
# ReaderConfig.CSVDelimiter's values, COMMA the default (input-output-itemreader.html)
CSV_DELIMITERS = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}


def reader_for_moto_grammar(reader: dict[str, Any]) -> dict[str, Any] | None:
    """The ItemReader as moto's grammar takes it, or None when moto takes it as it is."""
    config = reader.get("ReaderConfig")
    if not isinstance(config, dict):
        return None
    resource = reader.get("Resource")
    listing = isinstance(resource, str) and resource.endswith(LISTING)
    dropped = ("CSVDelimiter", "Transformation", "ItemsPointer")
    kept = {k: v for k, v in config.items() if k not in dropped}
    if (listing and "InputType" not in kept) or kept.get("InputType") == "JSONL":
        kept["InputType"] = "JSON"
    return None if kept == config else {**reader, "ReaderConfig": kept}


class LoadedObjects(list[str]):
    """The texts of a listing's objects, for a LOAD_AND_FLATTEN reader to parse."""


def loaded(env: Any, s3_client: Any, bucket: str, listed: list[dict[str, Any]]) -> list[Any]:
    """A listing's items, or, for a LOAD_AND_FLATTEN reader, the texts of the objects listed
    (a key ending in "/", a folder's marker, holds no data: skipped)."""
    config = (current_map_state(env).get("ItemReader") or {}).get("ReaderConfig") or {}
    if config.get("Transformation") != "LOAD_AND_FLATTEN":
        return listed
    return LoadedObjects(
        s3_client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode()
        for item in listed
        if not item["Key"].endswith("/")
    )


def as_commas(text: str, delimiter: str) -> str:
    """CSV text whose fields are separated by the CSVDelimiter named, with commas instead."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(csv.reader(io.StringIO(text), delimiter=CSV_DELIMITERS[delimiter]))
    return out.getvalue()


class UnreadableItems(ValueError):
    """The object's text is not the JSON (or JSON Lines) its InputType declares."""


def jsonl_items(text: str) -> list[Any]:
    """Each line of a JSON Lines text, read as JSON. A blank line is no item (AWS starts "as
    many child workflow executions as the number of lines"; a blank one is not recorded)."""
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except ValueError as error:
            raise UnreadableItems(f"line {number} is not JSON: {error}") from None
    return items


def json_items(text: str, pointer: str | None = None) -> list[Any]:
    """A JSON object's items: its array, or the array its ItemsPointer points at."""
    import jsonpointer

    items = json.loads(text)
    if pointer is not None:
        try:
            items = jsonpointer.resolve_pointer(items, pointer)
        except jsonpointer.JsonPointerException as error:
            raise UnreadableItems(f"ItemsPointer {pointer}: {error}") from None
    if not isinstance(items, list):
        raise UnreadableItems("Attempting to map over non-iterable node.")  # moto's words
    return items


def _read(env: Any, read: Any, kind: str) -> Any:
    """read(), an object that is not the JSON it declares failing the Map Run."""
    try:
        return read()
    except ValueError as error:
        cause = f"The {kind} object cannot be read: {error}"
        raise map_run_failure(env, "StatesItemReaderFailed", cause) from None


@contextmanager
def item_readers_as_aws() -> Iterator[None]:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_output_transformer import (  # noqa: E501
        transformer_csv,
        transformer_json,
    )

    cls = transformer_json.ResourceOutputTransformerJson
    original = cls.__dict__["_eval_body"]  # KeyError: moto changed; see the test

    def eval_body(self: Any, env: Any) -> None:
        reader_config, value = env.stack[-1], env.stack[-2]
        if not isinstance(value, list) or isinstance(value, LoadedObjects):
            config = (current_map_state(env).get("ItemReader") or {}).get("ReaderConfig") or {}
            kind = config.get("InputType", "JSON")
            pointer = config.get("ItemsPointer")
            if kind == "JSON" and pointer is None and not isinstance(value, LoadedObjects):
                return _read(env, lambda: original(self, env), kind)
            texts = value if isinstance(value, LoadedObjects) else [value]
            parse = jsonl_items if kind == "JSONL" else partial(json_items, pointer=pointer)
            value = _read(env, lambda: [i for text in texts for i in parse(text)], kind)
        # else: a listing's items (distributed_map.list_items), as they are
        env.stack.pop()
        env.stack.pop()
        env.stack.append(value[: reader_config["MaxItemsValue"]])

    csv_cls = transformer_csv.ResourceOutputTransformerCSV
    csv_original = csv_cls.__dict__["_eval_body"]  # KeyError: moto changed; see the test

    def csv_eval_body(self: Any, env: Any) -> None:
        reader = current_map_state(env).get("ItemReader") or {}
        delimiter = (reader.get("ReaderConfig") or {}).get("CSVDelimiter", "COMMA")
        texts = env.stack[-2]
        if not isinstance(texts, LoadedObjects):
            if delimiter != "COMMA":
                env.stack[-2] = as_commas(texts, delimiter)
            return csv_original(self, env)
        reader_config = env.stack.pop()
        env.stack.pop()
        items = []
        for text in texts:  # each object read as the CSV reader reads one
            env.stack.append(as_commas(text, delimiter) if delimiter != "COMMA" else text)
            env.stack.append(reader_config)
            csv_original(self, env)
            items += env.stack.pop()
        env.stack.append(items[: reader_config["MaxItemsValue"]])

    with (
        patch.object(cls, "_eval_body", eval_body),
        patch.object(csv_cls, "_eval_body", csv_eval_body),
    ):
        yield


@contextmanager
def max_items_path_checked_before_the_map_run() -> Iterator[None]:
    """A ReaderConfig's MaxItemsPath that reads no integer fails the execution with
    States.Runtime before the Map Run starts, as AWS fails it (LocalStack's recording of AWS,
    test_map_item_reader_csv_max_items_paths[1.5]: MapStateStarted, then ExecutionFailed,
    "The MaxItemsPath field refers to value \"1.5\" which is not a valid integer:
    $.MaxItems" after AWS's state prefix). moto checked it inside the Map Run, after
    MapRunStarted, as States.ItemReaderFailed, the value in single quotes."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.reader_config.max_items_decl import (  # noqa: E501
        MaxItemsPath,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        distributed_iteration_component as component,
    )

    cls = component.DistributedIterationComponent
    original = cls.__dict__["_eval_body"]  # KeyError: moto changed; see the test

    def eval_body(self: Any, env: Any) -> None:
        reader_config = getattr(env.stack[-1].item_reader, "reader_config", None)
        declared = getattr(reader_config, "max_items_decl", None)
        if isinstance(declared, MaxItemsPath):
            eval_input = env.stack.pop()  # under it, the state's input the path reads
            declared.string_sampler.eval(env=env)
            value = env.stack.pop()
            env.stack.append(eval_input)
            try:
                whole = int(value) if isinstance(value, str) else value
            except ValueError:
                whole = None
            if not isinstance(whole, int) or isinstance(whole, bool):
                path = declared.string_sampler.literal_value
                cause = (
                    f'The MaxItemsPath field refers to value "{value}" which is not a valid '
                    f"integer: {path}"
                )
                # the prefix names the Map's entered event (mlwf.offline.path_failures)
                raise map_run_failure(env, "StatesRuntime", cause, execution=True)
        return original(self, env)

    with patch.object(cls, "_eval_body", eval_body):
        yield
