"""A state's QueryLanguage as AWS has it: its own, else the whole machine's.

AWS refuses a JSONPath state only under a JSONata machine ("'QueryLanguage' can not be
'JSONPath' if set to 'JSONata' for whole state machine"), and takes a JSONPath state inside
a JSONata Map of a JSONPath machine (LocalStack's test_sfn_api_validation.py,
VALID_QUERY_LANGUAGE_PASS and INVALID_DOWNGRADE_QUERY_LANGUAGE, recorded 2025-10-19); a
state that declares none takes the machine's language, not its enclosing Map's or
Parallel's (measured with validate-state-machine-definition, floci-io/floci#2735 and
#3733; mlwf.offline.definition_fields checks definitions by the same rule). moto's parser
took each scope's language from the scope around it: it refused the valid definition at
CreateStateMachine ("Cannot downgrade from JSONata context to a JSONPath context") and read
an undeclared state in a JSONata Map of a JSONPath machine as JSONata (its Parameters then
refused at CreateStateMachine). Here each scope is opened as if the machine's language were
the one around it.

moto's internal named here is pinned by tests/unit/test_query_languages.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch


@contextmanager
def query_languages_as_aws() -> Iterator[None]:
    """While the block runs, every nested scope inherits, and is checked against, the
    machine's QueryLanguage."""
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    # KeyError: moto changed; see tests/unit/test_query_languages.py
    open_scope = Preprocessor.__dict__["_open_query_language_scope"]

    def open_under_the_machine(preprocessor: Any, parse_tree: Any) -> None:
        scopes = preprocessor._query_language_per_scope
        if len(scopes) < 2:  # the machine's own scope, or a state right under it
            open_scope(preprocessor, parse_tree)
            return
        at = len(scopes)
        scopes.append(scopes[0])  # the machine's, read as the enclosing scope's
        try:
            open_scope(preprocessor, parse_tree)
        finally:
            del scopes[at]

    with patch.object(Preprocessor, "_open_query_language_scope", open_under_the_machine):
        yield
