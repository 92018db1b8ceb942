"""The offline stack's record in CloudFormation: DescribeStacks answers its outputs and
parameters, and ListStackResources, DescribeStackResource(s) its resources with their
physical IDs, as they answer for a deployed stack: "the name or unique identifier that
corresponds to a physical instance ID of the resource"
(https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackResourceSummary.html),
which is what Ref gives for the types the offline stack creates. `sam logs -n <LogicalId>` and
`mlwf console` find the functions and state machines through them.

The resources exist already (the offline stack made them, under IAM and with its own
runtime), so CloudFormation must not create them again. The stack is created with one
placeholder per resource, and moto's record of each placeholder is then replaced by the
resource's type and physical ID. moto keeps that record in its ResourceMap's
`_parsed_resources`, an internal; tests/unit/test_stack_record.py fails when moto changes it.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest.mock import patch

from mlwf.offline.template_spec import StackResource, TemplateSpec

_PLACEHOLDER = "AWS::CloudFormation::WaitConditionHandle"


@dataclass(frozen=True)
class _Recorded:
    """What moto's CloudFormation responses read of a resource (StackResourceDTO, and
    ListStackResources): these three attributes."""

    logical_resource_id: str
    physical_resource_id: str
    cf_resource_type: str


def register_stack(stack: Any) -> None:
    """A running mlwf.offline.runtime.OfflineStack, recorded in CloudFormation (its moto)."""
    spec: TemplateSpec = stack.spec
    record_stack(
        stack.client("cloudformation"),
        stack_name=spec.stack_name,
        description=f"The offline stack of {spec.path.name}",
        parameters=spec.parameters,
        outputs=spec.outputs,
        resources=spec.resources.values(),
    )


def record_stack(
    cloudformation: Any,
    *,
    stack_name: str,
    parameters: Mapping[str, str],
    outputs: Mapping[str, str],
    resources: Iterable[StackResource],
    description: str = "An offline stack",
) -> None:
    resources = list(resources)
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description,
        "Parameters": {name: {"Type": "String"} for name in parameters},
        # A stack holds at least one resource; one that created nothing keeps a placeholder.
        "Resources": {r.logical_id: {"Type": _PLACEHOLDER} for r in resources}
        or {"OfflineStack": {"Type": _PLACEHOLDER}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    with warnings.catch_warnings():  # moto says it does not model the placeholders: known
        warnings.filterwarnings("ignore", message=f"Tried to parse {_PLACEHOLDER}")
        stack_id = cloudformation.create_stack(
            StackName=stack_name,
            TemplateBody=json.dumps(template),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        )["StackId"]
    parsed = _moto_stack(cloudformation, stack_id).resource_map._parsed_resources
    for resource in resources:
        parsed[resource.logical_id] = _Recorded(
            resource.logical_id, resource.physical_id, resource.resource_type
        )


def _moto_stack(cloudformation: Any, stack_id: str) -> Any:
    from moto.cloudformation.models import cloudformation_backends

    account = stack_id.split(":")[4]
    return cloudformation_backends[account][cloudformation.meta.region_name].get_stack(stack_id)


@contextmanager
def deletes_refused(stack_name: str) -> Iterator[None]:
    """DeleteStack of the running offline stack refused in one line, as `sam delete` sends
    it: the stack's resources live in the `mlwf offline up` process, which moto's
    CloudFormation cannot delete (its placeholders crashed it with an HTTP 500, leaving the
    record gone and the resources there). On AWS `sam delete` deletes the stack and keeps the
    bucket (DeletionPolicy: Retain); offline, stopping `mlwf offline up` deletes it all."""
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.responses import CloudFormationResponse

    delete = CloudFormationResponse.__dict__["delete_stack"]  # KeyError: moto changed

    def delete_stack(response: Any) -> Any:
        name = str(response._get_param("StackName") or "")
        if name == stack_name or f":stack/{stack_name}/" in name:
            raise ValidationError(
                name,
                f"{stack_name} is the offline stack of `mlwf offline up`: stop it with "
                "Ctrl-C (or SIGTERM) to delete it; nothing of it outlives the process",
            )
        return delete(response)

    with patch.object(CloudFormationResponse, "delete_stack", delete_stack):
        yield
