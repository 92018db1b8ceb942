"""A function imports what it could import in Lambda and nothing more
(mlwf.offline.function_imports, enforced in mlwf.offline.lambda_runtime): the standard
library, the runtime's SDK, its layers' packages, its own folder and its requirements.txt.
Anything else fails its init as Lambda fails it. Both ways an environment starts."""

from __future__ import annotations

import json

import pytest

from mlwf.offline.function_imports import importable
from tests.helpers.local_functions import (
    failure,
    invoke,
    make_function,
    project_function,
    project_layers,
)
from tests.helpers.paths import PROJECT_ROOT

IMPORTS_NUMPY = "import numpy\n\n\ndef handler(event, context):\n    return numpy.__name__\n"


def test_the_runtime_offers_the_sdk_and_the_powertools_layer_its_packages(tmp_path):
    runtime = importable(tmp_path, [])
    assert runtime is not None
    assert {"boto3", "botocore", "s3transfer", "jmespath", "dateutil"} <= set(runtime)
    assert "numpy" not in runtime and "aws_lambda_powertools" not in runtime
    layered = importable(tmp_path, project_layers())
    assert layered is not None
    assert {"aws_lambda_powertools", "aws_xray_sdk", "boto3"} <= set(layered)
    # a layer nobody here can read: no boundary
    assert importable(tmp_path, ["arn:aws:lambda:us-east-1:123456789012:layer:mine:1"]) is None


def test_an_import_lambda_would_not_have_fails_the_init_as_lambda_fails_it(
    tmp_path, functions, way
):
    function = make_function(tmp_path, "Numpy", source=IMPORTS_NUMPY)
    functions.append(function)

    refused = failure(function, {})

    assert refused["errorType"] == "Runtime.ImportModuleError"
    assert refused["errorMessage"] == "Unable to import module 'app': No module named 'numpy'"


def test_a_requirement_of_its_own_or_a_module_of_its_folder_is_imported(tmp_path, functions, way):
    # sam build installs requirements.txt into the package: here, what the venv has
    listed = make_function(tmp_path, "Listed", source=IMPORTS_NUMPY)
    (listed.spec.code_uri / "requirements.txt").write_text("numpy>=1  # arrays\n")
    functions.append(listed)
    listed.importable = importable(listed.spec.code_uri, listed.spec.layers)
    assert invoke(listed, {}) == "numpy"

    helper = "from helpers import answer\n\n\ndef handler(event, context):\n    return answer\n"
    own = make_function(tmp_path, "Own", source=helper)
    (own.spec.code_uri / "helpers.py").write_text("answer = 42\n")
    functions.append(own)
    assert invoke(own, {}) == 42


@pytest.mark.parametrize(
    "source, missing",
    [
        # the offline runtime's own package, imported before the handler: forgotten
        ("import mlwf\n\n\ndef handler(event, context):\n    return 1\n", "mlwf"),
        # an import inside the handler: the invocation fails, not the init
        (
            "def handler(event, context):\n    import sklearn\n    return 1\n",
            "sklearn",
        ),
    ],
)
def test_what_the_environment_imported_itself_or_a_late_import_is_refused_too(
    tmp_path, functions, way, source, missing
):
    function = make_function(tmp_path, "Late", source=source)
    functions.append(function)
    error = failure(function, {})
    assert error["errorMessage"].endswith(f"No module named '{missing}'")


def test_with_a_layer_of_unknown_contents_nothing_is_refused(tmp_path, functions, way):
    mine = ("arn:aws:lambda:us-east-1:123456789012:layer:mine:1",)
    function = make_function(tmp_path, "Unbounded", source=IMPORTS_NUMPY, layers=mine)
    functions.append(function)
    assert invoke(function, {}) == "numpy"


def test_the_projects_handler_without_its_layer_fails_with_its_named_error(functions):
    # template.yaml: "A function without it fails every invocation with
    # PowertoolsLayerMissing". Offline, Powertools was importable from the venv anyway.
    event = json.loads((PROJECT_ROOT / "events" / "filter_inferences_pass.json").read_text())
    bare = project_function("FilterInferencesFunction", layers=())
    layered = project_function("FilterInferencesFunction")
    functions += [bare, layered]

    assert failure(bare, event)["errorType"] == "PowertoolsLayerMissing"
    assert invoke(layered, event) == event  # above its threshold: passed on as it came
