"""A Distributed Map's ItemReader configurations that moto's grammar lacks, read as AWS reads them.

moto 5.2.5 knows a ReaderConfig only with `InputType` CSV or JSON. AWS takes more
(https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html):
- a ReaderConfig on an S3 listing (`arn:aws:states:::s3:listObjectsV2`) with `MaxItems` or
  `MaxItemsPath` and no InputType, which "limits the number of data items passed to the Map
  state"; it is what aws-cdk's `S3ObjectsItemReader` renders for its `maxItems`
  (`ReaderConfig: {MaxItems}` beside the listing, aws-cdk-lib
  aws-stepfunctions/lib/states/distributed-map/item-reader.ts). moto refused it: "Expected a
  InputType declaration";
- `CSVDelimiter` (`COMMA`, the default, `PIPE`, `SEMICOLON`, `SPACE`, `TAB`) on a CSV
  reader; moto refused it ("mismatched input '"CSVDelimiter"'"), and its CSV reader is given
  the text with commas instead;
- `InputType: JSONL`, JSON Lines: one item per line of the object (the Map "starts as many
  child workflow executions as the number of lines present in the JSONL file"). moto refused
  it: "'JSONL' is not a valid InputTypeValue".

moto's parser is given an equivalent text (`reader_for_moto_grammar`: InputType JSON in place
of the missing or JSONL one, no CSVDelimiter), and its JSON reader is patched to hand on a
listing's items as they are and to read a JSONL object line by line, the InputType read back
from the stored definition (mlwf.offline.map_states). MaxItems applies to both, as to JSON.

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
    if listing and "InputType" not in config:
        return {**reader, "ReaderConfig": {**config, "InputType": "JSON"}}
    if config.get("InputType") == "JSONL":
        return {**reader, "ReaderConfig": {**config, "InputType": "JSON"}}
    if "CSVDelimiter" in config:
        kept = {k: v for k, v in config.items() if k != "CSVDelimiter"}
        return {**reader, "ReaderConfig": kept}
    return None


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


@contextmanager
def item_readers_as_aws() -> Iterator[None]:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_output_transformer import (  # noqa: E501
        transformer_csv,
        transformer_json,
    )

    cls = transformer_json.ResourceOutputTransformerJson
    original = cls.__dict__["_eval_body"]  # KeyError: moto changed; see the test

    def eval_body(self: Any, env: Any) -> None:
        reader_config = env.stack[-1]
        resource_value = env.stack[-2]
        if isinstance(resource_value, list):  # a listing's items (distributed_map.list_items)
            items = resource_value
        else:
            reader = current_map_state(env).get("ItemReader") or {}
            jsonl = (reader.get("ReaderConfig") or {}).get("InputType") == "JSONL"
            try:
                if not jsonl:
                    return original(self, env)
                items = jsonl_items(resource_value)
            except ValueError as error:
                kind = "JSONL" if jsonl else "JSON"
                cause = f"The {kind} object cannot be read: {error}"
                raise map_run_failure(env, "StatesItemReaderFailed", cause) from None
        env.stack.pop()
        env.stack.pop()
        env.stack.append(items[: reader_config["MaxItemsValue"]])

    csv_cls = transformer_csv.ResourceOutputTransformerCSV
    csv_original = csv_cls.__dict__["_eval_body"]  # KeyError: moto changed; see the test

    def csv_eval_body(self: Any, env: Any) -> None:
        reader = current_map_state(env).get("ItemReader") or {}
        delimiter = (reader.get("ReaderConfig") or {}).get("CSVDelimiter", "COMMA")
        if delimiter != "COMMA" and isinstance(env.stack[-2], str):
            env.stack[-2] = as_commas(env.stack[-2], delimiter)
        return csv_original(self, env)

    with (
        patch.object(cls, "_eval_body", eval_body),
        patch.object(csv_cls, "_eval_body", csv_eval_body),
    ):
        yield
