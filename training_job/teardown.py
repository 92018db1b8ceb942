"""`mlwf teardown`: stop paying for the endpoint. Deletes the endpoint the SSM parameter names
(or --endpoint-name), its endpoint config and its model, then the parameter itself. Never
touches S3 (dataset, model artifacts, captured data), training jobs or the stack.

The parameter is deleted rather than set to a placeholder: the classify function then fails
with EndpointParameterNotFound ("run mlwf deploy") instead of invoking a deleted endpoint or
a made-up name, and a later `mlwf deploy` creates it again. The stack does not own the
parameter (template.yaml only names it), so deleting it causes no drift.

Auto scaling first: SageMaker's DeleteEndpoint deregisters a scaled variant itself when the
caller may, but mlwf deletes its own policy and deregisters the target it registered
explicitly, so nothing is left behind for a caller without that permission; a target with
policies mlwf did not put is left alone and named.
https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-delete-with-scaling.html

Order: auto scaling, endpoint, config, model(s), parameter last. The endpoint is what costs
money; if the command is interrupted half-way, the parameter still names the endpoint and
running teardown again finishes the job. Running it when everything is gone says so and
exits 0.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import Any

from training_job import sagemaker_io, scaling
from training_job.endpoint_requests import VARIANT_NAME
from training_job.errors import MlwfError
from training_job.sagemaker_io import (
    Echo,
    EndpointResources,
    delete_endpoint_resources,
    describe_endpoint_resources,
    get_parameter_value,
)
from training_job.stack import CAPTURE_PREFIX, DEFAULT_DATA_PREFIX, MODELS_PREFIX, add_stack_options


@dataclass
class TeardownPlan:
    parameter_name: str | None
    parameter_value: str | None  # None: the parameter does not exist (or no name was given)
    endpoint: EndpointResources | None  # what will be deleted; None: no endpoint named
    delete_parameter: bool
    notes: list[str] = field(default_factory=list)
    autoscaling: scaling.CurrentScaling | None = None  # of the endpoint to delete

    @property
    def empty(self) -> bool:
        endpoint = self.endpoint
        has_endpoint = endpoint is not None and (
            (endpoint.exists and endpoint.status != "Deleting")
            or endpoint.config_exists
            or bool(endpoint.model_names)
        )
        return not has_endpoint and not self.delete_parameter

    def lines(self) -> list[str]:
        lines = []
        endpoint = self.endpoint
        if self.autoscaling is not None and self.autoscaling.ours:
            lines.append(f"  scaling policy   {scaling.POLICY_NAME}")
            if not self.autoscaling.foreign_policies:
                lines.append(f"  scalable target  {self.autoscaling.resource_id}")
        if endpoint is not None:
            if endpoint.exists:
                lines.append(f"  endpoint         {endpoint.endpoint_name} ({endpoint.status})")
            else:
                lines.append(f"  endpoint         {endpoint.endpoint_name} (already gone)")
            if endpoint.config_exists:
                lines.append(f"  endpoint config  {endpoint.config_name}")
            for model in endpoint.model_names:
                lines.append(f"  model            {model}")
        if self.delete_parameter:
            lines.append(f"  SSM parameter    {self.parameter_name} (= {self.parameter_value})")
        return lines


@dataclass
class TeardownReport:
    deleted: list[str] = field(default_factory=list)
    parameter: str = ""  # what happened to the parameter, in words
    notes: list[str] = field(default_factory=list)

    @property
    def nothing_deleted(self) -> bool:
        return not self.deleted


def plan_teardown(
    sm: Any,
    ssm: Any | None,
    *,
    parameter_name: str | None,
    endpoint_name: str | None = None,
    aas: Any | None = None,
) -> TeardownPlan:
    """What teardown would delete: the endpoint `endpoint_name`, else the one the parameter
    names, with the auto scaling mlwf registered for it; the parameter when it names that
    endpoint or a missing one."""
    value = get_parameter_value(ssm, parameter_name) if ssm is not None and parameter_name else None
    notes: list[str] = []
    target = endpoint_name or value
    endpoint = describe_endpoint_resources(sm, target) if target else None
    if endpoint is not None and endpoint.status == "Deleting":
        notes.append(f"endpoint {endpoint.endpoint_name} is already being deleted")
    # The parameter goes when it names what is deleted here, or an endpoint that is gone:
    # either way the classify function could only fail on it.
    delete_parameter = value is not None and (
        value == target or not describe_endpoint_resources(sm, value).exists
    )
    if value is not None and not delete_parameter:
        notes.append(f"parameter {parameter_name} names endpoint {value}, which stays")
    current_scaling = None
    if aas is not None and endpoint is not None and endpoint.exists:
        current_scaling = scaling.read(aas, endpoint.endpoint_name, VARIANT_NAME, notes)
        notes += [
            f"mlwf left alone {item}; SageMaker deregisters it with the endpoint when you may "
            "(endpoint-delete-with-scaling.html)"
            for item in scaling.left_alone(current_scaling)
        ]
    return TeardownPlan(parameter_name, value, endpoint, delete_parameter, notes, current_scaling)


def teardown(
    sm: Any,
    ssm: Any | None,
    *,
    parameter_name: str | None = None,
    endpoint_name: str | None = None,
    aas: Any | None = None,
    plan: TeardownPlan | None = None,
    echo: Echo = print,
) -> TeardownReport:
    """Delete what `plan` (default: plan_teardown(...)) lists; idempotent."""
    if plan is None:
        plan = plan_teardown(
            sm, ssm, parameter_name=parameter_name, endpoint_name=endpoint_name, aas=aas
        )
    report = TeardownReport(notes=list(plan.notes))
    if plan.autoscaling is not None and aas is not None:
        for item in scaling.remove_ours(aas, plan.autoscaling):
            echo(f"  deleted {item}")
            report.deleted.append(item)
    if plan.endpoint is not None:
        for item in delete_endpoint_resources(sm, plan.endpoint):
            echo(f"  deleted {item}")
            report.deleted.append(item)
        if not plan.endpoint.exists:
            report.notes.append(f"endpoint {plan.endpoint.endpoint_name} did not exist")
    if plan.delete_parameter and ssm is not None and plan.parameter_name:
        if delete_parameter(ssm, plan.parameter_name):
            echo(f"  deleted SSM parameter {plan.parameter_name}")
            report.deleted.append(f"SSM parameter {plan.parameter_name}")
        report.parameter = (
            f"deleted {plan.parameter_name} (it named {plan.parameter_value}); the classify "
            "function now fails with EndpointParameterNotFound until `mlwf deploy` writes it"
        )
    elif plan.parameter_name is None:
        report.parameter = "not touched (no parameter name given or found in the stack)"
    elif plan.parameter_value is None:
        report.parameter = f"{plan.parameter_name} does not exist (nothing to do)"
    else:
        report.parameter = (
            f"kept {plan.parameter_name}: it names endpoint {plan.parameter_value}, "
            "which was not deleted"
        )
    return report


def delete_parameter(ssm: Any, name: str) -> bool:
    """DeleteParameter; False when it was already gone."""
    from botocore.exceptions import ClientError

    try:
        ssm.delete_parameter(Name=name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return False
        raise
    return True


# ---------------------------------------------------------------- command line


def confirm(question: str) -> bool:
    """Ask on the terminal; tests replace this function."""
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "teardown",
        help="delete the endpoint, its config and model (S3 data stays)",
        description="Delete the SageMaker endpoint the SSM parameter names (or "
        "--endpoint-name), its endpoint config and model, and then the parameter, so the "
        "classify function fails with EndpointParameterNotFound instead of calling a deleted "
        "endpoint. The dataset, model artifacts and captured data in S3, the training jobs "
        "and the stack stay. Running it again when everything is gone does nothing.",
        epilog="Asks for confirmation on a terminal; pass --yes to skip the question (needed "
        "when stdin is not a terminal, e.g. in CI). `mlwf deploy` brings the endpoint back.",
    )
    parser.add_argument(
        "--endpoint-name",
        metavar="NAME",
        help="endpoint to delete (default: the one the SSM parameter names); the parameter "
        "is deleted too only if it names this endpoint",
    )
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    add_stack_options(parser, "bucket", "parameter_name")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.endpoint_name:  # the parameter is optional then: used when the stack names it
        settings = sagemaker_io.resolve_settings(args, (), ("parameter_name", "bucket"))
    else:
        settings = sagemaker_io.resolve_settings(args, ("parameter_name",), ("bucket",))
    session, region = sagemaker_io.session_and_region(settings)
    sm, ssm = session.client("sagemaker"), session.client("ssm")
    aas = session.client("application-autoscaling")
    plan = plan_teardown(
        sm, ssm, parameter_name=settings.parameter_name, endpoint_name=args.endpoint_name, aas=aas
    )
    if plan.empty:
        if args.endpoint_name:
            why = f"endpoint {args.endpoint_name} does not exist"
        elif plan.parameter_value is None:
            why = f"parameter {settings.parameter_name} does not exist, so nothing is deployed"
        else:
            why = f"endpoint {plan.parameter_value}, named by the parameter, does not exist"
        print(f"Nothing to delete in {region}: {why}.")
        for note in plan.notes:
            print(f"  note: {note}")
        return 0
    print(f"To delete in {region}:")
    for line in plan.lines():
        print(line)
    if not args.yes:
        if not sys.stdin.isatty():
            raise MlwfError("stdin is not a terminal: pass --yes to delete without a question")
        if not confirm("Delete these?"):
            raise MlwfError("cancelled; nothing was deleted")
    report = teardown(sm, ssm, aas=aas, plan=plan, echo=lambda _: None)
    print()
    print(f"Teardown done in {region}")
    parameter_item = f"SSM parameter {plan.parameter_name}"
    for item in report.deleted:
        if item != parameter_item:
            print(f"  deleted    {item}")
    print(f"  parameter  {report.parameter}")
    for note in report.notes:
        print(f"  note       {note}")
    data = (
        f"s3://{settings.bucket}/{{{DEFAULT_DATA_PREFIX},{MODELS_PREFIX},{CAPTURE_PREFIX}}}/"
        if settings.bucket
        else "the bucket"
    )
    print(f"  kept       S3 data ({data}), the training jobs, the stack")
    stack = f" {settings.stack_name}" if settings.stack_name else ""
    print(
        f"Deleting the stack{stack} (`sam delete`) would keep the bucket too "
        "(DeletionPolicy Retain); `mlwf deploy` brings the endpoint back."
    )
    return 0
