"""SAM's AutoPublishAlias offline: the version and alias resolve as CloudFormation returns
them, and Invoke runs a qualifier the function has and refuses one it has not
(mlwf.offline.lambda_versions). Offline refused the template at start."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from mlwf.offline.runtime import OfflineStack
from mlwf.offline.template import load_template
from tests.helpers.events import load_event
from tests.helpers.project import edit_template, project_copy

pytestmark = pytest.mark.offline


def aliased(tmp_path: Path) -> Path:
    # Given the user publishes the filter with an alias, and the workflow calls the alias
    template = project_copy(tmp_path)
    edit_template(
        template,
        "      CodeUri: functions/filter_inferences/\n",
        "      CodeUri: functions/filter_inferences/\n      AutoPublishAlias: live\n",
    )
    text = template.read_text()
    old = "        FilterInferencesFunctionArn: !GetAtt FilterInferencesFunction.Arn\n"
    assert text.count(old) == 2  # both state machines
    template.write_text(
        text.replace(
            old, "        FilterInferencesFunctionArn: !Ref FilterInferencesFunction.Alias\n"
        )
    )
    return template


def test_the_alias_resolves_as_cloudformation_returns_it(tmp_path):
    spec = load_template(aliased(tmp_path))
    machine = spec.state_machines["ImageClassificationStateMachine"]
    name = spec.functions["FilterInferencesFunction"].name
    assert machine.substitutions["FilterInferencesFunctionArn"].endswith(f":function:{name}:live")
    assert spec.function_qualifiers[name] == {"$LATEST": "$LATEST", "1": "1", "live": "1"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[OfflineStack]:
    template = aliased(tmp_path_factory.mktemp("aliased"))
    with OfflineStack.start(template, say=lambda _: None) as stack:
        yield stack


def invoke(stack: OfflineStack, **qualified: str) -> dict:
    name = stack.spec.functions["FilterInferencesFunction"].name
    payload = json.dumps(load_event("filter_inferences_pass.json"))
    return stack.client("lambda").invoke(FunctionName=name, Payload=payload, **qualified)


@pytest.mark.parametrize(
    "qualifier, version", [("live", "1"), ("1", "1"), ("$LATEST", "$LATEST"), (None, "$LATEST")]
)
def test_a_qualifier_the_function_has_runs_that_version(stack, qualifier, version):
    answer = invoke(stack, **({"Qualifier": qualifier} if qualifier else {}))
    assert (answer["StatusCode"], answer["ExecutedVersion"]) == (200, version)


def test_a_qualifier_the_function_has_not_is_not_found(stack):
    # offline ran $LATEST for any qualifier
    name = stack.spec.functions["FilterInferencesFunction"].name
    with pytest.raises(ClientError) as missing:
        invoke(stack, Qualifier="7")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert missing.value.response["Error"]["Message"] == (
        f"Function not found: arn:aws:lambda:us-east-1:123456789012:function:{name}:7"
    )


def test_a_function_without_versions_runs_only_latest(stack):
    name = stack.spec.functions["SerializeImageDataFunction"].name
    with pytest.raises(ClientError) as missing:
        stack.client("lambda").invoke(FunctionName=name, Qualifier="2", Payload=b"{}")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_qualifier_unlike_the_one_in_the_name_is_refused(stack):
    # Lambda's "The derived qualifier from the function name does not match the specified
    # qualifier." (quoted in the EventBridge Scheduler troubleshooting page); offline ran
    # the one in the name
    name = stack.spec.functions["FilterInferencesFunction"].name
    payload = json.dumps(load_event("filter_inferences_pass.json"))
    lam = stack.client("lambda")
    with pytest.raises(ClientError) as refused:
        lam.invoke(FunctionName=f"{name}:$LATEST", Qualifier="1", Payload=payload)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert refused.value.response["Error"]["Message"] == (
        "The derived qualifier from the function name does not match the specified qualifier."
    )
    same = lam.invoke(FunctionName=f"{name}:live", Qualifier="live", Payload=payload)
    assert same["ExecutedVersion"] == "1"
