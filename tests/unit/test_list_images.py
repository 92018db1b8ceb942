"""ListImagesFunction: the image keys under a prefix, one page at a time."""

from __future__ import annotations

from types import ModuleType

import boto3
import pytest

from tests.helpers.events import load_event, sample_png


@pytest.fixture
def app(aws: None, load_app) -> ModuleType:
    return load_app("ListImagesFunction", MAX_BATCH_IMAGES="3")


@pytest.fixture
def bucket(aws: None) -> str:
    event = load_event("list_images.json")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=event["s3_bucket"])
    for key in ["incoming/a.png", "incoming/b.JPG", "incoming/c.jpeg", "incoming/d.png"]:
        s3.put_object(Bucket=event["s3_bucket"], Key=key, Body=sample_png())
    s3.put_object(Bucket=event["s3_bucket"], Key="incoming/notes.txt", Body=b"x")
    s3.put_object(Bucket=event["s3_bucket"], Key="incoming/empty.png", Body=b"")
    s3.put_object(Bucket=event["s3_bucket"], Key="other/e.png", Body=sample_png())
    return event["s3_bucket"]


def test_lists_one_page_of_images_under_the_prefix(app, bucket, lambda_context):
    result = app.lambda_handler(load_event("list_images.json"), lambda_context)
    assert result["images"] == ["incoming/a.png", "incoming/b.JPG", "incoming/c.jpeg"]
    assert result["truncated"] is True
    assert result["next_start_after"] == "incoming/c.jpeg"


def test_start_after_gives_the_next_page(app, bucket, lambda_context):
    event = {**load_event("list_images.json"), "start_after": "incoming/c.jpeg"}
    result = app.lambda_handler(event, lambda_context)
    assert result["images"] == ["incoming/d.png"]
    assert (result["truncated"], result["next_start_after"]) == (False, None)


def test_no_images_is_named(app, bucket, lambda_context):
    with pytest.raises(app.NoImagesFound, match="nothing/"):
        app.lambda_handler({"s3_bucket": bucket, "s3_prefix": "nothing/"}, lambda_context)


def test_missing_bucket_is_named(app, lambda_context):
    with pytest.raises(app.BatchBucketNotFound):
        app.lambda_handler({"s3_bucket": "no-such-bucket", "s3_prefix": ""}, lambda_context)


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"s3_bucket": "b"},
        {"s3_bucket": 3, "s3_prefix": ""},
        {"s3_bucket": "b", "s3_prefix": None},
        {"s3_bucket": "b", "s3_prefix": "", "start_after": 5},
        ["b", "p"],
    ],
)
def test_bad_requests_are_named(app, lambda_context, event):
    with pytest.raises(app.InvalidBatchRequest):
        app.lambda_handler(event, lambda_context)
