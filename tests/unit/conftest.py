"""Fixtures for the handler tests: the events/ files, a Lambda context, and each function
imported as `functions.<name>.app` with the environment template.yaml gives it."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from mlwf.offline.functions import LocalFunction
from mlwf.offline.lambda_runtime import LambdaContext
from mlwf.offline.template import load_template
from mlwf.offline.template_spec import TemplateSpec
from tests.helpers.deploy_guard import switch_config_at_once
from tests.helpers.paths import PROJECT_ROOT
from tests.helpers.sagemaker_stack import moto_clients, stage_fake_dataset, tick_names

MODULES = {
    "SerializeImageDataFunction": "functions.serialize_image_data.app",
    "ClassifyImageFunction": "functions.classify_image.app",
    "FilterInferencesFunction": "functions.filter_inferences.app",
}


@pytest.fixture(scope="session")
def template() -> TemplateSpec:
    return load_template(PROJECT_ROOT / "template.yaml")


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext(
        function_name="test-function",
        function_version="$LATEST",
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:test-function",
        memory_limit_in_mb=128,
        aws_request_id="52fdfc07-2182-454f-963f-5f0f9a621d72",
        log_group_name="/aws/lambda/test-function",
        log_stream_name="2026/11/26/[$LATEST]test",
        deadline_ms=float("inf"),
    )


@pytest.fixture
def load_app(template: TemplateSpec, monkeypatch: pytest.MonkeyPatch) -> Callable[..., ModuleType]:
    """Import a function's module afresh with its template environment (plus overrides)."""

    def load(logical_id: str, **overrides: str | None) -> ModuleType:
        environment = {**template.function(logical_id).environment, **overrides}
        for name, value in environment.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        module = importlib.import_module(MODULES[logical_id])
        return importlib.reload(module)  # module-level config and clients, read anew

    return load


# The staging tests' (test_stage*.py, test_cifar_download.py, test_validation_split.py)
@pytest.fixture
def tarball(tmp_path: Path) -> Path:
    """A CIFAR-100 python tarball with a few images of each class."""
    from tests.helpers.stage_data import write_tarball

    return write_tarball(tmp_path / "cifar-100-python.tar.gz")


@pytest.fixture
def s3(aws: None) -> Any:
    """moto's S3 with the staging tests' bucket."""
    import boto3

    from tests.helpers.stage_data import BUCKET

    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture(params=["forked", "new interpreter"])
def way(request, monkeypatch: pytest.MonkeyPatch) -> str:
    """How the test's environments start: forked by the zygote (Linux), or as new
    interpreters (where fork() without exec is unsafe)."""
    from mlwf.offline import zygote

    if request.param == "new interpreter":
        monkeypatch.setattr(zygote, "available", lambda: False)
    elif not zygote.available():
        pytest.skip("fork() without exec is used on Linux only")
    return str(request.param)


@pytest.fixture
def functions() -> Iterator[list[LocalFunction]]:
    """The LocalFunctions a test makes (tests.helpers.local_functions), closed after it."""
    made: list[LocalFunction] = []
    yield made
    for function in made:
        function.close()


# moto-backed AWS for the workstation commands (stage, train, deploy, teardown); a module
# that needs the clock's names to tick marks itself with usefixtures("ticking_names").
@pytest.fixture
def ticking_names(monkeypatch: pytest.MonkeyPatch) -> None:
    tick_names(monkeypatch)


@pytest.fixture
def clients(aws: None) -> dict[str, Any]:
    return moto_clients()


@pytest.fixture
def staged(clients: dict[str, Any]) -> dict[str, Any]:
    """The fake dataset staged in the bucket, as `mlwf stage` leaves it."""
    stage_fake_dataset(clients["s3"])
    return clients


@pytest.fixture
def update_endpoint_in_moto(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    return switch_config_at_once(monkeypatch)
