"""JSONata in state machine definitions, evaluated offline as Step Functions evaluates it.

Step Functions evaluates each "{% ... %}" expression with JSONata 2.0.6 and its own functions
$partition, $range, $hash, $random (with an optional seed), $uuid and $parse
(https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html). An
expression that fails, fails its state with States.QueryEvaluationError, which Retry and
Catch can name (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).

moto's interpreter (LocalStack's) parses JSONata states, but evaluates their expressions
through a JVM bridge it does not ship: its hook `_eval_jsonata` stays None, and every JSONata
expression failed the whole execution with States.Runtime, "TypeError('NoneType' object is
not callable)". It also declares $hash and $uuid as stand-ins that answer "Function $hash is
currently not supported", and $parse as $eval. Here:
- the hook is jsonata-python, a port of jsonata-java, the engine LocalStack runs in its JVM;
- $hash, $uuid, $random and $parse are Python functions with the documented behaviour
  (moto's $parse evaluated its text as JSONata), a seeded $random gives AWS's number, and
  $eval, which Step Functions leaves out, fails as it fails there;
- an error in an expression fails its state with States.QueryEvaluationError (an
  EvaluationFailed event), as moto already fails an expression that gives nothing; either
  cause names the field the expression is written in, in AWS's sentence.
moto's internals named here are pinned by tests/unit/test_jsonata_states.py.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest.mock import patch

from mlwf.offline.state_errors import state_failure

# $hash's algorithms, as Step Functions names them, and hashlib's names for them
HASH_ALGORITHMS = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


class QueryEvaluationError(Exception):
    """An expression's failure in a Step Functions function ($hash with an unknown
    algorithm, say): States.QueryEvaluationError, as JSONata's own errors."""


def _hash(value: Any = None, algorithm: Any = None) -> str:
    if not isinstance(value, str):
        raise QueryEvaluationError("$hash: the value to hash must be a string")
    name = HASH_ALGORITHMS.get(algorithm) if isinstance(algorithm, str) else None
    if name is None:
        known = ", ".join(HASH_ALGORITHMS)
        raise QueryEvaluationError(f"$hash: the algorithm must be one of {known}")
    return hashlib.new(name, value.encode()).hexdigest()


def _random(*seed: Any) -> float:
    # Step Functions' $random takes an optional integer seed: the same seed, the same
    # number, Java's (below).
    if not seed or seed[0] is None:
        return random.random()
    value = seed[0]
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSONata's numbers are doubles: 7 may come as 7.0
    if len(seed) > 1 or isinstance(value, bool) or not isinstance(value, int):
        raise QueryEvaluationError("$random: the seed must be an integer")
    return _java_next_double(value)


def _java_next_double(seed: int) -> float:
    """java.util.Random(seed).nextDouble(): what AWS's seeded $random gives, bit for bit
    ($random(42) is 0.7275636800328681 there, as measured in floci-io/floci#2662). Java's
    documented generator (java.util.Random: a 48-bit linear congruential one)."""
    mask = (1 << 48) - 1
    state = (seed ^ 0x5DEECE66D) & mask

    def bits(count: int) -> int:
        nonlocal state
        state = (state * 0x5DEECE66D + 0xB) & mask
        return state >> (48 - count)

    return ((bits(26) << 27) + bits(27)) * 2.0**-53


def _parse(text: Any = None) -> Any:
    # $parse deserializes a JSON string (Step Functions' stand-in for $eval, which it
    # leaves out): JSON, not a JSONata expression.
    if not isinstance(text, str):
        raise QueryEvaluationError("$parse: the value must be a JSON string")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise QueryEvaluationError(f"$parse: not JSON: {exc}") from None


def _eval(*_: Any) -> Any:
    # Step Functions leaves $eval out of JSONata 2.0.6 (transforming-data.html): calling it
    # fails as calling what is not a function, T1006 (AWS's answer, floci-io/floci#2737).
    import jsonata

    raise jsonata.JException("T1006", 0)


def _uuid() -> str:
    return str(uuid.uuid4())  # a version 4 UUID, as States.UUID()


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "eval": _eval,
    "hash": _hash,
    "parse": _parse,
    "random": _random,
    "uuid": _uuid,
}
# moto's declarations that answer "... not supported", or ($parse) evaluate JSONata
STAND_INS = ("$hash", "$parse", "$uuid")


UNSUPPORTED = "the expression returned an unsupported result type"


