"""Distributed Map definitions AWS accepts and moto 5.2.5's grammar refuses, given to moto's
parser as an equivalent text (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html):
`"ExecutionType": "EXPRESS"` children (moto knows only STANDARD), an integer
ToleratedFailurePercentage (moto wants a decimal point), an ItemBatcher
(mlwf.offline.map_batches), the ItemReaders moto lacks (mlwf.offline.map_item_readers) and a
ResultWriter's WriterConfig (mlwf.offline.map_result_formats). What was rewritten is read
back from the stored definition (mlwf.offline.map_states) when the Map runs. The parser's
patch is pinned by tests/unit/test_offline_distributed_map.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

from mlwf.offline.map_item_readers import reader_for_moto_grammar
from mlwf.offline.map_result_formats import writer_for_moto_grammar


def for_moto_grammar(definition: str) -> str:
    """The definition with EXPRESS children declared STANDARD, integer tolerated failure
    percentages written as floats, no ItemBatcher, no WriterConfig, and ItemReaders as
    moto's grammar takes them; unchanged otherwise."""
    try:
        document = json.loads(definition)
    except ValueError:
        return definition  # moto's parser reports it as AWS does

    changed = False

    def rewrite(node: Any) -> Any:
        nonlocal changed
        if isinstance(node, dict):
            out = {k: rewrite(v) for k, v in node.items()}
            reader = out.get("ItemReader")
            rewritten = reader_for_moto_grammar(reader) if isinstance(reader, dict) else None
            if rewritten is not None:  # mlwf.offline.map_item_readers
                out["ItemReader"] = rewritten
                changed = True
            writer = out.get("ResultWriter")
            kept = writer_for_moto_grammar(writer) if isinstance(writer, dict) else None
            if kept is not None:  # mlwf.offline.map_result_formats
                if kept:
                    out["ResultWriter"] = kept
                else:  # a WriterConfig alone
                    del out["ResultWriter"]
                changed = True
            if "ItemBatcher" in out and ("ItemProcessor" in out or "Iterator" in out):
                del out["ItemBatcher"]  # read back by distributed_map._map_run
                changed = True
            config = out.get("ProcessorConfig")
            if isinstance(config, dict) and config.get("ExecutionType") == "EXPRESS":
                out["ProcessorConfig"] = {**config, "ExecutionType": "STANDARD"}
                changed = True
            percentage = out.get("ToleratedFailurePercentage")
            if isinstance(percentage, int) and not isinstance(percentage, bool):
                out["ToleratedFailurePercentage"] = float(percentage)
                changed = True
            return out
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    rewritten = rewrite(document)
    return json.dumps(rewritten) if changed else definition


def express_children(state: dict[str, Any]) -> bool:
    """Whether the Map state (as stored, not as moto's parser was given it) runs EXPRESS
    children."""
    processor = state.get("ItemProcessor") or state.get("Iterator") or {}
    return (processor.get("ProcessorConfig") or {}).get("ExecutionType") == "EXPRESS"


@contextmanager
def parsed_as_aws_accepts() -> Iterator[None]:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    original = AmazonStateLanguageParser.__dict__["parse"]  # KeyError: moto changed
    parse = original.__func__

    def parse_rewritten(definition: str) -> Any:
        return parse(for_moto_grammar(definition))

    with patch.object(AmazonStateLanguageParser, "parse", staticmethod(parse_rewritten)):
        yield
