"""The SageMaker requests `mlwf deploy` sends to create a model and an endpoint config that
captures every request and response for Model Monitor, and the names they fix (instance type,
variant, capture location) that teardown and `mlwf cost` read too."""

from __future__ import annotations

from typing import Any

from training_job.errors import MlwfError
from training_job.stack import CAPTURE_PREFIX

# ml.m5.large (2 vCPU, 8 GiB, about $0.12 an hour): a ResNet-18 on 32x32 images answers in
# milliseconds on a CPU, so a GPU would be money for nothing; the algorithm serves on CPU
# instances, m5 is offered in every region with SageMaker hosting, and its 8 GiB leave
# headroom for the MXNet serving stack (a c5.large saves a cent an hour with half the memory).
DEFAULT_INSTANCE_TYPE = "ml.m5.large"
VARIANT_NAME = "AllTraffic"
CAPTURE_CONTENT_TYPE = "application/json"


def build_model_request(
    name: str, *, image: str, model_data_url: str, role_arn: str
) -> dict[str, Any]:
    return {
        "ModelName": name,
        "PrimaryContainer": {"Image": image, "ModelDataUrl": model_data_url},
        "ExecutionRoleArn": role_arn,
    }


def capture_uri(bucket: str) -> str:
    return f"s3://{bucket}/{CAPTURE_PREFIX}/"


def build_data_capture_config(bucket: str) -> dict[str, Any]:
    """Every request and response, the JSON answers as text, under s3://BUCKET/data_capture/
    (SageMaker adds <endpoint>/<variant>/yyyy/mm/dd/hh/)."""
    return {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": capture_uri(bucket),
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"JsonContentTypes": [CAPTURE_CONTENT_TYPE]},
    }


def build_endpoint_config_request(
    name: str,
    *,
    model_name: str,
    bucket: str,
    instance_type: str = DEFAULT_INSTANCE_TYPE,
    instance_count: int = 1,
) -> dict[str, Any]:
    if instance_count < 1:
        raise MlwfError("--instance-count must be at least 1")
    return {
        "EndpointConfigName": name,
        "ProductionVariants": [
            {
                "VariantName": VARIANT_NAME,
                "ModelName": model_name,
                "InitialInstanceCount": int(instance_count),
                "InstanceType": instance_type,
                "InitialVariantWeight": 1.0,
            }
        ],
        "DataCaptureConfig": build_data_capture_config(bucket),
    }
