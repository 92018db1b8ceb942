"""SerializeImageDataFunction: S3 object -> base64 in the state, or a named error."""

from __future__ import annotations

import base64
import json
from types import ModuleType

import boto3
import pytest
from botocore.stub import Stubber

from tests.helpers.events import load_event, sample_png

JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def app(aws: None, load_app) -> ModuleType:
    return load_app("SerializeImageDataFunction")


@pytest.fixture
def bucket(aws: None) -> str:
    """The bucket events/serialize_image_data.json names, holding its image."""
    event = load_event("serialize_image_data.json")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=event["s3_bucket"])
    s3.put_object(Bucket=event["s3_bucket"], Key=event["s3_key"], Body=sample_png())
    return event["s3_bucket"]


def put(bucket: str, key: str, body: bytes) -> dict[str, str]:
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
    return {"s3_bucket": bucket, "s3_key": key}


def test_adds_the_base64_of_the_object_and_keeps_the_rest(app, bucket, lambda_context):
    # Given the sample event, whose object is a PNG in the bucket
    event = load_event("serialize_image_data.json")

    # When the handler runs
    state = app.lambda_handler(event, lambda_context)

    # Then the state gains the object's base64 text, JSON-serialisable, input kept
    assert base64.b64decode(state["image_data"]) == sample_png()
    assert {k: state[k] for k in event} == event
    assert json.loads(json.dumps(state)) == state


def test_accepts_jpeg(app, bucket, lambda_context):
    state = app.lambda_handler(put(bucket, "incoming/photo.jpg", JPEG_BYTES), lambda_context)
    assert base64.b64decode(state["image_data"]) == JPEG_BYTES


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"s3_key": "incoming/bicycle.png"},
        {"s3_bucket": "my-images-bucket"},
        {"s3_bucket": 7, "s3_key": "incoming/bicycle.png"},
        {"s3_bucket": "my-images-bucket", "s3_key": ["incoming/bicycle.png"]},
        {"s3_bucket": "my-images-bucket", "s3_key": ""},
        {"s3_bucket": "   ", "s3_key": "incoming/bicycle.png"},
        {"s3_bucket": None, "s3_key": None},
        ["my-images-bucket", "incoming/bicycle.png"],
        "incoming/bicycle.png",
    ],
)
def test_rejects_requests_without_bucket_and_key_strings(app, lambda_context, event):
    with pytest.raises(app.InvalidImageRequest):
        app.lambda_handler(event, lambda_context)


def test_missing_object_is_image_not_found(app, bucket, lambda_context):
    event = {"s3_bucket": bucket, "s3_key": "incoming/nothing-here.png"}
    with pytest.raises(app.ImageNotFound, match="incoming/nothing-here.png"):
        app.lambda_handler(event, lambda_context)


def test_missing_bucket_is_image_not_found(app, aws, lambda_context):
    event = {"s3_bucket": "no-such-bucket-here", "s3_key": "incoming/bicycle.png"}
    with pytest.raises(app.ImageNotFound, match="no-such-bucket-here"):
        app.lambda_handler(event, lambda_context)


def test_access_denied_is_named(app):
    # S3 answers 403 for objects outside the function's policy (another bucket).
    client = boto3.client("s3")
    with Stubber(client) as stubber:
        stubber.add_client_error("get_object", "AccessDenied", "Access Denied", 403)
        with pytest.raises(app.ImageAccessDenied, match="s3://other-bucket/x.png"):
            app.read_image(client, "other-bucket", "x.png")


def test_empty_object_is_empty_image(app, bucket, lambda_context):
    with pytest.raises(app.EmptyImage):
        app.lambda_handler(put(bucket, "incoming/empty.png", b""), lambda_context)


@pytest.mark.parametrize(
    "body",
    [b"hello, world", b"GIF89a" + b"\x00" * 20, b"\x89PNG", b"%PDF-1.7", b"\x00" * 100],
)
def test_non_images_are_unsupported(app, bucket, lambda_context, body):
    with pytest.raises(app.UnsupportedImageFormat):
        app.lambda_handler(put(bucket, "incoming/not-an-image.png", body), lambda_context)


def test_largest_accepted_image_keeps_the_state_under_the_limit(app, bucket, lambda_context):
    # Given the largest image the serializer accepts
    body = b"\x89PNG\r\n\x1a\n" + b"\x00" * (app.MAX_IMAGE_BYTES - 8)
    event = put(bucket, "incoming/largest.png", body)

    # When it is serialized, and the classify task's parameters are added to the state
    state = app.lambda_handler(event, lambda_context)
    state["inference_id"] = "x" * 80

    # Then the state still fits in Step Functions' 256 KiB
    assert len(json.dumps(state).encode()) < app.STATE_LIMIT_BYTES


def test_image_too_large_for_the_state_fails_before_reading_it(app, bucket, lambda_context):
    body = b"\x89PNG\r\n\x1a\n" + b"\x00" * (app.MAX_IMAGE_BYTES - 7)
    with pytest.raises(app.ImageTooLarge, match=str(app.MAX_IMAGE_BYTES)):
        app.lambda_handler(put(bucket, "incoming/huge.png", body), lambda_context)


def test_errors_are_the_functions_own(app):
    names = [
        "InvalidImageRequest",
        "ImageNotFound",
        "ImageAccessDenied",
        "EmptyImage",
        "UnsupportedImageFormat",
        "ImageTooLarge",
    ]
    for name in names:
        assert issubclass(getattr(app, name), app.SerializeImageDataError)
    assert not issubclass(app.SerializeImageDataError, KeyError | TypeError | ValueError)
