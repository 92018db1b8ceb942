"""mlwf/offline/map_item_readers.py: the ItemReader configurations moto's grammar lacks, and
its JSON reader's patch, pinned to what moto 5.2.5 does without them."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from mlwf.offline import map_grammar
from mlwf.offline.map_item_readers import (
    as_commas,
    item_readers_as_aws,
    jsonl_items,
    reader_for_moto_grammar,
)
from tests.helpers.definitions import distributed_map_machine

LISTING = {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": "b"}}
GET = {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "b", "Key": "k"}}


def reading(reader: dict) -> str:
    return json.dumps(distributed_map_machine("M", ItemReader=reader))


LISTING_MAX = {**LISTING, "ReaderConfig": {"MaxItems": 2}}
JSONL = {**GET, "ReaderConfig": {"InputType": "JSONL"}}
CSV = {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}
SEMICOLONS = {**GET, "ReaderConfig": {**CSV, "CSVDelimiter": "SEMICOLON"}}
READERS = [LISTING_MAX, JSONL, SEMICOLONS]
IDS = ["listing-max-items", "jsonl", "csv-delimiter"]


@pytest.mark.parametrize("reader", READERS, ids=IDS)
def test_the_pinned_moto_grammar_refuses_the_reader(reader):
    from moto.stepfunctions.parser.asl.parse.asl_parser import (
        AmazonStateLanguageParser,
        ASLParserException,
    )

    with pytest.raises((ValueError, ASLParserException), match="InputType|CSVDelimiter"):
        AmazonStateLanguageParser.parse(reading(reader))


@pytest.mark.parametrize("reader", READERS, ids=IDS)
def test_the_reader_is_parsed_once_rewritten(reader):
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    program, _ = AmazonStateLanguageParser.parse(map_grammar.for_moto_grammar(reading(reader)))
    assert program is not None


def test_only_what_moto_lacks_is_rewritten():
    assert reader_for_moto_grammar(LISTING) is None
    assert reader_for_moto_grammar({**GET, "ReaderConfig": {"InputType": "CSV"}}) is None
    assert reader_for_moto_grammar(LISTING_MAX) == {
        **LISTING,
        "ReaderConfig": {"MaxItems": 2, "InputType": "JSON"},
    }
    assert reader_for_moto_grammar(JSONL) == {**GET, "ReaderConfig": {"InputType": "JSON"}}
    assert reader_for_moto_grammar(SEMICOLONS) == {**GET, "ReaderConfig": CSV}
    pointed = {**GET, "ReaderConfig": {"InputType": "JSON", "ItemsPointer": "/a"}}
    assert reader_for_moto_grammar(pointed) == {**GET, "ReaderConfig": {"InputType": "JSON"}}
    flattened = {
        **LISTING,
        "ReaderConfig": {"InputType": "JSONL", "Transformation": "LOAD_AND_FLATTEN"},
    }
    assert reader_for_moto_grammar(flattened) == {**LISTING, "ReaderConfig": {"InputType": "JSON"}}


def test_the_pinned_moto_csv_reader_splits_at_commas_only():
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_output_transformer.transformer_csv import (  # noqa: E501
        ResourceOutputTransformerCSV,
    )

    config = {"CSVHeaderLocation": "FIRST_ROW", "MaxItemsValue": 10}
    env = SimpleNamespace(stack=["k;n\na;1\n", config])
    ResourceOutputTransformerCSV()._eval_body(env)
    assert env.stack.pop() == [{"k;n": "a;1"}]


def test_fields_split_at_the_delimiter_are_joined_with_commas_quoted_as_csv_quotes():
    assert as_commas('k;n\n"a, b";1\n', "SEMICOLON") == 'k,n\n"a, b",1\n'
    assert as_commas("k\tn\n", "TAB") == "k,n\n"


def test_jsonl_lines_are_items_and_blank_lines_none():
    assert jsonl_items('{"a": 1}\r\n\n  \n[2]\n"x"') == [{"a": 1}, [2], "x"]


def transform(value: object, max_items: int) -> list:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_output_transformer.transformer_json import (  # noqa: E501
        ResourceOutputTransformerJson,
    )

    env = SimpleNamespace(stack=[value, {"InputType": "JSON", "MaxItemsValue": max_items}])
    ResourceOutputTransformerJson()._eval_body(env)
    return env.stack.pop()


def test_the_pinned_moto_json_reader_reads_only_text():
    # what distributed_map.list_items hands on is a list: moto's reader would fail on it
    with pytest.raises(TypeError):
        transform([{"Key": "a"}], 1)
    assert transform("[1, 2, 3]", 2) == [1, 2]


def test_a_listing_s_items_are_cut_to_max_items():
    with item_readers_as_aws():
        assert transform([{"Key": "a"}, {"Key": "b"}], 1) == [{"Key": "a"}]


def test_a_line_that_is_not_json_is_named_by_its_number():
    from mlwf.offline.map_item_readers import UnreadableItems

    with pytest.raises(UnreadableItems, match="line 3 is not JSON"):
        jsonl_items('{"a": 1}\n\nnot json\n')


def test_the_pinned_moto_checks_max_items_path_inside_the_map_run():
    import inspect

    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.reader_config.max_items_decl import (  # noqa: E501
        MaxItemsPath,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (  # noqa: E501
        DistributedIterationComponent,
    )

    # moto names a MaxItemsPath that reads no integer States.ItemReaderFailed ...
    check = inspect.getsource(MaxItemsPath._validate_value)
    assert "not isinstance(value, int)" in check and "StatesItemReaderFailed" in check
    # ... once the Map Run has started: its reader runs after MapRunStarted
    body = inspect.getsource(DistributedIterationComponent._eval_body)
    assert body.index("MapRunStarted") < body.index("item_reader.eval")


def test_items_pointer_follows_rfc_6901():
    from mlwf.offline.map_item_readers import UnreadableItems, json_items

    text = json.dumps({"a/b": {"~c": [1, 2]}, "d": {"e": 3}})
    assert json_items(text, "/a~1b/~0c") == [1, 2]
    assert json_items("[1]") == [1]
    with pytest.raises(UnreadableItems, match="non-iterable"):
        json_items(text, "/d")
