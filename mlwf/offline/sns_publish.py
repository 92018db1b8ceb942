"""SNS's Publish answering a FIFO topic's missing fields and a missing topic in SNS's words.

Found by a user-edit walk publishing to the template's topics: moto refused a FIFO topic's
message without MessageGroupId as SQS does (`MissingParameter`, so a state machine's task
failed with `SNS.MissingParameterException`), left out the "Invalid parameter: " of the
deduplication refusal, and answered a topic ARN that names no topic with "Endpoint does not
exist" (it falls back to a mobile endpoint). SNS answers `InvalidParameter`, "Invalid
parameter: The MessageGroupId parameter is required for FIFO topics", and `NotFound`,
"Topic does not exist" (the words LocalStack's SNS, checked against AWS, gives; moto's own
PublishBatch gives the first), so a Catch of `SNS.InvalidParameterException` fires.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mlwf.offline.moto_checks import checked_before

GROUP_REQUIRED = "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
DEDUPLICATION_REQUIRED = (
    "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
    "MessageDeduplicationId provided explicitly"
)


def _is_topic_arn(arn: str) -> bool:
    """arn:aws:sns:region:account:name; an endpoint's has endpoint/... after the account."""
    parts = arn.split(":")
    return len(parts) == 6 and parts[2] == "sns" and "/" not in parts[5]


@contextmanager
def publish_as_sns() -> Iterator[None]:
    from moto.sns.exceptions import InvalidParameterValue, SNSNotFoundError, TopicNotFound
    from moto.sns.models import SNSBackend

    def check(given: dict[str, Any]) -> None:
        arn = given.get("arn")
        if not arn or given.get("phone_number"):
            return
        try:
            topic = given["self"].get_topic(arn)
        except SNSNotFoundError:
            if _is_topic_arn(str(arn)):
                raise TopicNotFound() from None
            return  # a mobile endpoint's ARN: moto's answer
        if topic.fifo_topic:
            if not given.get("group_id"):
                raise InvalidParameterValue(GROUP_REQUIRED)
            if not given.get("deduplication_id") and not topic.content_based_deduplication:
                raise InvalidParameterValue(DEDUPLICATION_REQUIRED)

    with checked_before(SNSBackend, "publish", check):
        yield
