"""Where an execution's time goes at 1 in flight: the workflow beside moto's floor, and each
function's own time.

    .venv/bin/python benchmarks/workflow_breakdown.py [--executions 30] [--rounds 4]

One offline stack, staged/trained/deployed as `mlwf demo` does (synthetic data). Each round
runs the same executions one at a time through the real handlers (workflow) and through
echo handlers (floor, as benchmarks/offline_throughput.py), alternating which goes first.
It prints, per subject, the median of the rounds' milliseconds per execution and their
difference; then, for the workflow, the median of each function's own duration (the
`Duration` of its REPORT lines: the handler, as Lambda reports it) and of one invocation of
the filter function seen from the stack (the handler plus the stack's cost of running a
function: its process, the pipe, the log lines). The gap between the subjects is roughly
the sum of the functions' durations plus three such costs; what a function spends in its
AWS calls (the serializer's GetObject, the classifier's InvokeEndpoint and its local model)
is inside its duration.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlwf.offline.bridge import Invocation  # noqa: E402
from mlwf.offline.runtime import OfflineStack  # noqa: E402
from mlwf.offline.workflow import deploy_model, split_inputs  # noqa: E402

DURATION = re.compile(r"\tDuration: ([\d.]+) ms")


def echo(event, invocation):
    """A trivial handler: the event back, with the fields the next states read."""
    return {**event, "image_data": "", "inferences": [1.0, 0.0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=30, help="per subject and round")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()

    with OfflineStack.start(say=lambda _: None) as stack:
        deployment = deploy_model(stack, "synthetic", say=lambda _: None)
        inputs = split_inputs(stack, deployment.settings, "test")
        work = [inputs[i % len(inputs)] for i in range(args.executions)]
        real = dict(stack.bridge.functions)
        subjects = {"workflow": real, "floor": dict.fromkeys(real, echo)}
        stack.run_executions(work[:4], name_prefix="warm", concurrency=1)  # cold starts
        per_execution: dict[str, list[float]] = {name: [] for name in subjects}
        for round_number in range(args.rounds):
            order = list(subjects) if round_number % 2 == 0 else list(subjects)[::-1]
            for name in order:
                stack.bridge.functions = subjects[name]
                started = time.perf_counter()
                results = stack.run_executions(
                    work, name_prefix=f"r{round_number}-{name}", concurrency=1
                )
                per_execution[name].append((time.perf_counter() - started) / len(results) * 1000)
        stack.bridge.functions = real

        durations = {
            logical_id: [
                float(match.group(1))
                for line in function.log.lines
                if (match := DURATION.search(line))
            ]
            for logical_id, function in stack.functions.items()
        }
        filter_function = stack.functions["FilterInferencesFunction"]
        event = json.loads((ROOT / "events" / "filter_inferences_pass.json").read_text())
        seen = []
        for _ in range(100):
            invocation = Invocation(filter_function.spec.name, str(uuid.uuid4()))
            started = time.perf_counter()
            filter_function(event, invocation)
            seen.append((time.perf_counter() - started) * 1000)

    print(f"{args.rounds} alternating rounds x {args.executions} executions, 1 in flight")
    workflow = statistics.median(per_execution["workflow"])
    floor = statistics.median(per_execution["floor"])
    print(f"workflow {workflow:7.1f} ms/execution")
    print(f"floor    {floor:7.1f} ms/execution")
    print(f"gap      {workflow - floor:7.1f} ms (floor/workflow {floor / workflow:.2f})")
    for logical_id, values in durations.items():
        print(f"  {logical_id:28} median duration {statistics.median(values):6.2f} ms")
    print(f"  one filter invocation from the stack: median {statistics.median(seen):.2f} ms")


if __name__ == "__main__":
    main()
