"""How long the offline commands take a user, with the trained-model cache warm.

    .venv/bin/python benchmarks/offline_startup.py [--repeats 5] [--demo]

Measured, each `--repeats` times, as wall-clock time of the command a user types:
  offline up    `mlwf offline up` from start to its `export AWS_ENDPOINT_URL=` line
  invoke (up)   `mlwf invoke ClassifyImageFunction -e events/classify_image.json` against
                the running `mlwf offline up` (AWS_ENDPOINT_URL set)
  invoke        the same with no stack running: it starts, seeds and stops one
  demo          `mlwf demo --data synthetic` (with --demo; once per repeat)
The model cache (mlwf.offline.model_cache) is a temporary folder, warmed by one run of each
command before the timed ones. Reported: median, min and max per command, and the load
average, since the machine's speed moves with it.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MLWF = [sys.executable, "-m", "mlwf.cli"]
READY = "export AWS_ENDPOINT_URL="
EVENT = "events/classify_image.json"


def clean_environment(cache: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**environment, "MLWF_MODEL_CACHE_DIR": str(cache), "SAM_CLI_TELEMETRY": "0"}


def timed(command: list[str], environment: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, check=True)
    return time.perf_counter() - started


def offline_up(environment: dict[str, str], port: int) -> tuple[subprocess.Popen, float, dict]:
    """A running `mlwf offline up`, the seconds it took to be ready, and its exports."""
    started = time.perf_counter()
    server = subprocess.Popen(
        [*MLWF, "offline", "up", "--port", str(port), "--stack-name", "bench"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert server.stdout is not None
    for line in server.stdout:
        if line.startswith(READY):
            ready = time.perf_counter() - started
            exported = dict(word.split("=", 1) for word in line.split()[1:])
            return server, ready, exported
    raise RuntimeError(f"mlwf offline up ended with {server.wait()} before it was ready")


def stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGINT)
    server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--port", type=int, default=4590)
    parser.add_argument("--demo", action="store_true", help="also time mlwf demo")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"offline up": [], "invoke (up)": [], "invoke": []}
    if args.demo:
        times["demo"] = []
    invoke = [*MLWF, "invoke", "ClassifyImageFunction", "-e", EVENT]
    with tempfile.TemporaryDirectory() as folder:
        environment = clean_environment(Path(folder) / "models")
        timed(invoke, environment)  # warms the model cache for invoke
        server, _, _ = offline_up(environment, args.port)  # ... and for offline up
        stop(server)
        for _ in range(args.repeats):
            server, ready, exported = offline_up(environment, args.port)
            try:
                times["offline up"].append(ready)
                up = {**environment, **exported}
                times["invoke (up)"].append(timed([*invoke, "--stack-name", "bench"], up))
            finally:
                stop(server)
            times["invoke"].append(timed(invoke, environment))
            if args.demo:
                out = Path(folder) / "demo"
                command = [*MLWF, "demo", "--data", "synthetic", "--out", str(out)]
                times["demo"].append(timed(command, environment))
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores)")
    print(f"{'command':<14} {'median s':>9} {'min s':>7} {'max s':>7}  (n={args.repeats})")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<14} {median:>9.2f} {min(values):>7.2f} {max(values):>7.2f}")


if __name__ == "__main__":
    main()
