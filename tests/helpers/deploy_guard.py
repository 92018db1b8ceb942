"""What the deploy and rollout tests share: clients wrapped in a guard that checks, after every
single call, that the SSM parameter never names an endpoint that is missing or not InService;
an UpdateEndpoint for moto that switches the config at once (or rolls back on request); and
the training job artifact the deploys point at."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.sagemaker_stack import BUCKET, PARAMETER


def artifact(job: str) -> str:
    return f"s3://{BUCKET}/models/{job}/output/model.tar.gz"


class Guarded:
    """Passes every call to the real client, then checks the invariant: the SSM parameter is
    absent or names an InService endpoint. `describe_endpoint` can be overridden."""

    def __init__(self, client: Any, sm: Any, ssm: Any, describe_endpoint: Any = None) -> None:
        self._client, self._sm, self._ssm = client, sm, ssm
        self._describe_endpoint = describe_endpoint
        self.calls: list[str] = []

    def __getattr__(self, attr: str) -> Any:
        if attr == "describe_endpoint" and self._describe_endpoint is not None:
            target = self._describe_endpoint
        else:
            target = getattr(self._client, attr)
        if not callable(target) or attr == "get_paginator":
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return target(*args, **kwargs)
            finally:
                self.calls.append(attr)
                check_parameter(self._sm, self._ssm, after=attr)

        return call


def check_parameter(sm: Any, ssm: Any, after: str = "") -> str | None:
    try:
        value = ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None
    status = sm.describe_endpoint(EndpointName=value)["EndpointStatus"]  # raises when missing
    assert status == "InService", f"after {after}: parameter names {value} ({status})"
    return str(value)


def guarded(clients: dict[str, Any], describe_endpoint: Any = None) -> tuple[Guarded, Guarded]:
    sm, ssm = clients["sm"], clients["ssm"]
    return (
        Guarded(sm, sm, ssm, describe_endpoint=describe_endpoint),
        Guarded(ssm, sm, ssm),
    )


def switch_config_at_once(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Give moto the UpdateEndpoint it lacks: switch the endpoint to the new config at once,
    or, with behaviour["fail"] set, roll back like SageMaker (old config, FailureReason)."""
    from moto.core.responses import ActionResult
    from moto.sagemaker.responses import SageMakerResponse

    behaviour: dict[str, Any] = {"fail": None, "calls": []}

    def update_endpoint(self: Any) -> ActionResult:
        backend = self.sagemaker_backend
        endpoint = backend.endpoints[self._get_param("EndpointName")]
        config_name = self._get_param("EndpointConfigName")
        config = backend.describe_endpoint_config(config_name)
        behaviour["calls"].append((endpoint.endpoint_name, config_name))
        if behaviour["fail"]:
            endpoint.failure_reason = behaviour["fail"]
        else:
            endpoint.endpoint_config_name = config_name
            endpoint.production_variants = endpoint._process_production_variants(
                config["ProductionVariants"]
            )
            endpoint.data_capture_config = config["DataCaptureConfig"]
        return ActionResult({"EndpointArn": endpoint.arn})

    monkeypatch.setattr(SageMakerResponse, "update_endpoint", update_endpoint, raising=False)
    return behaviour
