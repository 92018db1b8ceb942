"""CloudWatch Logs filter patterns, matched as CloudWatch Logs matches them.

moto's Logs matches a pattern of plain words or one quoted phrase, and lets every event
through for any other pattern: `{ $.level = "ERROR" }` (Powertools' structured logs),
`?ERROR ?WARN` and `%regex%` found every line, and so did a pattern with a syntax error.
`sam logs --filter`, `aws logs filter-log-events` and the console's search use these. The
syntax is AWS's (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html):

- terms, case-sensitive, each found in the message: `ERROR Timeout` (both), `"Task timed
  out"` (a phrase, quoted), `ERROR -Retry` (the first, not the second), `?ERROR ?WARN`
  (either; `?A B ?C` is A and B, or C, as aws-cdk's anyTermGroup writes groups);
- `%regex%`: the regular expression found in the message;
- JSON: `{ $.level = "ERROR" }`, `{ $.latency > 500 }`, `{ $.user.id != 12* }` (a `*`
  wildcard in a string), `{ $.x IS NULL }`, `{ $.x NOT EXISTS }`, `{ $.ok IS TRUE }`, joined
  with `&&` and `||` and grouped in parentheses, selectors with `.name` and `[index]`. A
  message that is not a JSON object matches no JSON pattern, nor does a comparison of a
  property it lacks.

Space-delimited patterns (`[ip, user, ...]`) are not modelled: a 501 NotImplemented names
them. A pattern that does not parse is InvalidParameterException, "Invalid filter pattern"
and why (the why is ours; AWS's words were not found).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was

_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))'
    r"|(?P<regex>%[^%]*%)|(?P<word>[^\s()=!<>&|\"]+))"
)
_SELECTOR = re.compile(r"\$(?:\.[^\s.\[\]]+|\[\d+\])*")


class FilterPatternError(ValueError):
    """A filter pattern that does not parse."""


class FilterPattern:
    """`FilterPattern(text).matches(message)`, as moto's EventMessageFilter is called (once
    per event: the pattern is read once)."""

    def __init__(self, pattern: str) -> None:
        from moto.logs.exceptions import InvalidParameterException

        try:
            self._match = _matcher((pattern or "").strip())
        except (FilterPatternError, re.error) as exc:
            raise InvalidParameterException(f"Invalid filter pattern: {exc}") from None

    def matches(self, message: str) -> bool:
        return bool(self._match(message))


@functools.lru_cache(maxsize=64)
def _matcher(text: str) -> Any:
    if text.startswith("["):
        raise NotImplementedError(
            f"The space-delimited filter pattern {text!r} is not modelled offline"
        )
    if text.startswith("{"):
        if not text.endswith("}"):
            raise FilterPatternError("a JSON pattern ends with }")
        return _json_matcher(text[1:-1])
    if len(text) > 1 and text.startswith("%") and text.endswith("%"):
        regex = re.compile(text[1:-1])
        return lambda message: regex.search(message) is not None
    return _terms_matcher(text)


@contextmanager
def filter_patterns_as_aws() -> Iterator[None]:
    """moto's Logs matching events with CloudWatch Logs' filter patterns, while the block
    runs; a pattern that does not parse is refused even when no event is read."""
    import moto.logs.models
    from moto.logs.responses import LogsResponse

    assert hasattr(moto.logs.models, "EventMessageFilter")  # moto changed: see the test
    filter_log_events = LogsResponse.__dict__["filter_log_events"]

    def checked(self: Any) -> str:
        FilterPattern(self._get_param("filterPattern") or "")  # InvalidParameterException
        return filter_log_events(self)

    with (
        patch.object(moto.logs.models, "EventMessageFilter", FilterPattern),
        patch.object(LogsResponse, "filter_log_events", checked),
    ):
        yield


def _terms_matcher(text: str) -> Any:
    groups: list[list[tuple[bool, str]]] = []  # each: (excluded, term), all must hold
    for match in re.finditer(r'(\?)?(-)?("(?:[^"\\]|\\.)*"|\S+)', text):
        either, excluded, term = match.groups()
        if term.startswith('"'):
            term = json.loads(term) if len(term) > 1 else ""
        if either or not groups:
            groups.append([])
        if term:
            groups[-1].append((bool(excluded), term))
    if not groups or not any(groups):
        return lambda message: True  # "" or " ": every event

    def matches(message: str) -> bool:
        return any(
            all((term in message) != excluded for excluded, term in group) for group in groups
        )

    return matches


def _json_matcher(body: str) -> Any:
    tokens = _tokens(body)
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take(expected: str | None = None) -> str:
        nonlocal position
        token = peek()
        if token is None or (expected is not None and token != expected):
            raise FilterPatternError(f"expected {expected or 'more'} at {token or 'the end'}")
        position += 1
        return token

    def either() -> Any:
        parts = [both()]
        while peek() == "||":
            take()
            parts.append(both())
        return lambda doc: any(p(doc) for p in parts)

    def both() -> Any:
        parts = [single()]
        while peek() == "&&":
            take()
            parts.append(single())
        return lambda doc: all(p(doc) for p in parts)

    def single() -> Any:
        if peek() == "(":
            take("(")
            inner = either()
            take(")")
            return inner
        selector = take()
        if not _SELECTOR.fullmatch(selector):
            raise FilterPatternError(f"{selector!r} is not a property selector ($.name)")
        path = re.findall(r"\.([^\s.\[\]]+)|\[(\d+)\]", selector)
        keyword = peek()
        if keyword == "IS":
            take()
            value = {"NULL": None, "TRUE": True, "FALSE": False}.get(take(), "?")
            if value == "?":
                raise FilterPatternError("IS takes NULL, TRUE or FALSE")

            def is_(doc: Any) -> bool:
                there, found = _found(doc, path)
                if value is None:
                    return there and found is None
                return there and isinstance(found, bool) and found is value

            return is_
        if keyword == "NOT":
            take()
            take("EXISTS")
            return lambda doc: not _found(doc, path)[0]
        operator = take()
        if operator not in ("=", "!=", "<", ">", "<=", ">="):
            raise FilterPatternError(f"{operator!r} is not a comparison")
        return _comparison(path, operator, take())

    matcher = either()
    if position != len(tokens):
        raise FilterPatternError(f"unexpected {tokens[position]!r}")

    def matches(message: str) -> bool:
        try:
            doc = json.loads(message)
        except ValueError:
            return False
        return isinstance(doc, dict) and bool(matcher(doc))

    return matches


def _tokens(body: str) -> list[str]:
    tokens, at = [], 0
    while body[at:].strip():
        match = _TOKEN.match(body, at)
        if match is None or match.end() == at:
            raise FilterPatternError(f"cannot read {body[at:].strip()!r}")
        tokens.append(next(t for t in match.groups() if t is not None))
        at = match.end()
    if not tokens:
        raise FilterPatternError("an empty JSON pattern")
    return tokens


def _found(doc: Any, path: list[tuple[str, str]]) -> tuple[bool, Any]:
    """(whether the property is there, its value)."""
    for name, index in path:
        if name and isinstance(doc, dict) and name in doc:
            doc = doc[name]
        elif index and isinstance(doc, list) and int(index) < len(doc):
            doc = doc[int(index)]
        else:
            return False, None
    return True, doc


def _comparison(path: list[tuple[str, str]], operator: str, given: str) -> Any:
    number = _number(given)
    if given.startswith("%") and given.endswith("%") and len(given) > 1:
        regex = re.compile(given[1:-1])
        wanted = operator == "="

        def regex_match(doc: Any) -> bool:
            there, value = _found(doc, path)
            return there and isinstance(value, str) and (regex.search(value) is not None) == wanted

        return regex_match
    if number is not None and operator not in ("=", "!="):
        compare = {"<": float.__lt__, ">": float.__gt__, "<=": float.__le__, ">=": float.__ge__}

        def numeric(doc: Any) -> bool:
            there, value = _found(doc, path)
            return there and _is_number(value) and compare[operator](float(value), number)

        return numeric
    if operator not in ("=", "!="):
        raise FilterPatternError(f"{operator} compares numbers, not {given!r}")
    text = json.loads(given) if given.startswith('"') else given
    wildcard = re.compile(".*".join(map(re.escape, text.split("*"))), re.DOTALL)

    def equality(doc: Any) -> bool:
        there, value = _found(doc, path)
        if not there or value is None or isinstance(value, dict | list | bool):
            return False
        if number is not None and _is_number(value):
            same = float(value) == number
        else:
            same = wildcard.fullmatch(str(value)) is not None
        return same == (operator == "=")

    return equality


def _number(text: str) -> float | None:
    try:
        return float(text) if not text.startswith('"') else None
    except ValueError:
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
