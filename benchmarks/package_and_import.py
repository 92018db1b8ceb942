"""What each Lambda package weighs and what its cold import costs.

    .venv/bin/python benchmarks/package_and_import.py [--runs 15]

1. `sam build` into a temporary folder: each function's artifact, as files and zipped
   (what Lambda stores).
2. Each handler's import, `python -X importtime`, run in the function's build folder with
   its template environment, beside `import boto3` alone (which Lambda's runtime pays
   anyway). Runs are interleaved so machine noise hits every subject alike; medians.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlwf.offline.template import load_template  # noqa: E402


def build(out: Path) -> Path:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    subprocess.run(
        ["sam", "build", "--build-dir", str(out / "build"), "--cache-dir", str(out / "cache")],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return out / "build"


def zipped_size(folder: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder))
    return buffer.tell()


def import_microseconds(statement: str, cwd: Path, env: dict[str, str]) -> int:
    """Cumulative import time of the top-level module `statement` imports."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"{statement} in {cwd} failed: {result.stderr[-800:]}")
    module = statement.split()[1]
    for line in result.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1])
    raise RuntimeError(f"no import time for {module}: {result.stderr[-500:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    spec = load_template(ROOT / "template.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        built = build(Path(tmp))
        print("## sam build artifacts")
        print(f"{'function':32} {'files':>6} {'bytes':>8} {'zipped':>8}")
        for logical_id in spec.functions:
            folder = built / logical_id
            files = [p for p in folder.rglob("*") if p.is_file()]
            size = sum(p.stat().st_size for p in files)
            print(f"{logical_id:32} {len(files):>6} {size:>8} {zipped_size(folder):>8}")

        base_env = {
            **os.environ,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
        }
        subjects = {"import boto3 (baseline)": ("import boto3", built, base_env)}
        for logical_id, function in spec.functions.items():
            env = {**base_env, **function.environment}
            subjects[f"{logical_id} app"] = ("import app", built / logical_id, env)
        samples: dict[str, list[int]] = {name: [] for name in subjects}
        for _ in range(args.runs):  # interleaved
            for name, (statement, cwd, env) in subjects.items():
                samples[name].append(import_microseconds(statement, cwd, env))
        baseline = statistics.median(samples["import boto3 (baseline)"])
        print(f"\n## cold import, median of {args.runs} interleaved runs (python -X importtime)")
        print(f"{'subject':40} {'median ms':>10} {'p90 ms':>8} {'x boto3':>8}")
        for name, values in samples.items():
            median = statistics.median(values)
            p90 = statistics.quantiles(values, n=10)[-1]
            print(f"{name:40} {median / 1000:>10.1f} {p90 / 1000:>8.1f} {median / baseline:>8.2f}")


if __name__ == "__main__":
    main()
