"""A JSONPath's result shaped as Step Functions shapes it: one value for a definite path,
an array for any other.

Step Functions evaluates JSONPath as Jayway JsonPath does. A definite path (single names
and single indexes only: `$.a`, `$.arr[0].x`, `$[0]`) gives the one value it names, and
fails with States.Runtime when it names nothing. Any other path (a wildcard, a slice, an
index or name list, a deep scan `..`, a filter `[?(...)]`) gives an array of every match,
possibly empty (fakecloud's jsonpath module, which implements that result shape:
https://docs.rs/fakecloud-stepfunctions/latest/fakecloud_stepfunctions/jsonpath/; an
indefinite path that finds nothing gives [], localstack/localstack#12318; filters in
Parameters give arrays, the reason `States.ArrayGetItem(..., 0)` is the usual way to take
their first match). The Amazon States Language's own Parameters example gives both shapes:
with `"vals": [0, 10, 20, 30, 40, 50]`, `"first.$": "$.vals[0]"` is `0` and
`"last3.$": "$.vals[3:]"` is `[30, 40, 50]` (https://states-language.net/spec.html, quoted
in awslabs/states-language#12).

moto decided by the last steps it matched instead: `$.arr[0].x` gave `[1]` where AWS gives
`1` (moto's comment calls that condition "different from LS", getmoto/moto#7825), so a
Parallel's `"$[0].inferences"` reached the next state wrapped in a list, and a Choice on
`$[0].score` compared a list; `$..x` with one match gave the value, not `[value]`; and a
filter that matched nothing failed the state where AWS gives `[]`.

moto's Step Functions modules import `extract_json` by name, each its own binding: every
binding of the original is replaced while the stack runs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import lru_cache
from typing import Any
from unittest.mock import patch

MOTO_JSON_PATH = "moto.stepfunctions.parser.asl.utils.json_path"


def extract_json(path: str, data: Any) -> Any:
    """The value a definite path names (NoSuchJsonPathError when it names nothing), or
    the array of every value an indefinite one matches."""
    from moto.stepfunctions.parser.asl.utils.json_path import NoSuchJsonPathError

    expression = parsed(path)
    matches = expression.find(data)
    if not is_definite(expression):
        return [match.value for match in matches]
    if not matches:
        raise NoSuchJsonPathError(json_path=path, data=data)
    return matches[0].value


@lru_cache(maxsize=1024)
def parsed(path: str) -> Any:
    """A path parsed once: a definition's paths are few and read on every execution, and
    jsonpath-ng's parser takes ~0.35 ms a path (moto parsed each one at each read). A parsed
    path is not changed by finding it in data."""
    from jsonpath_ng.ext import parse

    return parse(path)


def is_definite(expression: Any) -> bool:
    """Whether a parsed path names at most one value: the root, and single names and
    single indexes after it."""
    from jsonpath_ng.jsonpath import Child, Fields, Index, Root, This

    if isinstance(expression, Root | This):
        return True
    if isinstance(expression, Child):
        return is_definite(expression.left) and is_definite(expression.right)
    if isinstance(expression, Fields):
        return len(expression.fields) == 1 and expression.fields[0] != "*"
    if isinstance(expression, Index):
        return len(expression.indices) == 1
    return False  # Wildcard, Slice, Descendants, Filter, ...


def moto_bindings() -> list[tuple[Any, str]]:
    """Each (module, name) of moto's Step Functions modules bound to moto's extract_json."""
    import importlib

    importlib.import_module("moto.stepfunctions.parser.asl.parse.preprocessor")  # loads them
    return [
        (module, "extract_json")
        for name, module in list(sys.modules.items())
        if name.startswith("moto.stepfunctions.") and _motos(getattr(module, "extract_json", None))
    ]


def _motos(function: Any) -> bool:
    return getattr(function, "__module__", None) == MOTO_JSON_PATH


@contextmanager
def json_paths_as_aws() -> Iterator[None]:
    bindings = moto_bindings()
    if not any(module.__name__ == MOTO_JSON_PATH for module, _ in bindings):
        raise RuntimeError("moto's extract_json has moved: see tests/unit/test_json_paths.py")
    with ExitStack() as patches:
        for module, name in bindings:
            patches.enter_context(patch.object(module, name, extract_json))
        yield
