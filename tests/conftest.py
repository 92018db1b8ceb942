"""Fixtures shared by every test: fake credentials, moto, and the shared real data."""

from __future__ import annotations

import atexit
import gc
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import moto  # noqa: F401
import pytest

# Both register botocore handlers that a client copies when it is created: import them
# before any test creates one.
import mlwf.offline.bridge  # noqa: F401
from tests.helpers.paths import REGION, shared_dir

# When the process exits, after pytest's last collection (which reports unraisable
# exceptions), the interpreter collects again, walking every object the run loaded:
# 2-3 s per process, each xdist worker's included, for nothing anyone sees. Frozen,
# they are skipped. Registered at import, this runs after the exit handlers that the
# tests register later (a model server's close, say), which may still need collections.
atexit.register(gc.freeze)


@pytest.fixture(autouse=True, scope="session")
def one_botocore_loader() -> Iterator[None]:
    """Every botocore session in the test process reads the service models through one
    loader, which parses each JSON file once (SageMaker's alone is megabytes), instead of
    one loader per session parsing them anew: a third of a moto test's time otherwise.
    tests/unit/test_botocore_loader.py pins the botocore name this relies on."""
    import botocore.session

    real = botocore.session.create_loader
    loaders: dict[str | None, Any] = {}

    def shared_loader(search_path_string: str | None = None) -> Any:
        if search_path_string not in loaders:
            loaders[search_path_string] = real(search_path_string)
        return loaders[search_path_string]

    patch = pytest.MonkeyPatch()
    patch.setattr(botocore.session, "create_loader", shared_loader)
    yield
    patch.undo()


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


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Trained local models cached for this run only (mlwf.offline.model_cache): never in
    the user's home, and shared by the tests (and the processes they start) that train on
    the same data. Under pytest-xdist, one folder for all the workers of the run (the
    cache writes each file whole, then renames it), so that each model trains once, not
    once per worker."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's own base folder, above each worker's
    folder = base / "model-cache"
    folder.mkdir(exist_ok=True)
    previous = os.environ.get("MLWF_MODEL_CACHE_DIR")
    os.environ["MLWF_MODEL_CACHE_DIR"] = str(folder)
    yield folder
    if previous is None:
        del os.environ["MLWF_MODEL_CACHE_DIR"]
    else:
        os.environ["MLWF_MODEL_CACHE_DIR"] = previous


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
