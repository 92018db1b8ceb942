"""Fixtures shared by every test: fake credentials, moto, and the shared real data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import moto  # noqa: F401
import pytest

# Both register botocore handlers that a client copies when it is created: import them
# before any test creates one.
import mlwf.offline.bridge  # noqa: F401
from tests.helpers.paths import REGION, shared_dir


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region, so no test can reach a real account."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)


@pytest.fixture
def aws() -> Iterator[None]:
    """moto's in-process AWS, with Step Functions executing state machines."""
    from moto import mock_aws

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield


@pytest.fixture
def cifar_dir() -> Path:
    return shared_dir("cifar100-bicycle-motorcycle")


@pytest.fixture
def capture_dir() -> Path:
    return shared_dir("sagemaker-data-capture")


os.environ.setdefault("MPLBACKEND", "Agg")
