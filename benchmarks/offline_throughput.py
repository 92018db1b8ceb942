"""Offline workflow throughput: the demo workflow beside moto's interpreter floor.

    .venv/bin/python benchmarks/offline_throughput.py [--executions 400] [--rounds 16]
        [--concurrency 1,4,16] [--data synthetic|DIR]

One offline stack, staged/trained/deployed as `mlwf demo` does (synthetic data). Each
round runs, at each level of executions in flight (the demo's is 4), two subjects through
the same state machine definition, in alternating order:
  workflow  the real handlers and the local model behind the endpoint (with data capture)
  floor     trivial echo handlers through the same bridge: what moto's interpreter costs
Per subject and level: executions per second (median of the rounds) and p50/p95 latency
(all executions); per level, the median of each round's workflow/floor ratio, and the
middle half of those ratios (quartiles): the machine's speed drifts from second to second,
so a single round's ratio is noisy, and many short paired rounds are what make the median
stable.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlwf.demo import DEFAULT_CONCURRENCY  # noqa: E402
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
    parser.add_argument("--executions", type=int, default=400, help="per subject and level")
    parser.add_argument("--rounds", type=int, default=16)
    parser.add_argument(
        "--concurrency",
        default=f"1,{DEFAULT_CONCURRENCY},16",
        help="executions in flight: one level or several, comma-separated",
    )
    parser.add_argument("--data", default="synthetic")
    args = parser.parse_args()
    levels = [int(level) for level in args.concurrency.split(",")]
    per_round = args.executions // args.rounds

    with OfflineStack.start(say=lambda _: None) as stack:
        deployment = deploy_model(stack, args.data, say=lambda _: None)
        inputs = split_inputs(stack, deployment.settings, "test")
        work = [inputs[i % len(inputs)] for i in range(per_round)]
        real = dict(stack.bridge.functions)
        subjects = {"workflow": real, "floor": dict.fromkeys(real, echo)}
        rates = defaultdict(list)  # (subject, level) -> executions/s of each round
        latencies = defaultdict(list)  # (subject, level) -> ms of each execution
        outcomes: dict[tuple[str, int], Counter] = defaultdict(Counter)
        # warm-up: first invocations load modules and the model, and start the execution
        # environments the highest level will use (a cold start is not throughput)
        top = max(levels)
        warm = [work[i % len(work)] for i in range(max(4, top))]
        stack.run_executions(warm, name_prefix="warm", concurrency=top)
        for round_number in range(args.rounds):
            for level in levels:
                # alternate which subject goes first, so drift in the machine's speed
                # does not favour one of them
                order = list(subjects) if round_number % 2 == 0 else list(subjects)[::-1]
                for name in order:
                    stack.bridge.functions = subjects[name]
                    started = time.perf_counter()
                    results = stack.run_executions(
                        work,
                        name_prefix=f"r{round_number}-{level}-{name}",
                        concurrency=level,
                    )
                    elapsed = time.perf_counter() - started
                    rates[name, level].append(len(results) / elapsed)
                    latencies[name, level] += [
                        r.duration_ms for r in results if r.duration_ms is not None
                    ]
                    outcomes[name, level].update(r.error or r.status for r in results)
        stack.bridge.functions = real

    print(
        f"{args.rounds} interleaved rounds x {per_round} executions per subject and level, "
        f"data {args.data}"
    )
    print(
        f"{'in flight':>9} {'subject':9} {'exec/s':>7} {'p50 ms':>7} {'p95 ms':>7}  "
        f"{'ratio (quartiles)':>17}  outcomes"
    )
    for level in levels:
        for name in subjects:
            ratio = ""
            if name == "workflow":
                # per round, workflow over floor: drift between rounds cancels out
                pairs = zip(rates["workflow", level], rates["floor", level], strict=True)
                ratios = [w / f for w, f in pairs]
                spread = "n/a"
                if len(ratios) > 1:
                    low, _, high = statistics.quantiles(ratios, n=4, method="inclusive")
                    spread = f"{low:.2f}-{high:.2f}"
                ratio = f"{statistics.median(ratios):.2f} ({spread})"
            print(
                f"{level:>9} {name:9} {statistics.median(rates[name, level]):>7.1f} "
                f"{percentile(latencies[name, level], 0.5):>7.0f} "
                f"{percentile(latencies[name, level], 0.95):>7.0f}  {ratio:>17}  "
                f"{dict(outcomes[name, level])}"
            )
    print(
        "\nexec/s: median of the rounds; ratio: median of each round's workflow/floor, "
        "and its quartiles"
    )


if __name__ == "__main__":
    main()
