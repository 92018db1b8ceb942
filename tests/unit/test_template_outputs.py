"""A template's Outputs checked as CloudFormation checks them (outputs-section-structure.html):
a list for a value, a logical ID that is not alphanumeric and two outputs exporting one
name were all taken by the offline stack, which answered Python's repr of the list in
DescribeStacks (found by a user-edit walk)."""

from __future__ import annotations

import pytest

from mlwf.offline.template import load_template
from mlwf.offline.template_outputs import NOT_A_STRING
from tests.helpers.project import edit_template, load_refusal, project_copy


def refusal_with_outputs(tmp_path, outputs: str) -> str:
    template = project_copy(tmp_path)
    edit_template(template, "Outputs:\n", "Outputs:\n" + outputs)
    return load_refusal(template)


def test_an_output_that_is_a_list_fails_in_cloudformations_words(tmp_path):
    outputs = "  Parts:\n    Value: !Split [':', !GetAtt ImagesBucket.Arn]\n"
    assert refusal_with_outputs(tmp_path, outputs) == f"template.yaml: {NOT_A_STRING} (Parts)"


def test_an_output_id_must_be_alphanumeric(tmp_path):
    outputs = "  Bucket-Name:\n    Value: !Ref ImagesBucket\n"
    assert refusal_with_outputs(tmp_path, outputs) == (
        "template.yaml: output Bucket-Name: its logical ID must be alphanumeric"
    )


def test_two_outputs_may_not_export_one_name(tmp_path):
    # "Export names must be unique within a region."
    outputs = (
        "  First:\n    Value: !Ref ImagesBucket\n    Export: {Name: images-bucket}\n"
        "  Second:\n    Value: !GetAtt ImagesBucket.Arn\n    Export: {Name: images-bucket}\n"
    )
    assert refusal_with_outputs(tmp_path, outputs) == (
        "template.yaml: outputs First and Second export one name, images-bucket: export names "
        "must be unique within a region"
    )


def test_the_projects_outputs_are_strings(tmp_path):
    outputs = load_template(project_copy(tmp_path)).outputs
    assert outputs and all(isinstance(value, str) for value in outputs.values())


@pytest.mark.parametrize(
    "outputs, message",
    [
        ("  Bare: just-text\n", "output Bare: an output is an object with a Value"),
        ("  NoValue:\n    Description: x\n", "output NoValue: an output is an object with a Value"),
        (
            "  Exported:\n    Value: x\n    Export: images\n",
            "output Exported: an Export is an object with a Name",
        ),
        (
            "  Exported:\n    Value: x\n    Export: {}\n",
            "output Exported: an Export is an object with a Name",
        ),
    ],
)
def test_a_malformed_output_is_one_line(tmp_path, outputs, message):
    # Python's KeyError or AttributeError tracebacks before ("Value" and an Export's "Name"
    # are required: outputs-section-structure.html)
    assert refusal_with_outputs(tmp_path, outputs) == f"template.yaml: {message}"
