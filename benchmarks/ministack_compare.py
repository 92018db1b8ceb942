"""The demo workflow on this project's offline stack beside MiniStack and moto's floor.

    .venv/bin/python benchmarks/ministack_compare.py [--executions 96] [--rounds 4]
        [--concurrency 1,4,16] [--no-floor]

Three subjects, each a server on a free port of 127.0.0.1, each serving the same
template.yaml, driven by this process through the AWS API only (boto3: StartExecution, then
ListExecutions/DescribeExecution every 20 ms, as `mlwf run` waits):
  offline    `mlwf offline up`: real handlers, local model behind its SageMaker endpoint
  ministack  MiniStack (benchmarks/requirements-ministack.txt, its own virtual environment)
             with template.yaml deployed by `sam build` + `sam deploy`; its classify
             function's SageMaker runtime calls go to offline's endpoint (MiniStack has none)
  floor      moto's interpreter with echo handlers (as benchmarks/offline_throughput.py's),
             served over HTTP by a child of this script like the other two
The synthetic test images of `mlwf offline up` (copied into MiniStack's bucket) run through
the image-classification state machine at each level of executions in flight, in paired
rounds whose subject order alternates; each subject's round starts once the three servers
are quiet (MiniStack goes on working after executions it reports ended). Per subject and
level: executions/s (median of the rounds), p50/p95 of the executions' durations (the
service's startDate to stopDate); per level, the median and quartiles of each round's
offline/ministack and offline/floor ratios. Then: does each image end the same way on
MiniStack as on offline (status and error, and the same inferences)? How MiniStack is set
up: benchmarks/ministack_stack.py and docs/performance-ministack.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import ministack_stack as servers_  # noqa: E402

POLL_SECONDS = 0.02  # mlwf.executions.run_executions' default
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def drive(sfn: Any, arn: str, inputs: list[dict], concurrency: int, prefix: str) -> list[dict]:
    """mlwf.executions.run_executions' loop (at most `concurrency` running; one listing of
    the running ones per poll), keeping each description; never reads a history, so every
    subject costs this process the same calls whatever its errors."""
    pending = list(enumerate(inputs))
    running: dict[str, int] = {}
    done: list[dict] = []
    while pending or running:
        while pending and len(running) < concurrency:
            index, item = pending.pop(0)
            started = sfn.start_execution(
                stateMachineArn=arn, name=f"{prefix}-{index:05d}", input=json.dumps(item)
            )
            running[started["executionArn"]] = index
        pages = sfn.get_paginator("list_executions").paginate(
            stateMachineArn=arn, statusFilter="RUNNING"
        )
        still = {e["executionArn"] for page in pages for e in page["executions"]}
        finished = False
        for execution_arn in [a for a in running if a not in still]:
            description = sfn.describe_execution(executionArn=execution_arn)
            if description["status"] in TERMINAL:
                done.append({**description, "s3_key": inputs[running.pop(execution_arn)]["s3_key"]})
                finished = True
        if running and not finished:
            time.sleep(POLL_SECONDS)
    return done


def duration_ms(description: dict) -> float:
    return (description["stopDate"] - description["startDate"]).total_seconds() * 1000


def inferences(description: dict) -> list[float] | None:
    """From the output, or from the filter's message (mlwf.executions.inferences_from_cause)."""
    from mlwf.executions import inferences_from_cause

    if description["status"] == "SUCCEEDED":
        return json.loads(description.get("output") or "{}").get("inferences")
    return inferences_from_cause(description.get("cause"))


def slow_key(description: dict | None) -> float:
    return duration_ms(description) if description else -1.0


