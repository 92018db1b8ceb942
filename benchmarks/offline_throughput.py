"""Offline workflow throughput: the demo workflow beside moto's interpreter floor.

    .venv/bin/python benchmarks/offline_throughput.py [--executions 200] [--rounds 4]

One offline stack, staged/trained/deployed as `mlwf demo` does (synthetic data). Rounds
alternate between two subjects running the same state machine definition:
  workflow  the real handlers and the local model behind the endpoint (with data capture)
  floor     trivial echo handlers through the same bridge: what moto's interpreter costs
Per subject: executions per second (median of the rounds) and p50/p95 latency (all
executions), and the ratio workflow/floor. Also `--data DIR` to use a staged folder.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlwf.executions import run_executions  # noqa: E402
from mlwf.offline.runtime import OfflineStack  # noqa: E402
from mlwf.offline.workflow import deploy_model, split_inputs  # noqa: E402


def echo(event, invocation):
    """A trivial handler: the event back, with the fields the next states read."""
    return {**event, "image_data": "", "inferences": [1.0, 0.0]}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=200, help="per subject, in all")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--data", default="synthetic")
    args = parser.parse_args()
    per_round = args.executions // args.rounds

    with OfflineStack.start(say=lambda _: None) as stack:
        deployment = deploy_model(stack, args.data, say=lambda _: None)
        inputs = split_inputs(stack, deployment.settings, "test")
        work = [inputs[i % len(inputs)] for i in range(per_round)]
        real = dict(stack.bridge.functions)
        echoes = dict.fromkeys(real, echo)
        subjects = {"workflow": real, "floor (echo handlers)": echoes}
        rates: dict[str, list[float]] = {name: [] for name in subjects}
        latencies: dict[str, list[float]] = {name: [] for name in subjects}
        statuses: dict[str, dict[str, int]] = {name: {} for name in subjects}
        # warm-up: first invocations load modules and the model
        run_executions(stack.sfn, stack.state_machine_arn(), work[:4], name_prefix="warm")
        for round_number in range(args.rounds):
            for name, functions in subjects.items():
                stack.bridge.functions = functions
                started = time.perf_counter()
                results = run_executions(
                    stack.sfn,
                    stack.state_machine_arn(),
                    work,
                    name_prefix=f"r{round_number}",
                    concurrency=args.concurrency,
                )
                elapsed = time.perf_counter() - started
                rates[name].append(len(results) / elapsed)
                latencies[name] += [r.duration_ms for r in results if r.duration_ms is not None]
                for r in results:
                    outcome = r.error or r.status
                    statuses[name][outcome] = statuses[name].get(outcome, 0) + 1
        stack.bridge.functions = real

    print(
        f"{args.rounds} interleaved rounds x {per_round} executions per subject, "
        f"concurrency {args.concurrency}, data {args.data}"
    )
    print(f"{'subject':24} {'exec/s (median)':>16} {'p50 ms':>8} {'p95 ms':>8}  outcomes")
    for name in subjects:
        print(
            f"{name:24} {statistics.median(rates[name]):>16.1f} "
            f"{percentile(latencies[name], 0.5):>8.0f} {percentile(latencies[name], 0.95):>8.0f}  "
            f"{statuses[name]}"
        )
    workflow, floor = (statistics.median(rates[n]) for n in subjects)
    print(f"\nworkflow / floor throughput: {workflow / floor:.2f}")


if __name__ == "__main__":
    main()
