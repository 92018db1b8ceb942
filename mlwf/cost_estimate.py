"""What classifying N images would cost, line by line, as an estimate (`mlwf cost` prints it).

Every price comes from mlwf/prices.json (region, date, source page and status of each
figure); every function's memory and architecture, and the states an execution walks, from
template.yaml and the state machine definition through the offline template reader, so the
estimate follows the template. Durations and sizes are the data file's stated assumptions.

How AWS bills what the workflow does (https://aws.amazon.com/step-functions/pricing/):
- a STANDARD execution: one state transition per state it enters;
- an EXPRESS execution: one request, and its duration rounded up to 100 ms times its memory
  in 64 MB chunks, in GB-hours tiered per month;
- a Distributed Map (the batch): one state transition for each child workflow execution it
  starts (no transition per iteration of an INLINE Map); its EXPRESS children are then billed
  as Express executions; the ItemReader lists the bucket, the ResultWriter PUTs. Read in the
  Korean and Japanese copies of the page, the ones the project's search corpus holds:
  https://docs.aws.amazon.com/step-functions/latest/dg/concepts-transitions.html
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training_job.errors import MlwfError
from training_job.scaling import DEFAULT_TARGET_INVOCATIONS

PRICES_FILE = Path(__file__).with_name("prices.json")
STATE_MACHINE = "ImageClassificationStateMachine"
# Invocations one instance takes a minute: the auto scaling default target.
INVOCATIONS_PER_INSTANCE_MINUTE = DEFAULT_TARGET_INVOCATIONS


@dataclass(frozen=True)
class Line:
    item: str
    quantity: float
    unit: str
    unit_price: float | None  # None: tiered, see detail
    cost: float
    detail: str = ""


@dataclass(frozen=True)
class Workload:
    images: int
    workflow_type: str  # of the single-image workflow; batch children are EXPRESS
    batch: bool
    instance_type: str
    instances: int
    hours: float
    instance_price: float | None = None  # overrides the data file's


def load_prices(path: Path = PRICES_FILE) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text())
    return data


# ---------------------------------------------------------------- what an image runs


@dataclass(frozen=True)
class Step:
    state: str
    function: str  # logical id
    memory_mb: int
    architectures: tuple[str, ...]


def workflow_steps(template: Any) -> tuple[list[Step], int]:
    """The Task states a successful execution enters, in order, with the function each one
    invokes (memory and architecture from the template), and the definition's size."""
    machine = template.state_machines[STATE_MACHINE]
    definition = json.loads(machine.definition)
    by_arn = {spec.arn: spec for spec in template.functions.values()}
    steps: list[Step] = []
    name: str | None = definition["StartAt"]
    while name is not None:
        state = definition["States"][name]
        function = by_arn.get(state.get("Parameters", {}).get("FunctionName"))
        if state["Type"] == "Task" and function is not None:
            steps.append(
                Step(name, function.logical_id, function.memory_size, function.architectures)
            )
        name = None if state.get("End") else state.get("Next")
    return steps, len(machine.definition.encode())


# ---------------------------------------------------------------- pricing rules


def tiered(quantity: float, tiers: list[dict[str, Any]], size_key: str, price_key: str) -> float:
    """Cost of `quantity` across monthly tiers, in order ({size_key: the tier's size, or None
    for the last, price_key})."""
    cost, left = 0.0, quantity
    for tier in tiers:
        size = tier[size_key]
        used = left if size is None else min(left, float(size))
        cost += used * float(tier[price_key])
        left -= used
        if left <= 0:
            break
    return cost


def express_billing(
    steps: list[Step], definition_bytes: int, prices: dict[str, Any]
) -> tuple[float, float]:
    """(billed seconds, billed GB) of one Express execution running `steps`."""
    assumptions = prices["assumptions"]
    rule = prices["prices"]["stepfunctions_express_duration"]
    durations = assumptions["function_duration_ms"]["values"]
    overhead = assumptions["state_overhead_ms"]["value"]
    ms = sum(durations[s.function] + overhead for s in steps)
    rounding = rule["billed_duration_rounding_ms"]
    billed_ms = math.ceil(ms / rounding) * rounding
    # Workflow memory = 50 MB + definition + execution data (the image in base64 and the
    # fields around it), billed in 64 MB chunks (the pricing page's formula).
    data_bytes = assumptions["image_bytes"]["value"] * 4 / 3 + 1024
    memory_mb = 50 + (definition_bytes + data_bytes) / 2**20
    chunk = rule["billed_memory_chunk_mb"]
    billed_mb = math.ceil(memory_mb / chunk) * chunk
    return billed_ms / 1000, billed_mb / 1024