def timeline(sfn: Any, description: dict) -> str:
    """Where an execution's time went: its history's events, at ms from its start."""
    events = sfn.get_execution_history(executionArn=description["executionArn"])["events"]
    start = description["startDate"]
    return ", ".join(
        f"{(e['timestamp'] - start).total_seconds() * 1000:.0f} {e['type']}" for e in events
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def serve_floor(port: int) -> None:
    """Child mode: the offline stack with echo handlers over HTTP, until Ctrl-C."""
    from offline_throughput import echo

    from mlwf.offline.runtime import OfflineStack
    from mlwf.offline.stack_record import register_stack
    from training_job.stack import default_stack_name

    name = default_stack_name() or "image-classification-workflow"
    with OfflineStack.start(say=lambda _: None, stack_name=name, port=port) as stack:
        stack.bridge.functions = dict.fromkeys(stack.bridge.functions, echo)
        register_stack(stack)
        print("floor ready", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


def start_floor(servers: servers_.Servers) -> str:
    port = servers_.free_port()
    command = [sys.executable, __file__, "--serve-floor", str(port)]
    process = servers.start("floor", command, servers_.clean_environment())
    servers_.wait_for_line(process, "floor ready", "the floor")
    return f"http://127.0.0.1:{port}"


def ratio_text(numerators: list[float], denominators: list[float]) -> str:
    ratios = [n / d for n, d in zip(numerators, denominators, strict=True)]
    spread = "n/a"
    if len(ratios) > 1:
        low, _, high = statistics.quantiles(ratios, n=4, method="inclusive")
        spread = f"{low:.2f}-{high:.2f}"
    return f"{statistics.median(ratios):.2f} ({spread})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0]
        + " About 9 minutes with the defaults; the first run needs PyPI, to make "
        "benchmarks/.venv-ministack.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--executions", type=int, default=96, help="per subject and level")
    parser.add_argument("--rounds", type=int, default=4, help="paired rounds per level")
    parser.add_argument("--concurrency", default="1,4,16", help="levels, comma-separated")
    parser.add_argument("--no-floor", action="store_true", help="leave out moto's floor")
    parser.add_argument("--serve-floor", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_floor:
        return serve_floor(args.serve_floor)
    import boto3
    from botocore.config import Config

    from training_job.dataset.lst import read_s3_lst
    from training_job.stack import DEFAULT_DATA_PREFIX, default_stack_name

    levels = [int(level) for level in args.concurrency.split(",")]
    per_round = args.executions // args.rounds
    stack_name = default_stack_name() or "image-classification-workflow"
    load_before = os.getloadavg()
    with ExitStack() as cleanup:
        workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="ms-bench-")))
        servers = servers_.Servers(workdir)
        cleanup.callback(servers.close)
        python = servers_.ensure_venv(say)
        say("starting MiniStack and mlwf offline up")
        ministack = servers_.start_ministack(servers, python)
        offline = servers_.start_offline_up(servers)
        say(f"sam build + sam deploy to MiniStack at {ministack}")
        servers_.deploy_to_ministack(ministack, python, workdir, stack_name)
        endpoint = servers_.wire_classify_to_offline(ministack, offline, stack_name)
        say(f"MiniStack's classify function invokes {endpoint} at {offline}")
        urls = {"offline": (offline, "offline"), "ministack": (ministack, "test")}
        if not args.no_floor:
            urls["floor"] = (start_floor(servers), "offline")
        config = Config(max_pool_connections=4, retries={"mode": "standard"})
        subjects: dict[str, tuple[Any, str, str]] = {}
        for name, (url, key) in urls.items():
            outputs = servers_.stack_outputs(url, key, stack_name)
            options = servers_.client_options(url, key)
            sfn = boto3.client("stepfunctions", config=config, **options)
            subjects[name] = (sfn, outputs["StateMachineArn"], outputs["ImagesBucketName"])
        s3 = {n: boto3.client("s3", **servers_.client_options(*urls[n])) for n in urls}
        source_bucket = subjects["offline"][2]
        keys = [
            f"{DEFAULT_DATA_PREFIX}/test/{entry.path}"
            for entry in read_s3_lst(s3["offline"], source_bucket, DEFAULT_DATA_PREFIX, "test")
        ]
        for key in keys:  # the same images in MiniStack's bucket (the floor reads none)
            body = s3["offline"].get_object(Bucket=source_bucket, Key=key)["Body"].read()
            s3["ministack"].put_object(Bucket=subjects["ministack"][2], Key=key, Body=body)

        def run(name: str, level: int, prefix: str, round_number: int, count: int) -> list[dict]:
            """`count` executions; each round the next slice of the images (wrapping
            around), the same slice for every subject of the round."""
            sfn, arn, bucket = subjects[name]
            first = round_number * count
            work = [keys[(first + i) % len(keys)] for i in range(count)]
            items = [{"s3_bucket": bucket, "s3_key": key} for key in work]
            return drive(sfn, arn, items, level, prefix)

        # warm-up: every execution environment the top level uses
        top = max(levels)
        for name in subjects:
            say(f"warming up {name}")
            run(name, top, f"warm-{name}", 0, max(top, per_round))
        rates: dict[tuple[str, int], list[float]] = defaultdict(list)
        latencies: dict[tuple[str, int], list[float]] = defaultdict(list)
        outcomes: dict[tuple[str, int], Counter] = defaultdict(Counter)
        by_image: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
        slowest: dict[str, dict | None] = {}
        left_busy: dict[str, list[float]] = defaultdict(list)  # subject -> waits after it
        previous, never_quiet = "warm-up", 0
        for round_number in range(args.rounds):
            for level in levels:
                # the pair's order alternates every round, the floor's place every two
                pair = ["offline", "ministack"][:: 1 if round_number % 2 == 0 else -1]
                order = pair
                if "floor" in subjects:
                    order = ["floor", *pair] if (round_number // 2) % 2 == 0 else [*pair, "floor"]
                say(f"round {round_number + 1}/{args.rounds}, {level} in flight: {order}")
                for name in order:
                    # on a quiet machine: the subject before may still be at work (see
                    # ministack_stack.QUIET_SHARE_OF_A_CORE)
                    waited, quiet = servers.wait_until_quiet()
                    left_busy[previous].append(waited)
                    never_quiet += not quiet
                    previous = name
                    started = time.perf_counter()
                    done = run(name, level, f"r{round_number}-{level}", round_number, per_round)
                    rates[name, level].append(len(done) / (time.perf_counter() - started))
                    latencies[name, level] += [duration_ms(d) for d in done]
                    slowest[name] = max([slowest.get(name), *done], key=slow_key)
                    for d in done:
                        outcome = d.get("error") or d["status"]
                        outcomes[name, level][outcome] += 1
                        found = inferences(d)
                        by_image[d["s3_key"]][name].add(
                            (outcome, tuple(round(v, 6) for v in found or ()))
                        )
        timelines = {n: timeline(subjects[n][0], d) for n, d in slowest.items() if d}
    load_after = os.getloadavg()
    report(args, per_round, levels, list(subjects), rates, latencies, outcomes, by_image)
    print(
        "\nwaited for the servers to be quiet before each round (what the subject before "
        "left running), median and longest s: "
        + ", ".join(
            f"after {n} {statistics.median(w):.1f} / {max(w):.1f}" for n, w in left_busy.items()
        )
        + (f"; {never_quiet} round(s) started without ever being quiet" if never_quiet else "")
    )
    print("\neach subject's slowest execution, its history (ms from its start):")
    for name, text in timelines.items():
        print(f"  {name}: {text}")
    print(f"\nload average (1, 5, 15 min): before {load_before}, after {load_after}")


def report(args, per_round, levels, names, rates, latencies, outcomes, by_image) -> None:
    print(
        f"{args.rounds} paired rounds x {per_round} executions per subject and level "
        f"(synthetic test images), on {os.cpu_count()} CPUs"
    )
    print(
        f"{'in flight':>9} {'subject':9} {'exec/s':>7} {'p50 ms':>7} {'p95 ms':>7}  "
        f"{'offline/this (quartiles)':>24}  outcomes"
    )
    for level in levels:
        for name in names:
            ratio = ""
            if name != "offline":
                ratio = ratio_text(rates["offline", level], rates[name, level])
            print(
                f"{level:>9} {name:9} {statistics.median(rates[name, level]):>7.2f} "
                f"{percentile(latencies[name, level], 0.5):>7.0f} "
                f"{percentile(latencies[name, level], 0.95):>7.0f}  {ratio:>24}  "
                f"{dict(outcomes[name, level])}"
            )
    print(
        "\nexec/s: median of the rounds; offline/this: median of each round's ratio of "
        "executions/s, and its quartiles"
    )
    # Fidelity: each image's outcome(s) on offline against MiniStack's, over all runs.
    pairs: Counter = Counter()
    for runs in by_image.values():
        offline = sorted(runs.get("offline", set()))
        ministack = sorted(runs.get("ministack", set()))
        same_inferences = {i for _, i in offline} == {i for _, i in ministack}
        pairs[
            (
                "/".join(o for o, _ in offline),
                "/".join(o for o, _ in ministack),
                "same inferences" if same_inferences else "DIFFERENT inferences",
            )
        ] += 1
    print("\nper image, offline's outcome -> MiniStack's (images):")
    for (offline, ministack, inference), count in sorted(pairs.items()):
        print(f"  {offline:26} -> {ministack:26} {inference:22} {count}")


if __name__ == "__main__":
    main()
