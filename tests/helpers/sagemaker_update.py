"""UpdateEndpoint for the tests that run on plain moto: the offline stack's model of it
(mlwf.offline.sagemaker_update), with a `behaviour` dict to record calls and fail updates."""

from __future__ import annotations

from typing import Any

import pytest

from mlwf.offline.sagemaker_update import make_update_endpoint


def patch_update_endpoint(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    from moto.sagemaker.responses import SageMakerResponse

    behaviour: dict[str, Any] = {"fail": None, "calls": []}
    update = make_update_endpoint(behaviour)
    monkeypatch.setattr(SageMakerResponse, "update_endpoint", update, raising=False)
    return behaviour
