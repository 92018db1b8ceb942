"""CloudFormation's dynamic references (mlwf/offline/dynamic_references.py): the offline
stack passed `{{resolve:ssm:...}}` on as a function's variable; CloudFormation resolves
it at deploy time and fails when the parameter does not exist, as in the empty account
the offline stack starts in."""

from __future__ import annotations

from mlwf.offline.dynamic_references import references, refusal
from tests.helpers.project import edit_template, load_refusal, project_copy


def test_references_are_found_however_nested_and_wherever_in_a_string():
    props = {"A": ["x", {"B": "pre-{{resolve:ssm:/a/b:2}}-post"}], "C": 3}
    assert references(props) == [("ssm", "/a/b:2")]
    assert references({"A": "{{resolve:ssm}}"}) == []  # not one: no body


def test_a_parameter_is_named_without_its_version_in_cloudformations_words():
    words = refusal({"V": "{{resolve:ssm:/image-classification/endpoint-name:3}}"})
    assert words is not None
    assert "Parameters: [ssm:/image-classification/endpoint-name] cannot be found." in words


def test_properties_without_a_reference_are_taken():
    assert refusal({"V": "{resolve:ssm:x}", "W": ["{{ not one }}"]}) is None


def test_a_template_whose_function_reads_a_parameter_at_deploy_time_is_refused(tmp_path):
    # Given the user sets a variable from Parameter Store with a dynamic reference
    template = project_copy(tmp_path)
    edit_template(
        template,
        "          POWERTOOLS_SERVICE_NAME: filter_inferences\n",
        "          POWERTOOLS_SERVICE_NAME: filter_inferences\n"
        "          FROM_SSM: '{{resolve:ssm:/image-classification/endpoint-name}}'\n",
    )
    # Then the offline stack fails as the first deploy would, naming the resource
    raised = load_refusal(template)
    assert raised.startswith(
        "template.yaml (FilterInferencesFunction): CloudFormation would fail the deploy into "
        "a new account: Parameters: [ssm:/image-classification/endpoint-name] cannot be found."
    )


def test_a_public_parameter_is_refused_as_what_offline_cannot_resolve_not_as_aws_would():
    # /aws/service/... exists in every account (the Powertools layer's ARN is published
    # there, aws-powertools/powertools-lambda-python#7689): AWS deploys it
    reference = "{{resolve:ssm:/aws/service/powertools/python/arm64/python3.13/latest}}"
    words = refusal({"Layers": [reference]})
    assert words is not None
    assert "cannot be found" not in words and "CloudFormation would fail" not in words
    assert words.startswith(f"{reference} names one of AWS's public parameters")