def evaluate(expression: str) -> Any:
    """The value of a whole expression (moto composes the variables into it), as JSON
    values; an error raises moto's JSONataException."""
    import jsonata
    from moto.stepfunctions.parser.asl.jsonata.jsonata import JSONataException

    try:
        compiled = jsonata.Jsonata(expression)
        for name, function in FUNCTIONS.items():
            compiled.register_lambda(name, function)
        result = compiled.evaluate(None)
    except Exception as exc:  # the port raises Python's own errors for some of JSONata's
        code = exc.get_error() if isinstance(exc, jsonata.JException) else type(exc).__name__
        raise JSONataException(code, f"{code}: {exc}") from None
    try:
        return json.loads(json.dumps(result))  # plain JSON values, as LocalStack's bridge
    except (TypeError, ValueError):  # a function, say: no JSON value for it
        raise JSONataException("UnsupportedResultType", UNSUPPORTED) from None


@contextmanager
def jsonata_evaluated() -> Iterator[None]:
    """moto's parser evaluates JSONata expressions, with Step Functions' functions and
    errors, while the block runs."""
    from moto.stepfunctions.parser.asl.component.common.string import string_expression
    from moto.stepfunctions.parser.asl.component.intrinsic import jsonata as functions
    from moto.stepfunctions.parser.asl.jsonata import jsonata as hook

    hook.__dict__["_eval_jsonata"]  # KeyError: moto changed; see the test
    declared = functions.__dict__["_DECLARATION_BY_VARIABLE_REFERENCE"]
    with ExitStack() as stack:
        stack.enter_context(patch.object(hook, "_eval_jsonata", evaluate))
        # moto declares its stand-ins inside each expression that names them, where they
        # would hide the real functions: not declared while the block runs
        stack.enter_context(patch.dict(declared))
        for name in STAND_INS:
            declared.pop(name, None)
        for cls in (string_expression.StringJSONata, string_expression.StringVariableSample):
            original = cls.__dict__["_eval_body"]  # KeyError: moto changed; see the test
            stack.enter_context(patch.object(cls, "_eval_body", _failing_as_aws(original)))
        # moto's check, replaced by its two parts (_naming); KeyError: moto changed, see the test
        string_expression.__dict__["validate_jsonata_expression_output"]
        stack.enter_context(
            patch.object(string_expression, "validate_jsonata_expression_output", _naming())
        )
        stack.enter_context(_written_once())
        yield


class _Written(dict[str, Any]):
    """An EvaluationFailed event's details, already in the history."""


@contextmanager
def _written_once() -> Iterator[None]:
    """An expression's EvaluationFailed event written once: moto's Task and Map write the
    failure they catch again, a Task its raw details, a Map the ones it asks the failure for
    (AWS's recorded histories have one EvaluationFailed event, LocalStack's
    test_map_state_items_eval_jsonata_fail and others; offline a Task's Arguments or a Map's
    Items that threw had two). A failure written here is marked, and its details with it."""
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

    add_event = EventManager.__dict__["add_event"]  # KeyError: moto changed; see the test
    details_of = FailureEventException.__dict__["get_evaluation_failed_event_details"]

    def add(self: Any, context: Any, event_type: Any, event_details: Any = None, **kw: Any) -> int:
        inner = (event_details or {}).get("evaluationFailedEventDetails")
        if isinstance(event_details, _Written) or isinstance(inner, _Written):
            return int(context.last_published_event_id)
        return int(add_event(self, context, event_type, event_details, **kw))

    def evaluation_details(self: Any) -> Any:
        details = details_of(self)
        return _Written(details) if getattr(self, "mlwf_written", False) else details

    with (
        patch.object(EventManager, "add_event", add),
        patch.object(
            FailureEventException, "get_evaluation_failed_event_details", evaluation_details
        ),
    ):
        yield


def _naming() -> Callable[..., None]:
    """moto's check of an expression's result (nothing, or no JSON value), its cause naming
    the field as AWS's does: "The JSONata expression '$$' specified for the field 'Output'
    returned nothing (undefined)." (floci-io/floci#2745), in one EvaluationFailed event at
    that location (LocalStack's recordings of AWS, test_undefined_reference). moto's check
    wrote its event before the field was named, and its Task or Map wrote another: its
    two checks are called here instead, and the event written once (_publish_once). That
    moto's check is still those two is pinned by tests/unit/test_jsonata_states.py."""
    from moto.stepfunctions.parser.asl.jsonata import validations

    checks = validations.__dict__["_validate_null_output"], validations._validate_string_output

    def validated(env: Any, expression: str, rich_expression: str, result: Any) -> None:
        from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
            FailureEventException,
        )

        try:
            if result is None:
                checks[0](env, expression, rich_expression)
            if isinstance(result, str):
                checks[1](env, expression, rich_expression)
        except FailureEventException as exc:
            event: Any = exc.failure_event.event_details or {}
            details = event.get("evaluationFailedEventDetails")
            cause = str((details or {}).get("cause", ""))
            quoted = f"The JSONata expression '{expression}' "
            field = expression_field(env, expression) if cause.startswith(quoted) else None
            if details is not None and field:
                rest = cause.removeprefix(quoted)
                details["cause"] = f"{quoted}specified for the field '{field}' {rest}"
            _publish_once(env, exc, field)
            raise

    return validated


