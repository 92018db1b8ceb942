"""The moto internal mlwf/offline/query_languages.py wraps, pinned: each QueryLanguage scope
inherits, and is checked against, the scope around it (the behaviour is
tests/offline/test_query_languages.py's)."""

from __future__ import annotations

import inspect


def test_the_pinned_moto_takes_a_scopes_language_from_the_scope_around_it():
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    source = inspect.getsource(Preprocessor.__dict__["_open_query_language_scope"])
    assert "current_query_language = self._get_current_query_language()" in source
    assert "Cannot downgrade from JSONata context to a JSONPath context" in source
    getter = inspect.getsource(Preprocessor._get_current_query_language)
    assert "self._query_language_per_scope[-1]" in getter
