"""What Lambda's CreateFunction refuses in a function's configuration, refused offline before
anything runs (mlwf.offline.function_limits), as `sam deploy` would fail."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from mlwf.offline.function_limits import RESERVED_VARIABLES, refusals
from mlwf.offline.template import load_template
from tests.helpers.project import edit_template, load_refusal, project_copy
from training_job.errors import MlwfError


@pytest.mark.parametrize(
    "timeout, memory, problem",
    [
        (0, 128, "Timeout 0 is outside Lambda's 1 to 900 seconds"),
        (901, 128, "Timeout 901 is outside Lambda's 1 to 900 seconds"),
        (3, 127, "MemorySize 127 is outside Lambda's 128 to 10240 MB"),
        (3, 10241, "MemorySize 10241 is outside Lambda's 128 to 10240 MB"),
    ],
)
def test_timeout_and_memory_outside_lambdas_ranges(timeout, memory, problem):
    assert refusals(timeout, memory, {}) == [problem]
    assert refusals(900, 10240, {}) == refusals(1, 128, {}) == []


@pytest.mark.parametrize("name", ["1BAD", "BAD-NAME", "A", "É_NAME"])
def test_a_variable_name_outside_lambdas_pattern(name):
    (problem,) = refusals(3, 128, {name: "x"})
    assert problem == (f"environment variable {name!r}: a name must match [a-zA-Z][a-zA-Z0-9_]+")


@pytest.mark.parametrize("name", ["AWS_REGION", "_HANDLER", "LAMBDA_TASK_ROOT"])
def test_a_reserved_variable_name(name):
    assert refusals(3, 128, {name: "x"}) == [
        f"environment variable {name!r}: Lambda reserves the name"
    ]


def test_variables_over_4_kb_as_json():
    # measured as Lambda measures them: {"A1":"xx...x"} is 9 bytes around the value
    assert refusals(3, 128, {"A1": "x" * 4087}) == []  # 4096 bytes: the limit
    assert refusals(3, 128, {"A1": "x" * 4088}) == [
        "environment variables: 4097 bytes as JSON, over Lambda's 4096"
    ]


def test_the_reserved_names_are_cfn_lints():
    # cfn-lint's rule E3663 holds the same list: keep the two equal
    data = resources.files("cfnlint.data.schemas.extensions.aws_lambda_function")
    schema = json.loads((data / "environment_variable_keys.json").read_text())
    assert list(RESERVED_VARIABLES) == schema["propertyNames"]["not"]["enum"]


def test_the_projects_template_passes_and_an_edit_lambda_refuses_is_refused(tmp_path):
    template = project_copy(tmp_path)
    load_template(template)  # the project as it is: no refusal
    # Given the user raises a function's timeout past Lambda's maximum and sets AWS_REGION
    edit_template(template, "      Timeout: 5\n", "      Timeout: 1000\n")
    edit_template(
        template,
        "          POWERTOOLS_SERVICE_NAME: filter_inferences\n",
        "          POWERTOOLS_SERVICE_NAME: filter_inferences\n          AWS_REGION: eu-west-1\n",
    )
    # Then the offline stack refuses it, naming the function and both reasons
    raised = load_refusal(template)
    assert raised == (
        "template.yaml: Lambda's CreateFunction would refuse FilterInferencesFunction: "
        "Timeout 1000 is outside Lambda's 1 to 900 seconds; FilterInferencesFunction: "
        "environment variable 'AWS_REGION': Lambda reserves the name"
    )


@pytest.mark.parametrize(
    "size, problem",
    [
        (511, "EphemeralStorage Size 511 is outside Lambda's 512 to 10240 MB"),
        (100000, "EphemeralStorage Size 100000 is outside Lambda's 512 to 10240 MB"),
    ],
)
def test_ephemeral_storage_outside_lambdas_range(size, problem):
    assert refusals(3, 128, {}, ephemeral_storage=size) == [problem]
    assert refusals(3, 128, {}, ephemeral_storage=512) == []
    assert refusals(3, 128, {}, ephemeral_storage=10240) == []


def test_a_runtime_lambda_does_not_have_is_refused():
    assert refusals(3, 128, {}, runtime="python3.99") == [
        "Runtime 'python3.99' is not one of Lambda's runtimes"
    ]
    assert refusals(3, 128, {}, runtime="python3.12") == []  # Lambda has it


def test_a_runtime_lambda_has_but_offline_cannot_run_is_refused_in_its_own_words(tmp_path):
    # Given the user moves the filter to python3.12, which Lambda runs and offline does not
    template = project_copy(tmp_path)
    edit_template(template, "      Timeout: 5\n", "      Timeout: 5\n      Runtime: python3.12\n")
    raised = load_refusal(template)
    assert raised == (
        "template.yaml: FilterInferencesFunction: Runtime python3.12: the offline stack runs "
        "python3.13 functions only (this project's runtime)"
    )


def test_a_functions_ephemeral_storage_is_read_from_the_template(tmp_path):
    template = project_copy(tmp_path)
    edit_template(
        template,
        "      Timeout: 5\n",
        "      Timeout: 5\n      EphemeralStorage:\n        Size: 2048\n",
    )
    spec = load_template(template)
    assert spec.functions["FilterInferencesFunction"].ephemeral_storage == 2048
    edit_template(template, "        Size: 2048\n", "        Size: 100000\n")
    with pytest.raises(MlwfError, match="EphemeralStorage Size 100000 is outside"):
        load_template(template)


@pytest.mark.parametrize("given", ["1024", "{Size: lots}"])
def test_an_ephemeral_storage_that_is_no_size_is_refused_in_one_line(tmp_path, given):
    # a number where the object goes, or a Size that is no number: a traceback before
    template = project_copy(tmp_path)
    edit_template(
        template, "      Timeout: 5\n", f"      Timeout: 5\n      EphemeralStorage: {given}\n"
    )
    with pytest.raises(MlwfError, match="EphemeralStorage must be an object whose Size"):
        load_template(template)


def test_a_tracing_mode_lambda_does_not_have_is_refused(tmp_path):
    # Given the user writes Enabled (the state machines' word) for the functions' tracing
    template = project_copy(tmp_path)
    edit_template(template, "    Tracing: Active\n", "    Tracing: Enabled\n")
    with pytest.raises(MlwfError, match="TracingConfig Mode 'Enabled' is not one of Active, "):
        load_template(template)


def test_more_than_five_layers_are_refused(tmp_path):
    template = project_copy(tmp_path)
    more = "".join(
        f"      - arn:aws:lambda:us-east-1:123456789012:layer:extra{i}:1\n" for i in range(5)
    )
    edit_template(template, "    Layers:\n", "    Layers:\n" + more)
    with pytest.raises(MlwfError, match="6 Layers: a function has 5 at most"):
        load_template(template)


@pytest.mark.parametrize("name", ["f" * 65, "has.dot"])
def test_a_function_name_lambda_refuses_is_refused(tmp_path, name):
    template = project_copy(tmp_path)
    edit_template(template, "      Timeout: 5\n", f"      Timeout: 5\n      FunctionName: {name}\n")
    with pytest.raises(MlwfError, match=f"FunctionName '{name}': a name is 1 to 64 letters"):
        load_template(template)
    edit_template(template, f"FunctionName: {name}\n", f"FunctionName: {'f' * 64}\n")
    load_template(template)


def test_reserving_all_but_100_of_the_accounts_concurrency_is_the_most(tmp_path):
    # Lambda keeps 100 of the account's 1,000 unreserved (lambda-concurrency.html)
    template = project_copy(tmp_path)
    spec = load_template(template, parameter_overrides={"ClassifyReservedConcurrency": "900"})
    assert spec.functions["ClassifyImageFunction"].reserved_concurrency == 900
    raised = load_refusal(template, parameter_overrides={"ClassifyReservedConcurrency": "901"})
    assert raised == (
        "template.yaml: Lambda's PutFunctionConcurrency would refuse ClassifyImageFunction "
        "(901 reserved of the account's 1000): Specified ReservedConcurrentExecutions for "
        "function decreases account's UnreservedConcurrentExecution below its minimum value "
        "of [100]."
    )


@pytest.mark.parametrize(
    "properties, problem",
    [
        (
            "      SnapStart:\n        ApplyOn: Always\n",
            "SnapStart ApplyOn 'Always' is not one of PublishedVersions, None",
        ),
        (
            "      AutoPublishAlias: live\n      SnapStart:\n        ApplyOn: PublishedVersions\n"
            "      EphemeralStorage:\n        Size: 2048\n",
            "SnapStart does not support EphemeralStorage over 512 MB (2048)",
        ),
        (
            "      RuntimeManagementConfig:\n        UpdateRuntimeOn: Manual\n",
            "RuntimeManagementConfig UpdateRuntimeOn Manual needs a RuntimeVersionArn",
        ),
        (
            "      RuntimeManagementConfig:\n        UpdateRuntimeOn: Never\n",
            "RuntimeManagementConfig UpdateRuntimeOn 'Never' is not one of Auto, Manual, "
            "FunctionUpdate",
        ),
    ],
)
def test_snap_start_and_runtime_management_are_checked(tmp_path, properties, problem):
    # snapstart.html: no SnapStart with more than 512 MB of /tmp; the enums are Lambda's
    # (botocore's model); Manual updates name the runtime version. Offline took each.
    template = project_copy(tmp_path)
    code = "      CodeUri: functions/filter_inferences/\n"
    edit_template(template, code, code + properties)
    refused = load_refusal(template)
    assert refused == (
        f"template.yaml: Lambda's CreateFunction would refuse FilterInferencesFunction: {problem}"
    )


@pytest.mark.parametrize(
    "properties, problem",
    [
        (
            "      LoggingConfig: text\n",
            "LoggingConfig must be an object (LogFormat, LogGroup, ...)",
        ),
        ("      RuntimeManagementConfig: Auto\n", "RuntimeManagementConfig must be an object"),
    ],
)
def test_a_setting_that_is_not_an_object_is_one_line(tmp_path, properties, problem):
    # Python's AttributeError tracebacks before
    template = project_copy(tmp_path)
    code = "      CodeUri: functions/filter_inferences/\n"
    edit_template(template, code, code + properties)
    refused = load_refusal(template)
    assert "FilterInferencesFunction" in refused
    assert refused.endswith(problem)
