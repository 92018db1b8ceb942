"""The moto method mlwf.offline.sns_publish wraps still takes what the check reads, and a
topic's ARN is told from a mobile endpoint's."""

from __future__ import annotations

import inspect

from mlwf.offline.sns_publish import _is_topic_arn


def test_a_topic_arn_is_told_from_an_endpoint_arn():
    assert _is_topic_arn("arn:aws:sns:us-east-1:123456789012:alerts")
    assert not _is_topic_arn("arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/1a2b")


def test_the_pinned_moto_sns_publish_takes_what_the_check_reads():
    from moto.sns.models import SNSBackend

    names = inspect.signature(SNSBackend.publish).parameters
    assert {"arn", "phone_number", "group_id", "deduplication_id"} <= set(names)
