"""A template's SQS queue made with its properties, and the attribute ranges SQS holds them to.

The offline stack made each AWS::SQS::Queue by name alone: the dead-letter queue's 14-day
retention and its encryption were not there (`aws sqs get-queue-attributes` said 4 days),
and a retention SQS refuses (`MessageRetentionPeriod: 2419200`, 28 days) deployed offline
and failed `sam deploy`. The queue's properties are now its attributes, as CloudFormation
passes them (the same names; a RedrivePolicy object as JSON text, booleans as "true" /
"false"), and the numbers SQS bounds are held to its ranges
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html:
"An integer from 60 (1 minute) to 1,209,600 (14 days)", ...), in CreateQueue and
SetQueueAttributes too, with SQS's error, InvalidAttributeValue "Invalid value for the
parameter MessageRetentionPeriod." (moto's wording of it, which it gives for
MaximumMessageSize, the one range it checked).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was

RANGES = {
    "DelaySeconds": (0, 900),
    "MessageRetentionPeriod": (60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "VisibilityTimeout": (0, 43_200),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400),
}
# The CloudFormation properties that are not attributes (the rest have the attributes' names)
NOT_ATTRIBUTES = ("QueueName", "Tags")


def attributes(props: dict[str, Any]) -> dict[str, str]:
    """The CreateQueue attributes of a template's AWS::SQS::Queue properties."""
    found = {}
    for name, value in props.items():
        if name in NOT_ATTRIBUTES:
            continue
        if isinstance(value, dict | list):
            found[name] = json.dumps(value)
        elif isinstance(value, bool):
            found[name] = str(value).lower()
        else:
            found[name] = str(value)
    return found


# Attributes that name another queue: set once every queue exists, as CloudFormation orders
# a queue after the dead-letter queue its RedrivePolicy reads (moto refuses a missing one)
LINKS = ("RedrivePolicy", "RedriveAllowPolicy")


def create_queues(sqs: Any, queues: dict[str, dict[str, str]]) -> None:
    """The template's queues (name -> attributes), as CloudFormation creates them."""
    links = []
    for name, given in queues.items():
        own = {k: v for k, v in given.items() if k not in LINKS}
        url = sqs.create_queue(QueueName=name, Attributes=own)["QueueUrl"]
        if len(own) < len(given):
            links.append((url, {k: v for k, v in given.items() if k in LINKS}))
    for url, linked in links:
        sqs.set_queue_attributes(QueueUrl=url, Attributes=linked)


def is_fifo(kind: str, props: dict[str, Any]) -> bool:
    """A template's FIFO queue (`props`, its evaluated properties): CloudFormation ends the
    name it generates for one in `.fifo`, as SQS requires ("The name of a FIFO queue must
    end with the .fifo suffix",
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sqs-queue.html)."""
    return kind == "AWS::SQS::Queue" and str(props.get("FifoQueue")).lower() == "true"


def out_of_range(given: dict[str, Any]) -> list[str]:
    """The attributes whose values SQS refuses, by name."""
    refused = []
    for name, (low, high) in RANGES.items():
        if name in given:
            try:
                value = int(str(given[name]))
            except ValueError:
                refused.append(name)
                continue
            if not low <= value <= high:
                refused.append(name)
    return refused


def refusal(given: dict[str, Any]) -> str | None:
    """Why SQS would refuse these attributes, in one line; None when it would not."""
    refused = out_of_range(given)
    if not refused:
        return None
    bounds = (
        f"{name} {given[name]} (SQS takes {RANGES[name][0]} to {RANGES[name][1]})"
        for name in refused
    )
    return "SQS refuses " + ", ".join(bounds) + ": InvalidAttributeValue"


@contextmanager
def queue_attributes_checked() -> Iterator[None]:
    """moto's CreateQueue and SetQueueAttributes refusing a value out of SQS's ranges."""
    from moto.sqs.exceptions import InvalidAttributeValue
    from moto.sqs.models import SQSBackend

    create = SQSBackend.__dict__["create_queue"]  # KeyError: moto changed; see the test
    set_attributes = SQSBackend.__dict__["set_queue_attributes"]

    def check(given: dict[str, Any]) -> None:
        refused = out_of_range(given)
        if refused:
            raise InvalidAttributeValue(refused[0])

    def create_queue(self: Any, name: str, tags: Any = None, **kwargs: Any) -> Any:
        check(kwargs)
        return create(self, name, tags, **kwargs)

    def set_queue_attributes(self: Any, queue_name: str, given: dict[str, Any]) -> Any:
        check(given)
        return set_attributes(self, queue_name, given)

    with (
        patch.object(SQSBackend, "create_queue", create_queue),
        patch.object(SQSBackend, "set_queue_attributes", set_queue_attributes),
    ):
        yield
