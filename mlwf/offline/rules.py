"""The template's EventBridge rules, live offline: an upload matching the upload rule starts
the state machine with the rule's InputTransformer, as EventBridge does in AWS.

moto sends S3's "Object Created" events to its EventBridge rules, but cannot deliver them to
a Step Functions target (it supports logs, SQS and event buses, and drops the rest), and it
skips the target's InputTransformer for S3's events. While the offline stack runs, a rule's
Step Functions targets are delivered here:
- the InputTransformer is applied as EventBridge applies it: each `<name>` takes the value
  of its path in the event, a string quoted as JSON unless the template already quotes it
  (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html);
- the state machine's StartExecution is called with an execution name EventBridge-like
  (a UUID);
- an event that cannot be delivered goes to the target's dead-letter queue with the
  attributes EventBridge sets (ERROR_CODE, ERROR_MESSAGE, RULE_ARN, TARGET_ARN)
  (https://docs.aws.amazon.com/eventbridge/latest/userguide/rule-dlq.html). Delivery is
  tried once: the RetryPolicy's backoff over hours is not modelled.

And a rule's other targets (an SQS queue, a log group) get the whole event, as EventBridge
sends it with no InputTransformer: moto's default template left out its `account`
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html;
LocalStack's test_events_task_service.py recordings of AWS deliver it).
"""

from __future__ import annotations

import copy
import json
import logging
import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was

from mlwf.offline import iam
from mlwf.offline.validation_errors import validation_errors
from training_job.errors import MlwfError

LOG = logging.getLogger(__name__)
# EventBridge's predefined variables, reserved (eb-transform-target-input.html)
PREDEFINED = (
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event.ingestion-time",
    "aws.events.event",
    "aws.events.event.json",
)
_PLACEHOLDER = re.compile(r'("?)<([A-Za-z0-9_.\-]+)>("?)')
# An event as EventBridge delivers it, its fields in AWS's order, for moto's template
WHOLE_EVENT = (
    '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", '
    '"account": "<account>", "time": <time>, "region": "<region>", "resources": <resources>, '
    '"detail": <detail>}'
)


def put_rules(events: Any, rules: Iterable[Any], template: str) -> None:
    """The template's rules and their targets put, as CloudFormation puts them; a rule
    EventBridge refuses fails the start in one line naming it, as it fails sam deploy
    (the rule's CREATE_FAILED)."""
    from botocore.exceptions import ClientError

    for rule in rules:
        try:
            events.put_rule(
                Name=rule.name, EventPattern=json.dumps(rule.event_pattern), State=rule.state
            )
        except ClientError as exc:
            message = exc.response.get("Error", {}).get("Message", "")
            raise MlwfError(
                f"{template} ({rule.logical_id}): PutRule refuses it: {message}"
            ) from None
        over = [problem for target in rule.targets for problem in _over_maximum(target)]
        if over:  # botocore checks the minimums before sending; EventBridge the maximums
            raise MlwfError(
                f"{template} ({rule.logical_id}): PutTargets refuses it: " + validation_errors(over)
            )
        for target in rule.targets:
            names = (target.get("InputTransformer") or {}).get("InputPathsMap") or {}
            reserved = sorted(set(names) & set(PREDEFINED))
            if reserved:  # "you can't create variables with these names" (the page above)
                raise MlwfError(
                    f"{template} ({rule.logical_id}): PutTargets refuses it: InputPathsMap "
                    f"defines {', '.join(reserved)}, which EventBridge predefines"
                )
        events.put_targets(Rule=rule.name, Targets=rule.targets)


def _over_maximum(given: Any, shape: Any = None, at: str = "") -> list[tuple[str, str, Any]]:
    """Each value of a PutTargets target over the maximum the API's model gives it
    (botocore's Target shape): a RetryPolicy's MaximumRetryAttempts over 185, for one
    (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_RetryPolicy.html)."""
    if shape is None:
        import botocore.session

        shape = botocore.session.get_session().get_service_model("events").shape_for("Target")
    found: list[tuple[str, str, Any]] = []
    if shape.type_name == "structure" and isinstance(given, dict):
        for name, value in given.items():
            if name in shape.members:
                found += _over_maximum(value, shape.members[name], f"{at}.{name}".lstrip("."))
    elif shape.type_name == "list" and isinstance(given, list):
        for i, value in enumerate(given):
            found += _over_maximum(value, shape.member, f"{at}.{i + 1}")
    elif "max" in shape.metadata:
        bound = shape.metadata["max"]
        number = int(given) if isinstance(given, str) and given.isdigit() else given
        if shape.type_name in ("integer", "long") and isinstance(number, int) and number > bound:
            found.append((at, f"Member must have value less than or equal to {bound}", given))
        elif shape.type_name == "string" and isinstance(given, str) and len(given) > bound:
            found.append((at, f"Member must have length less than or equal to {bound}", given))
    return found


