"""A template's Outputs as CloudFormation gives them in DescribeStacks, checked as it checks
them (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/outputs-section-structure.html):
each a string, each logical ID alphanumeric, each export name unique. The offline stack took
an output whose value was a list (and answered Python's repr of it) and two outputs
exporting one name."""

from __future__ import annotations

from typing import Any

from mlwf.offline.intrinsics import Evaluator, IntrinsicError, as_property_string

# CloudFormation's words for a list, as a deploy answered them (aws-toolkit-visual-studio#421)
NOT_A_STRING = (
    "Template format error: The Value field of every Outputs member must evaluate to a String "
    "and not a List."
)


def stack_outputs(outputs: dict[str, Any] | None, evaluator: Evaluator) -> dict[str, str]:
    """Each output whose condition holds, by logical ID; IntrinsicError for one
    CloudFormation refuses."""
    values: dict[str, str] = {}
    exports: dict[str, str] = {}
    for key, output in (outputs or {}).items():
        if not key.isascii() or not key.isalnum():  # "The logical ID must be alphanumeric"
            raise IntrinsicError(f"output {key}: its logical ID must be alphanumeric")
        if not isinstance(output, dict) or "Value" not in output:  # "Value (required)"
            raise IntrinsicError(f"output {key}: an output is an object with a Value")
        condition = output.get("Condition")
        if condition is not None and not evaluator.condition(condition):
            continue
        value = evaluator.evaluate(output["Value"])
        if isinstance(value, (list, dict)):
            raise IntrinsicError(f"{NOT_A_STRING} ({key})")
        values[key] = as_property_string(value)
        if "Export" in output:
            export = output["Export"]
            if not isinstance(export, dict) or "Name" not in export:  # "Name (required)"
                raise IntrinsicError(f"output {key}: an Export is an object with a Name")
            name = as_property_string(evaluator.evaluate(export["Name"]))
            if name in exports:  # "Export names must be unique within a region."
                raise IntrinsicError(
                    f"outputs {exports[name]} and {key} export one name, {name}: export names "
                    "must be unique within a region"
                )
            exports[name] = key
    return values