def instance_price(workload: Workload, prices: dict[str, Any]) -> float:
    if workload.instance_price is not None:
        return workload.instance_price
    known = prices["prices"]["sagemaker_realtime_instance_hour"]["instances"]
    if workload.instance_type not in known:
        raise MlwfError(
            f"no price for {workload.instance_type} in {PRICES_FILE.name} (it has "
            f"{', '.join(sorted(known))}): pass --instance-price USD_PER_HOUR from "
            "https://aws.amazon.com/sagemaker/pricing/"
        )
    return float(known[workload.instance_type])


# ---------------------------------------------------------------- the estimate


def estimate(workload: Workload, template: Any, prices: dict[str, Any]) -> list[Line]:
    n = workload.images
    p = prices["prices"]
    a = prices["assumptions"]
    steps, definition_bytes = workflow_steps(template)
    lines: list[Line] = []

    def add(item: str, quantity: float, unit: str, price: float, detail: str = "") -> None:
        lines.append(Line(item, quantity, unit, price, quantity * price, detail))

    transition = p["stepfunctions_standard_transition"]["usd"]
    express_executions = 0
    if workload.batch:
        parent = a["batch_parent_transitions"]["value"]
        add(
            "Step Functions transitions, batch",
            parent + n,
            "transition",
            transition,
            f"{parent} of the parent execution + one per child execution started",
        )
        express_executions = n
    elif workload.workflow_type == "STANDARD":
        add(
            "Step Functions transitions",
            n * len(steps),
            "transition",
            transition,
            f"{len(steps)} states per execution",
        )
    else:
        express_executions = n
    if express_executions:
        kind = "child executions" if workload.batch else "executions"
        add(
            f"Step Functions Express {kind}",
            n,
            "request",
            p["stepfunctions_express_request"]["usd"],
        )
        seconds, gigabytes = express_billing(steps, definition_bytes, prices)
        gb_hours = n * seconds * gigabytes / 3600
        rule = p["stepfunctions_express_duration"]
        lines.append(
            Line(
                "Step Functions Express duration",
                gb_hours,
                "GB-hour",
                None,
                tiered(gb_hours, rule["tiers"], "gb_hours", "usd_per_gb_hour"),
                f"{seconds:g} s x {gigabytes * 1024:g} MB billed per execution, tiered",
            )
        )

    add("Lambda requests", n * len(steps), "request", p["lambda_request"]["usd"])
    gb_second = p["lambda_arm64_gb_second"]
    durations = a["function_duration_ms"]["values"]
    for step in steps:
        if step.architectures != ("arm64",):
            raise MlwfError(
                f"{step.function} runs on {'/'.join(step.architectures)}; "
                f"{PRICES_FILE.name} holds arm64 Lambda prices only"
            )
        seconds = durations[step.function] / 1000
        add(
            f"Lambda duration, {step.function}",
            n * step.memory_mb / 1024 * seconds,
            "GB-second",
            gb_second["usd"],
            f"{step.memory_mb} MB arm64 x {durations[step.function]} ms (assumed)",
        )
    total_gb_seconds = sum(line.quantity for line in lines if line.unit == "GB-second")
    if total_gb_seconds > gb_second["tier_limit_gb_seconds"]:
        raise MlwfError("past Lambda's first price tier: the data file has no further tiers")

    add(
        f"SageMaker endpoint, {workload.instance_type}",
        workload.instances * workload.hours,
        "instance-hour",
        instance_price(workload, prices),
        f"{workload.instances} x {workload.hours:g} h",
    )

    put = p["s3_put_copy_post_list"]["usd"]
    add("S3 PUT, image uploads", n, "request", put, "one per image")
    add("S3 GET, serialize", n, "request", p["s3_get"]["usd"], "one per image")
    capture_puts = math.ceil(n * a["capture_puts_per_record"]["value"])
    add("S3 PUT, data capture", capture_puts, "request", put, "at most one per record")
    if workload.batch:
        pages = math.ceil(n / a["list_page_keys"]["value"])
        add("S3 LIST, ItemReader", pages, "request", put, "ListObjectsV2, 1,000 keys a page")
        add("S3 PUT, ResultWriter", a["result_writer_puts"]["value"], "request", put)
    capture_gb = n * a["capture_record_bytes"]["value"] / 1e9
    add(
        "S3 storage, data capture",
        capture_gb,
        "GB-month",
        p["s3_standard_gb_month"]["usd"],
        f"{a['capture_record_bytes']['value']:,} bytes a record, kept a month",
    )
    return lines


def default_hours(images: int, instances: int) -> float:
    """Hours the endpoint needs for `images` at the scaling target, at least one."""
    return max(1.0, images / (instances * INVOCATIONS_PER_INSTANCE_MINUTE * 60))
