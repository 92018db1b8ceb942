"""ClassifyImageFunction: image -> endpoint (named in SSM) -> inferences, or a named error."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from types import ModuleType

import boto3
import pytest

from mlwf.offline.bridge import AwsErrorResponse, Bridge, EndpointModelError
from tests.helpers.events import load_event, sample_png
from tests.helpers.fake_endpoint import FakeEndpoint

ENDPOINT = "image-classification-20261126-1800"


@pytest.fixture
def app(aws: None, load_app) -> ModuleType:
    return load_app("ClassifyImageFunction")


@pytest.fixture
def parameter(app: ModuleType) -> str:
    """The endpoint name published in the SSM parameter the template names."""
    boto3.client("ssm").put_parameter(
        Name=app.ENDPOINT_PARAMETER_NAME, Value=ENDPOINT, Type="String"
    )
    return app.ENDPOINT_PARAMETER_NAME


@pytest.fixture
def endpoint(parameter: str):
    fake = FakeEndpoint()
    with Bridge(endpoints={ENDPOINT: fake}):
        yield fake


def test_adds_inferences_and_drops_the_image(app, endpoint, lambda_context):
    # Given the sample event and an endpoint published in SSM
    event = load_event("classify_image.json")

    # When the handler runs
    state = app.lambda_handler(event, lambda_context)

    # Then the state carries the inferences and the inference id, not the image
    assert state["inferences"] == [0.97, 0.03]
    assert "image_data" not in state
    assert state["s3_key"] == event["s3_key"]
    assert state["inference_id"] == event["inference_id"]
    # And the endpoint got the PNG bytes, as image/png, with the inference id
    (call,) = endpoint.calls
    assert call["body"] == sample_png()
    assert call["content_type"] == "image/png"
    assert call["EndpointName"] == ENDPOINT
    assert call["InferenceId"] == event["inference_id"]
    assert call["Accept"] == "application/json"


def test_jpeg_is_sent_as_image_jpeg(app, endpoint, lambda_context):
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 32
    event = {"s3_key": "a.jpg", "image_data": base64.b64encode(jpeg).decode()}
    app.lambda_handler(event, lambda_context)
    assert endpoint.calls[0]["content_type"] == "image/jpeg"


def test_without_inference_id_the_request_id_is_used(app, endpoint, lambda_context):
    event = {k: v for k, v in load_event("classify_image.json").items() if k != "inference_id"}
    state = app.lambda_handler(event, lambda_context)
    assert state["inference_id"] == lambda_context.aws_request_id
    assert endpoint.calls[0]["InferenceId"] == lambda_context.aws_request_id


def test_long_inference_ids_are_cut_to_sagemakers_limit(app, endpoint, lambda_context):
    event = {**load_event("classify_image.json"), "inference_id": "e" * 80}
    app.lambda_handler(event, lambda_context)
    assert endpoint.calls[0]["InferenceId"] == "e" * 64


@pytest.mark.parametrize(
    "image_data",
    [None, "", 42, ["aGVsbG8="], "not base64!!", "aGVsbG8", base64.b64encode(b"GIF89a").decode()],
)
def test_bad_image_data_is_invalid_input(app, endpoint, lambda_context, image_data):
    event = {"s3_key": "x.png"}
    if image_data is not None:
        event["image_data"] = image_data
    with pytest.raises(app.InvalidClassifyInput):
        app.lambda_handler(event, lambda_context)
    assert endpoint.calls == []


def test_non_object_event_is_invalid_input(app, lambda_context):
    with pytest.raises(app.InvalidClassifyInput):
        app.lambda_handler(["image"], lambda_context)


def test_missing_parameter_is_named(app, lambda_context):
    with Bridge(endpoints={ENDPOINT: FakeEndpoint()}):
        with pytest.raises(app.EndpointParameterNotFound, match="mlwf deploy"):
            app.lambda_handler(load_event("classify_image.json"), lambda_context)


def test_unset_parameter_name_is_named(aws, load_app, lambda_context):
    app = load_app("ClassifyImageFunction", ENDPOINT_PARAMETER_NAME=None)
    with pytest.raises(app.EndpointParameterNotFound, match="ENDPOINT_PARAMETER_NAME"):
        app.lambda_handler(load_event("classify_image.json"), lambda_context)


def test_missing_endpoint_is_named(app, parameter, lambda_context):
    with Bridge():  # no endpoint at all: SageMaker's ValidationError "... not found."
        with pytest.raises(app.EndpointNotFound, match=ENDPOINT):
            app.lambda_handler(load_event("classify_image.json"), lambda_context)


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (EndpointModelError("out of memory"), "EndpointModelError"),
        (AwsErrorResponse("ThrottlingException", "Rate exceeded"), "EndpointUnavailable"),
        (AwsErrorResponse("ServiceUnavailable", "busy", 503), "EndpointUnavailable"),
        (AwsErrorResponse("ModelNotReadyException", "not ready", 429), "EndpointUnavailable"),
        (AwsErrorResponse("InternalFailure", "oops", 500), "EndpointUnavailable"),
        (AwsErrorResponse("AccessDeniedException", "no", 403), "EndpointInvocationFailed"),
    ],
)
def test_endpoint_failures_are_named(app, endpoint, lambda_context, failure, error):
    endpoint.body = failure
    with pytest.raises(app.ClassifyImageError) as raised:
        app.lambda_handler(load_event("classify_image.json"), lambda_context)
    assert type(raised.value).__name__ == error


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b'{"predictions": [0.9, 0.1]}',
        b"[]",
        b"[0.9]",
        b"[0.5, 0.3, 0.2]",
        b'["0.9", "0.1"]',
        b"[true, false]",
        b"[1.5, -0.5]",
        b"[NaN, 0.5]",
        b"[0.9, 0.9]",
        b"null",
    ],
)
def test_responses_that_are_not_two_probabilities_are_invalid(app, endpoint, lambda_context, body):
    endpoint.body = body
    with pytest.raises(app.InvalidInferenceResponse):
        app.lambda_handler(load_event("classify_image.json"), lambda_context)


def test_endpoint_name_is_cached_until_its_ttl(app, parameter, monkeypatch):
    # Given the endpoint name read once
    provider = app.ssm_provider
    assert app.resolve_endpoint_name(provider, parameter, 60) == ENDPOINT

    # When the parameter is switched to a redeployed endpoint
    boto3.client("ssm").put_parameter(
        Name=parameter, Value="image-classification-new", Type="String", Overwrite=True
    )

    # Then warm invocations keep the cached name within the TTL...
    assert app.resolve_endpoint_name(provider, parameter, 60) == ENDPOINT
    # ...and pick up the new one once it has passed
    later = datetime.now() + timedelta(seconds=61)

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):
            return later

    monkeypatch.setattr("aws_lambda_powertools.utilities.parameters.base.datetime", Later)
    assert app.resolve_endpoint_name(provider, parameter, 60) == "image-classification-new"


def test_cache_ttl_comes_from_the_template(app, template):
    environment = template.function("ClassifyImageFunction").environment
    assert app.ENDPOINT_NAME_CACHE_SECONDS == int(environment["ENDPOINT_NAME_CACHE_SECONDS"])


def test_output_state_is_json(app, endpoint, lambda_context):
    state = app.lambda_handler(load_event("classify_image.json"), lambda_context)
    assert json.loads(json.dumps(state)) == state
    assert all(isinstance(p, float) for p in state["inferences"])
