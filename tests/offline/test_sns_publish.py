"""SNS's Publish refuses a FIFO topic's message without its group, and a missing topic, in
SNS's words (mlwf.offline.sns_publish), so a state machine's Catch of the documented name
fires."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from mlwf.offline.runtime import OfflineStack
from mlwf.offline.sns_publish import GROUP_REQUIRED
from tests.helpers.executions import run_to_end

pytestmark = pytest.mark.offline


@pytest.fixture(scope="module")
def stack() -> Iterator[OfflineStack]:
    with OfflineStack.start(say=lambda _: None) as stack:
        yield stack


def test_a_fifo_message_without_a_group_fails_the_task_with_invalid_parameter(stack):
    topic = stack.client("sns").create_topic(
        Name="alerts.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"}
    )["TopicArn"]
    publish = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sns:publish",
        "Parameters": {"TopicArn": topic, "Message": "m"},
        "End": True,
    }
    ended = run_to_end(stack.sfn, {"StartAt": "Publish", "States": {"Publish": publish}})
    # moto answered MissingParameter, so the error was SNS.MissingParameterException
    assert ended["status"] == "FAILED"
    assert ended["error"] == "SNS.InvalidParameterException"
    assert GROUP_REQUIRED in ended["cause"]
    # and with its group, it is published
    publish["Parameters"]["MessageGroupId"] = "images"
    ended = run_to_end(stack.sfn, {"StartAt": "Publish", "States": {"Publish": publish}})
    assert json.loads(ended["output"])["MessageId"]


def test_a_topic_arn_that_names_no_topic_is_not_found_as_a_topic(stack):
    missing = "arn:aws:sns:us-east-1:123456789012:nowhere"
    with pytest.raises(ClientError) as published:
        stack.client("sns").publish(TopicArn=missing, Message="m")
    error = published.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("NotFound", "Topic does not exist")