def _publish_once(env: Any, failure: Any, field: str | None) -> None:
    """The failure's EvaluationFailed event, at the field as its location when known, written
    now and marked written (_written_once)."""
    from moto.stepfunctions.parser.api import HistoryEventType

    if field:  # the field again, as the event's location (recorded: 'Items', 'Output/result')
        failure.failure_event.event_details["evaluationFailedEventDetails"]["location"] = field
    decorated: Any = {"evaluationFailedEventDetails": failure.get_evaluation_failed_event_details()}
    entered = _entered_previous_id(env)
    if entered is not None:
        # AWS's EvaluationFailed follows what its state's entered event followed: (3, prev 0)
        # after PassStateEntered (2, prev 0), (7, prev 5) after (6, prev 5) (LocalStack's
        # recordings: test_undefined_reference, test_map_state_items_eval_jsonata_fail)
        env.event_history_context.source_event_id = entered
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.EvaluationFailed,
        event_details=decorated,
    )
    failure.failure_event.event_details = _Written(failure.failure_event.event_details)
    failure.mlwf_written = True


def _entered_previous_id(env: Any) -> int | None:
    """The previousEventId of the event that entered the state now running, None if none."""
    from mlwf.offline.path_failures import entered_event

    try:
        name = env.states.context_object.context_object_data["State"]["Name"]
        entered = entered_event(env, name)
    except Exception:  # no state entered yet
        return None
    return None if entered is None else int(entered["previousEventId"])


def _failing_as_aws(original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def eval_body(self: Any, env: Any) -> None:
        from moto.stepfunctions.parser.asl.jsonata.jsonata import JSONataException

        try:
            original(self, env)
        except JSONataException as exc:
            raise _query_evaluation_failed(env, self.expression, exc.details or exc.error) from None

    return eval_body


def _query_evaluation_failed(env: Any, expression: str, details: str) -> Exception:
    """The state's failure, its EvaluationFailed event written once (_publish_once), as
    moto's validations.py builds one for an expression that gives nothing."""
    field = expression_field(env, expression)
    named = f" specified for the field '{field}'" if field else ""
    # AWS's sentence, then JSONata's coded message after ". ", a bare one after ": "
    # (as measured in floci-io/floci#2736)
    coded = re.match(r"[A-Z]\d{4}: ", details)
    cause = (
        f"The JSONata expression '{expression}'{named} threw an error during evaluation"
        f"{'. ' if coded else ': '}{details}"
    )
    if details == UNSUPPORTED:  # a function: AWS's own sentence, as recorded (LocalStack's
        # test_map_state_items_eval_jsonata_fail[function])
        cause = f"The JSONata expression '{expression}'{named} returned an unsupported result type."
    failure = state_failure(env, "States.QueryEvaluationError", cause, "EvaluationFailed")
    _publish_once(env, failure, field)
    return failure


def expression_field(env: Any, expression: str) -> str | None:
    """Where in its state the failing expression is written, as AWS names the field in the
    cause ("Output/v", "Arguments/Payload/k", "Catch[0]/Output"): the first field of the
    state's definition holding that expression. None when it cannot be found."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    from mlwf.offline.definition_fields import state_languages
    from mlwf.offline.definition_jsonata import state_expressions

    try:
        context = env.states.context_object.context_object_data
        details = env.aws_execution_details
        backend = stepfunctions_parser_backends[details.account][details.region]
        # the machine's own ARN: an EXPRESS execution's Id is not one moto's backend knows
        machine = backend.describe_state_machine(context["StateMachine"]["Id"])
        document = json.loads(machine.definition)
        name = context["State"]["Name"]
    except Exception:  # no execution, no state: the cause goes without its field
        return None
    for state, at, _ in state_languages(document):
        if not at.endswith(f"/States/{name}"):
            continue
        for text, where in state_expressions(state, ""):
            if text.strip() == expression.strip():
                return where.removeprefix("/")
    return None
