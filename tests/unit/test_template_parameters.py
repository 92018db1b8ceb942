"""A template's parameters checked as CloudFormation checks them before it creates anything
(parameters-section-structure.html): their names and types, a String's MinLength and
MaxLength, each number of a List<Number>, and a type read from Parameter Store. Each of these
was taken by the offline stack and deployed (found by a user-edit walk)."""

from __future__ import annotations

from mlwf.offline.template import load_template
from tests.helpers.project import edit_template, load_refusal, project_copy

EXTRA = "Parameters:\n  Extra:\n    Type: {kind}\n    Default: {default}\n{more}"


def with_parameter(tmp_path, kind: str, default: str, more: str = "", name: str = "Extra"):
    template = project_copy(tmp_path)
    declaration = EXTRA.format(kind=kind, default=default, more=more).replace("Extra", name)
    edit_template(template, "Parameters:\n", declaration)
    return template


def refusal(template, **overrides: str) -> str:
    return load_refusal(template, parameter_overrides=overrides)


def test_a_strings_length_is_held_to_min_and_max_length(tmp_path):
    template = with_parameter(tmp_path, "String", "batch", "    MinLength: 3\n    MaxLength: 5\n")
    assert load_template(template).parameters["Extra"] == "batch"
    assert refusal(template, Extra="ab") == ("parameter Extra=ab: its length must be within [3, 5]")
    assert refusal(template, Extra="batch-results") == (
        "parameter Extra=batch-results: its length must be within [3, 5]"
    )


def test_each_number_of_a_number_list_is_checked(tmp_path):
    # "AWS CloudFormation validates the parameter value as numbers"
    template = with_parameter(tmp_path, "List<Number>", '"8,48"', "    MaxValue: 99\n")
    assert load_template(template).parameters["Extra"] == "8,48"
    assert refusal(template, Extra="8,x48") == "parameter Extra=8,x48: x48 is not a number"
    assert refusal(template, Extra="8,100") == "parameter Extra=8,100 must be within [None, 99]"


def test_a_type_cloudformation_does_not_have_is_refused(tmp_path):
    template = with_parameter(tmp_path, "Strin", "x")
    assert refusal(template) == (
        "parameter Extra: type Strin is none CloudFormation supports (String, Number, "
        "List<Number>, CommaDelimitedList, or an AWS-specific or SSM parameter type)"
    )
    assert load_template(with_parameter(tmp_path / "b", "AWS::EC2::KeyPair::KeyName", "k"))


def test_a_name_that_is_not_alphanumeric_is_refused(tmp_path):
    # "The logical name must be alphanumeric and unique among all logical names"
    template = with_parameter(tmp_path, "String", "x", name="Model-Label")
    assert refusal(template) == (
        "parameter Model-Label: its name must be alphanumeric (A-Z, a-z, 0-9)"
    )


def test_a_value_from_parameter_store_fails_as_in_a_new_account(tmp_path):
    # offline passed the key's text as the value; CloudFormation reads it from Parameter
    # Store, and fails the deploy where it is missing ("Unable to fetch parameters [...]
    # from parameter store for this account.")
    template = with_parameter(
        tmp_path, "AWS::SSM::Parameter::Value<String>", "/image-classification/model-label"
    )
    assert refusal(template) == (
        "parameter Extra (AWS::SSM::Parameter::Value<String>): CloudFormation would fail the "
        "deploy: Unable to fetch parameters [/image-classification/model-label] from parameter "
        "store for this account (none exists in the new, empty account the offline stack "
        "starts in)"
    )


def test_a_public_parameter_is_what_offline_cannot_resolve(tmp_path):
    # AWS's public parameters exist in every account: the deploy would not fail on AWS
    template = with_parameter(
        tmp_path,
        "AWS::SSM::Parameter::Value<String>",
        "/aws/service/powertools/python/arm64/python3.13/latest",
    )
    assert refusal(template) == (
        "parameter Extra (AWS::SSM::Parameter::Value<String>): "
        "/aws/service/powertools/python/arm64/python3.13/latest is one of AWS's public "
        "parameters, which exist in every account but not in the offline stack's: it cannot "
        "resolve it (docs/offline.md, What it does not model)"
    )


def test_a_bound_that_is_not_a_number_is_one_line(tmp_path):
    # was Python's ValueError traceback
    template = with_parameter(tmp_path, "String", "batch", "    MinLength: abc\n")
    assert refusal(template) == "parameter Extra: MinLength 'abc' is not a number"


def test_each_value_of_a_comma_delimited_list_is_held_to_the_allowed_values(tmp_path):
    # parameters-section-structure.html: "each value in the list must be one of the
    # specified allowed values" (offline compared the whole text, and refused "a,b")
    template = with_parameter(
        tmp_path, "CommaDelimitedList", '"a,b"', "    AllowedValues: [a, b]\n"
    )
    assert load_template(template).parameters["Extra"] == "a,b"
    assert refusal(template, Extra="a,c") == "parameter Extra=a,c: allowed values are ['a', 'b']"
