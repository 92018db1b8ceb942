"""mlwf/offline/map_result_formats.py: a ResultWriter's WriterConfig, which moto 5.2.5's
grammar refuses, transformed and formatted as
https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html gives it."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from mlwf.offline import map_grammar
from mlwf.offline.map_result_formats import encoded, transformed, writer_for_moto_grammar
from tests.helpers.definitions import distributed_map_machine

CONFIG = {"Transformation": "FLATTEN", "OutputType": "JSONL"}
S3 = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b"}}


def writing(writer: dict) -> str:
    return json.dumps(distributed_map_machine("M", ResultWriter=writer))


WRITERS = [{"WriterConfig": CONFIG}, {**S3, "WriterConfig": CONFIG}]


@pytest.mark.parametrize("writer", WRITERS, ids=["alone", "with-s3"])
def test_the_pinned_moto_grammar_refuses_a_writer_config(writer):
    from moto.stepfunctions.parser.asl.parse.asl_parser import (
        AmazonStateLanguageParser,
        ASLParserException,
    )

    with pytest.raises(ASLParserException, match="WriterConfig"):
        AmazonStateLanguageParser.parse(writing(writer))


@pytest.mark.parametrize("writer", WRITERS, ids=["alone", "with-s3"])
def test_a_writer_config_is_parsed_once_rewritten(writer):
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    program, _ = AmazonStateLanguageParser.parse(map_grammar.for_moto_grammar(writing(writer)))
    assert program is not None


def test_moto_is_given_the_writer_without_its_config():
    assert writer_for_moto_grammar(S3) is None
    assert writer_for_moto_grammar({**S3, "WriterConfig": CONFIG}) == S3
    assert writer_for_moto_grammar({"WriterConfig": CONFIG}) == {}


def child(status: str, output: object) -> SimpleNamespace:
    return SimpleNamespace(status=status, output=output)


CHILDREN = [child("SUCCEEDED", [1, 2]), child("SUCCEEDED", {"a": 1}), child("FAILED", None)]


@pytest.mark.parametrize(
    ("transformation", "expected"),
    [
        ("NONE", ["entry", "entry", "entry"]),
        ("COMPACT", [[1, 2], {"a": 1}, "entry"]),
        ("FLATTEN", [1, 2, {"a": 1}, "entry"]),  # only arrays are flattened
    ],
)
def test_each_transformation_leaves_a_failed_child_as_none_gives_it(transformation, expected):
    assert transformed(CHILDREN, lambda c: "entry", transformation) == expected


def test_results_are_a_json_array_or_json_lines_split_past_the_size():
    assert list(encoded(iter([1, [2], {"a": 3}]), "JSON", 100)) == [b'[1,[2],{"a": 3}]']
    assert list(encoded(iter([1, [2]]), "JSONL", 100)) == [b"1\n[2]\n"]
    assert list(encoded(iter(["aaaa", "bbbb"]), "JSONL", 8)) == [b'"aaaa"\n', b'"bbbb"\n']
    assert list(encoded(iter(["aaaa", "bbbb"]), "JSON", 8)) == [b'["aaaa"]', b'["bbbb"]']