def transform_input(transformer: dict[str, Any], event: dict[str, Any], rule: Any = None) -> str:
    """The target's input for `event`, as EventBridge's InputTransformer builds it for
    `rule`'s target, with EventBridge's predefined variables (eb-transform-target-input.html,
    "Predefined variables"): aws.events.rule-arn and rule-name, event.ingestion-time (ISO
    8601, here the delivery's time in UTC to the millisecond: AWS's precision is not
    given), aws.events.event (the event without its `detail`) and aws.events.event.json."""
    from jsonpath_ng.ext import parse  # moto's own dependency, as its events use it

    template = transformer.get("InputTemplate")
    if template is None:
        return json.dumps(event)
    values: dict[str, Any] = {}
    for name, path in (transformer.get("InputPathsMap") or {}).items():
        found = parse(path).find(event)
        values[name] = found[0].value if found else None
    now = datetime.now(UTC)
    values |= {
        "aws.events.event.json": event,
        "aws.events.event": {k: v for k, v in event.items() if k != "detail"},
        "aws.events.event.ingestion-time": now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
    }
    if rule is not None:
        values |= {"aws.events.rule-arn": rule.arn, "aws.events.rule-name": rule.name}

    def replace(match: re.Match[str]) -> str:
        opening, name, closing = match.groups()
        if name not in values:
            return match.group(0)
        value = values[name]
        if opening and closing and isinstance(value, str):  # "<name>": the string's content
            return json.dumps(value)
        text = "null" if value is None else json.dumps(value)
        return f"{opening}{text}{closing}"

    return _PLACEHOLDER.sub(replace, template)


# The ERROR_CODE EventBridge gives an undelivered event, by what refused it (rule-dlq.html).
DEAD_LETTER_CODES = {
    "StateMachineDoesNotExist": "NO_RESOURCE",
    "StateMachineDeleting": "NO_RESOURCE",
    "InvalidExecutionInput": "INVALID_JSON",
    "JSONDecodeError": "INVALID_JSON",
    "ExecutionLimitExceeded": "RESOURCE_LIMIT_EXCEEDED",
    "InvalidArn": "INVALID_PARAMETER",
}


def _is_state_machine(arn: str) -> bool:
    parts = arn.split(":")
    return len(parts) > 6 and parts[2] == "states" and parts[5] == "stateMachine"


def _deliver(rule: Any, target: dict[str, Any], event: dict[str, Any]) -> None:
    from moto.core.exceptions import AWSError
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    arn = target["Arn"]
    denied = _denial(target)
    if denied is not None:  # no retry: straight to the DLQ (rule-dlq.html, above)
        _dead_letter(rule, target, event, "NO_PERMISSIONS", denied)
        return
    try:
        body = transform_input(target.get("InputTransformer") or {}, event, rule)
        json.loads(body)  # EventBridge refuses to deliver what is not JSON
        account, region = arn.split(":")[4], arn.split(":")[3]
        backend = stepfunctions_parser_backends[account][region]
        backend.start_execution(arn, str(uuid.uuid4()), body)
    except (AWSError, ValueError, KeyError) as exc:
        error = getattr(exc, "error_type", None) or type(exc).__name__
        code = DEAD_LETTER_CODES.get(error, "UNKNOWN")
        _dead_letter(rule, target, event, code, f"{error}: {getattr(exc, 'message', exc)}")


def _denial(target: dict[str, Any]) -> str | None:
    """Why the target's role may not start the execution, if it may not (mlwf.offline.iam)."""
    authorizer = iam.current()
    role = str(target.get("RoleArn", ""))
    principal = authorizer.role_principal(role, "offline-events") if authorizer else None
    if principal is None or authorizer is None:
        return None
    return authorizer.denial(principal, "states:StartExecution", target["Arn"])


def _dead_letter(
    rule: Any, target: dict[str, Any], event: dict[str, Any], code: str, message: str
) -> None:
    from moto.sqs.models import sqs_backends

    queue_arn = (target.get("DeadLetterConfig") or {}).get("Arn")
    LOG.warning("rule %s could not deliver to %s: %s: %s", rule.name, target["Arn"], code, message)
    if not queue_arn:
        return  # EventBridge drops it too
    _, _, _, region, account, queue = queue_arn.split(":")
    attributes = {
        name: {"DataType": "String", "StringValue": value}
        for name, value in (
            ("RULE_ARN", rule.arn),
            ("TARGET_ARN", target["Arn"]),
            ("ERROR_CODE", code),
            ("ERROR_MESSAGE", message[:256]),
        )
    }
    sqs_backends[account][region].send_message(
        queue_name=queue, message_body=json.dumps(event), message_attributes=attributes
    )


@contextmanager
def step_functions_targets() -> Iterator[None]:
    """Rules deliver to Step Functions targets, and the whole event to others, while the
    block runs."""
    from moto.events.models import Rule
    from moto.events.utils import EventTemplateParser

    original = Rule.__dict__["send_to_targets"]  # KeyError: moto changed; see the test

    def send_to_targets(rule: Any, event: dict[str, Any], transform_input: bool = True) -> None:
        # A disabled rule delivers nothing (moto's S3 notifications ask every rule).
        if getattr(rule, "state", "ENABLED") != "ENABLED":
            return
        if not rule.event_pattern.matches_event(event):
            return
        ours = [t for t in rule.targets if _is_state_machine(t["Arn"])]
        for target in ours:
            _deliver(rule, target, copy.deepcopy(event))
        if len(ours) < len(rule.targets):  # the rest as moto delivers them
            others = copy.copy(rule)
            others.targets = [t for t in rule.targets if t not in ours]
            original(others, event, transform_input)

    with (
        patch.object(Rule, "send_to_targets", send_to_targets),
        patch.object(EventTemplateParser, "DEFAULT_EVENT_INPUT_TEMPLATE", WHOLE_EVENT),
    ):
        yield
