"""A Distributed Map's ResultWriter `WriterConfig`: its results transformed and formatted as
Step Functions documents them
(https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html):

- `Transformation`: `NONE` "returns the output of the child workflow executions unchanged, in
  addition to the workflow metadata" (the result files' entries: mlwf.offline.map_run_results),
  the default when exporting to S3 without a WriterConfig; `COMPACT` "returns the output of
  the child workflow executions", the default without a ResultWriter; `FLATTEN` does too,
  and "if a child workflow execution returns an array, this option flattens the array". A
  failed child's result is returned unchanged, "equivalent to having set Transformation to
  NONE";
- `OutputType`: `JSON` "formats the results as a JSON array", `JSONL` "as JSON Lines";
- a ResultWriter of a WriterConfig alone previews the results "without saving the results to
  Amazon S3": they are the Map state's result; with Resource and Parameters too, they are
  what the result files hold.

moto's grammar has no WriterConfig ("mismatched input '\"WriterConfig\"' expecting
{'\"Resource\"', '\"Parameters\"'}"): its parser is given the ResultWriter without it (none at
all when it is the only field), and the WriterConfig is read back from the stored definition
(mlwf.offline.map_states).

Not documented, so inferred here: the state output of a WriterConfig alone with OutputType
JSONL (offline: the same array as JSON, JSON Lines having no JSON value), and the result files'
names with JSONL (offline: `SUCCEEDED_0.json` as without it, one result a line).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

TRANSFORMATIONS = ("NONE", "COMPACT", "FLATTEN")
OUTPUT_TYPES = ("JSON", "JSONL")


def writer_for_moto_grammar(writer: dict[str, Any]) -> dict[str, Any] | None:
    """The ResultWriter moto's grammar takes: without its WriterConfig ({} when nothing is
    left, to be dropped); None when moto takes it as it is."""
    if "WriterConfig" not in writer:
        return None
    return {k: v for k, v in writer.items() if k != "WriterConfig"}


def writer_config(state: dict[str, Any]) -> dict[str, str] | None:
    """The Map state's WriterConfig, None without one."""
    config = (state.get("ResultWriter") or {}).get("WriterConfig")
    return config if isinstance(config, dict) else None


def previewed(state: dict[str, Any]) -> bool:
    """Whether the Map's results are its WriterConfig's preview, not written to S3."""
    return writer_config(state) is not None and "Resource" not in state["ResultWriter"]


def transformed(children: list[Any], entry: Any, transformation: str) -> list[Any]:
    """The children's results, in order, as the Transformation gives them; `entry(child)` is
    a child's NONE result."""
    results: list[Any] = []
    for child in children:
        if transformation == "NONE" or child.status != "SUCCEEDED":
            results.append(entry(child))
        elif transformation == "FLATTEN" and isinstance(child.output, list):
            results.extend(child.output)
        else:
            results.append(child.output)
    return results


def encoded(results: Iterator[Any], output_type: str, max_bytes: int) -> Iterator[bytes]:
    """The results as result files' bodies, each at most `max_bytes` (one result more if it
    alone is): a JSON array, or JSON Lines (one result a line)."""
    jsonl = output_type == "JSONL"
    edges = 0 if jsonl else 2
    parts: list[bytes] = []
    size = edges
    for result in results:
        text = json.dumps(result).encode()
        if parts and size + len(text) + 1 > max_bytes:
            yield _joined(parts, jsonl)
            parts, size = [], edges
        parts.append(text)
        size += len(text) + 1
    if parts:
        yield _joined(parts, jsonl)


def _joined(parts: list[bytes], jsonl: bool) -> bytes:
    return b"\n".join(parts) + b"\n" if jsonl else b"[" + b",".join(parts) + b"]"
