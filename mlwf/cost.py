"""`mlwf cost`: what classifying N images would cost, line by line, as an estimate.

The figures are mlwf.cost_estimate's (prices from mlwf/prices.json, memory, architectures and
states from template.yaml); this module prints them, and the data file's prices as the
Markdown table README.md and docs/cost.md show.
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import Any

from mlwf.cost_estimate import (
    INVOCATIONS_PER_INSTANCE_MINUTE,
    Line,
    Workload,
    default_hours,
    estimate,
    load_prices,
)
from training_job.argtypes import non_negative_float, positive_int
from training_job.endpoint_requests import DEFAULT_INSTANCE_TYPE
from training_job.errors import MlwfError

NOT_COUNTED = (
    "free tiers (Lambda 1M requests and 400,000 GB-s, Step Functions 4,000 transitions a "
    "month), retries, cold starts, X-Ray traces, CloudWatch Logs, EventBridge, data transfer, "
    "the images' own storage, the dataset, training"
)


# ---------------------------------------------------------------- output


def usd(value: float) -> str:
    return f"${value:,.2f}" if value >= 1 else f"${value:.4f}"


def unit_price(value: float | None) -> str:
    return "tiered" if value is None else f"${value:.10f}".rstrip("0")


def report(workload: Workload, lines: list[Line], prices: dict[str, Any]) -> list[str]:
    kind = (
        "batch workflow (Distributed Map, EXPRESS children)"
        if workload.batch
        else f"{workload.workflow_type} workflow, one execution per image"
    )
    out = [
        f"ESTIMATE, not a quote: {workload.images:,} images, {kind}",
        f"prices: {prices['region']} on-demand, read {prices['read_on']} "
        f"(mlwf/prices.json names each figure's source)",
        "",
        f"  {'item':<44}{'quantity':>16}  {'unit price':>14}  {'cost':>12}",
    ]
    for line in lines:
        quantity = (
            f"{line.quantity:,.0f}"
            if line.quantity >= 100 or not line.quantity % 1
            else f"{line.quantity:.4g}"
        )
        out.append(
            f"  {line.item:<44}{quantity:>16}  {unit_price(line.unit_price):>14}  "
            f"{usd(line.cost):>12}"
        )
        if line.detail:
            out.append(f"      {line.unit}: {line.detail}")
    total = sum(line.cost for line in lines)
    out += [f"  {'total (estimate)':<44}{'':>16}  {'':>14}  {usd(total):>12}", ""]
    notes = (
        "Durations and sizes are assumptions (mlwf/prices.json, 'assumptions'); some prices "
        "were not visible on AWS's own pages (their status there says which). "
        f"Not counted: {NOT_COUNTED}."
    )
    return out + textwrap.wrap(notes, width=92)


def shown_price(usd: float) -> str:
    """A price as people read it: per million when it is a fraction of a cent."""
    if usd < 0.001:
        return f"${usd * 1e6:,.6g} per million"
    return f"${usd:g}"


def price_table(prices: dict[str, Any], *, with_status: bool = False) -> str:
    """The data file's prices as a Markdown table (README and docs/cost.md show it)."""
    columns = ["price", "unit", prices["region"], "source"] + ["status"] * with_status
    rows = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for name, figure in prices["prices"].items():
        if "tiers" in figure:
            shown = ", ".join(
                f"${t['usd_per_gb_hour']:g} "
                + (
                    f"({'next' if i else 'first'} {t['gb_hours']:,})"
                    if t["gb_hours"]
                    else "(beyond)"
                )
                for i, t in enumerate(figure["tiers"])
            )
        elif "instances" in figure:
            shown = ", ".join(f"{k} ${v:g}" for k, v in figure["instances"].items())
        else:
            shown = shown_price(figure["usd"])
        cells = [f"`{name}`", figure["unit"], shown, figure["source"]]
        rows.append("| " + " | ".join(cells + [figure["status"]] * with_status) + " |")
    return "\n".join(rows)


# ---------------------------------------------------------------- command line


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "cost",
        help="estimate what classifying N images costs, line by line",
        description="Estimate the AWS cost of classifying N images: Step Functions, Lambda "
        "(arm64), the endpoint's instance-hours, S3 requests and data capture storage. "
        "Prices from mlwf/prices.json, memory and architectures from template.yaml. An "
        "estimate, not a quote.",
        epilog="Example: mlwf cost --images 1000000 --batch",
    )
    parser.add_argument(
        "--images", type=positive_int, required=True, metavar="N", help="images to classify"
    )
    parser.add_argument(
        "--workflow-type",
        choices=("STANDARD", "EXPRESS"),
        help="the single-image workflow's type (default: the template's WorkflowType)",
    )
    parser.add_argument(
        "--batch",
        action="store_true",
        help="one batch execution (Distributed Map with EXPRESS children) instead",
    )
    parser.add_argument(
        "--instance-type",
        default=DEFAULT_INSTANCE_TYPE,
        help=f"endpoint instance type (default: {DEFAULT_INSTANCE_TYPE}, mlwf deploy's)",
    )
    parser.add_argument(
        "--instance-price",
        type=non_negative_float,
        metavar="USD",
        help="hourly price of --instance-type, when the data file has none",
    )
    parser.add_argument(
        "--instances", type=positive_int, default=1, help="endpoint instances (default: 1)"
    )
    parser.add_argument(
        "--hours",
        type=non_negative_float,
        help="hours the endpoint runs (default: the time N images take at "
        f"{INVOCATIONS_PER_INSTANCE_MINUTE:g} invocations per instance per minute, at least 1)",
    )
    parser.add_argument("--template", type=Path, help="template (default: the project's)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mlwf.offline.template import load_template
    from training_job.stack import PROJECT_ROOT

    if args.batch and args.workflow_type:
        raise MlwfError(
            "--batch and --workflow-type do not combine: the batch's parent is STANDARD and "
            "its children EXPRESS"
        )
    template = load_template(args.template or PROJECT_ROOT / "template.yaml")
    workload = Workload(
        images=args.images,
        workflow_type=args.workflow_type or template.parameters["WorkflowType"],
        batch=args.batch,
        instance_type=args.instance_type,
        instances=args.instances,
        hours=args.hours if args.hours is not None else default_hours(args.images, args.instances),
        instance_price=args.instance_price,
    )
    prices = load_prices()
    for line in report(workload, estimate(workload, template, prices), prices):
        print(line)
    return 0
