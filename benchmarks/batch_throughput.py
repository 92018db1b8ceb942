"""Offline batch throughput and `mlwf batch`'s memory while it reads the verdicts.

    .venv/bin/python benchmarks/batch_throughput.py [--images 5000] [--singles 600]
        [--concurrency 10] [--verdicts 1000,100000] [--skip-throughput] [--skip-memory]

Throughput: one offline stack, staged/trained/deployed as `mlwf batch --offline` does
(synthetic data), with the template's BatchMaxConcurrency set to --concurrency. It puts
--images synthetic PNGs (seeded generator, training_job/synthetic.py) under a prefix, and
then, in one run and side by side:
  singles  single-image executions of the main workflow, --concurrency in flight
           (mlwf.executions.run_executions, as `mlwf run` runs them), half before and half
           after the batch, so that drift of the shared machine's speed shows
  batch    one execution of the batch state machine over the whole prefix (a Distributed
           Map at MaxConcurrency --concurrency), from StartExecution to the end, listing
           and result files included; every image's verdict is then read back from the
           result files and counted
Both run the same three functions and the same local model.

Memory: result files of N generated verdicts (AWS's layout: manifest.json, SUCCEEDED_0.json,
FAILED_0.json) on local disk, read by mlwf.batch_results as `mlwf batch --out` reads them
from S3 (a file-backed stand-in for S3's streaming GetObject), each N in a fresh process:
peak of Python allocations (tracemalloc) during the read, and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PREFIX = "bench-batch/"


# -- throughput -----------------------------------------------------------------------------
def synthetic_pngs(count: int, seed: int) -> list[bytes]:
    from PIL import Image

    from training_job.synthetic import generate

    images = generate((count + 1) // 2, seed=seed, split="test").images[:count]
    encoded = []
    for pixels in images:
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG")
        encoded.append(buffer.getvalue())
    return encoded


def throughput(args: argparse.Namespace) -> None:
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    from mlwf.batch import BATCH_MACHINE, execute
    from mlwf.batch_results import collect, iter_verdicts
    from mlwf.executions import ExecutionInput
    from mlwf.offline.runtime import OfflineStack
    from mlwf.offline.template_spec import ACCOUNT_ID
    from mlwf.offline.workflow import deploy_model

    overrides = {"BatchMaxConcurrency": str(args.concurrency)}
    with OfflineStack.start(parameter_overrides=overrides, say=lambda _: None) as stack:
        deploy_model(stack, "synthetic", say=lambda _: None)
        bucket = stack.bucket_name()
        started = time.perf_counter()
        pngs = synthetic_pngs(args.images, seed=11)
        # Straight into moto's S3: the upload is not what is measured, and 5,000 PutObject
        # calls through botocore take minutes on a shared machine.
        backend = s3_backends[ACCOUNT_ID][get_partition(stack.spec.region)]
        keys = [f"{PREFIX}{i:06d}.png" for i in range(len(pngs))]
        for key, body in zip(keys, pngs, strict=True):
            backend.put_object(bucket, key, body)
        stored = time.perf_counter() - started
        print(f"{len(keys)} synthetic PNGs generated and stored in {stored:.0f} s")

        singles_inputs = [ExecutionInput(bucket, keys[i % len(keys)]) for i in range(args.singles)]
        half = len(singles_inputs) // 2
        # warm-up: the environments the level needs, and the model (a cold start is not
        # throughput)
        stack.run_executions(singles_inputs[: args.concurrency], name_prefix="warm",
                             concurrency=args.concurrency)  # fmt: skip

        def singles(inputs: list[ExecutionInput], tag: str) -> float:
            begun = time.perf_counter()
            results = stack.run_executions(inputs, name_prefix=tag, concurrency=args.concurrency)
            elapsed = time.perf_counter() - begun
            assert len(results) == len(inputs)
            outcomes = {r.error or r.status for r in results}
            assert outcomes <= {"SUCCEEDED", "ThresholdConfidenceNotMet"}, outcomes
            return len(results) / elapsed

        before = singles(singles_inputs[:half], "before")
        begun = time.perf_counter()
        batch = execute(
            stack.sfn,
            stack.state_machine_arn(BATCH_MACHINE),
            bucket,
            PREFIX,
            1.0,
            stack.wait_for_executions,
            progress=False,
        )
        batch_seconds = time.perf_counter() - begun
        summary = collect(iter_verdicts(stack.s3, batch.results_bucket, batch.manifest_key))
        after = singles(singles_inputs[half:], "after")

    batch_rate = len(keys) / batch_seconds
    single_rate = statistics.median([before, after])
    print(f"batch: {summary.keys} keys, verdicts {dict(summary.verdicts)}")
    print(f"batch: errors {dict(summary.errors)}")
    assert summary.keys == len(keys), "a verdict is missing from the result files"
    assert set(summary.verdicts) <= {"ACCEPTED", "LOW_CONFIDENCE"}, summary.verdicts
    print(f"{'subject':8} {'images':>7} {'in flight':>9} {'images/s':>9}")
    print(f"{'singles':8} {half:>7} {args.concurrency:>9} {before:>9.1f}  (before the batch)")
    print(f"{'batch':8} {len(keys):>7} {args.concurrency:>9} {batch_rate:>9.1f}  "
          f"(one execution, {batch_seconds:.0f} s)")  # fmt: skip
    print(f"{'singles':8} {len(singles_inputs) - half:>7} {args.concurrency:>9} {after:>9.1f}  "
          "(after the batch)")  # fmt: skip
    print(f"batch / singles (median of before and after): {batch_rate / single_rate:.2f}")


# -- memory ---------------------------------------------------------------------------------
class FileS3:
    """GetObject from files under `root`, streaming as botocore's StreamingBody streams."""

    def __init__(self, root: Path):
        self.root = root

    def get_object(self, Bucket: str, Key: str) -> dict:  # noqa: N803 (boto3's names)
        return {"Body": (self.root / Bucket / Key).open("rb")}


def generate_results(root: Path, count: int) -> str:
    """Result files of `count` children (1 in 50 failed), as the ResultWriter lays them out,
    written an entry at a time; the manifest's key."""
    folder = root / "b" / "results" / "run"
    folder.mkdir(parents=True)
    arn = "arn:aws:states:us-east-1:123456789012"
    files = {}
    for status in ("SUCCEEDED", "FAILED"):
        path = folder / f"{status}_0.json"
        with path.open("w") as out:
            out.write("[")
            first = True
            for i in range(count):
                if (i % 50 == 0) != (status == "FAILED"):
                    continue
                key = f"incoming/{i:07d}.png"
                child_input = {"s3_bucket": "b", "s3_key": key, "inference_id": f"run-{i}"}
                entry = {
                    "ExecutionArn": f"{arn}:express:m/ClassifyEachImage:{i:032x}:x",
                    "Input": json.dumps(child_input),
                    "InputDetails": {"Included": True},
                    "Name": f"{i:032x}",
                    "StartDate": "2026-11-30T10:00:00.000Z",
                    "StateMachineArn": f"{arn}:stateMachine:m/ClassifyEachImage",
                    "Status": status,
                    "StopDate": "2026-11-30T10:00:00.300Z",
                }
                if status == "SUCCEEDED":
                    confidence = 0.5 + (i % 50) / 100
                    entry["Output"] = json.dumps(
                        {
                            "s3_key": key,
                            "verdict": "ACCEPTED" if confidence >= 0.93 else "LOW_CONFIDENCE",
                            "inferences": [confidence, 1 - confidence],
                            "inference_id": f"run-{i}",
                        }  # fmt: skip
                    )
                    entry["OutputDetails"] = {"Included": True}
                else:
                    entry.update(Error="States.Timeout", Cause="")
                out.write(("" if first else ",") + json.dumps(entry))
                first = False
            out.write("]")
        files[status] = [{"Key": f"results/run/{path.name}", "Size": path.stat().st_size}]
    manifest = {"DestinationBucket": "b", "MapRunArn": f"{arn}:mapRun:m/ClassifyEachImage:run",
                "ResultFiles": {**files, "PENDING": []}}  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return "results/run/manifest.json"


def measure_reading(count: int) -> dict:
    """In this process: generate, then read `count` verdicts as `mlwf batch --out` does."""
    import resource
    import tracemalloc

    from mlwf.batch_results import collect, iter_verdicts

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        manifest_key = generate_results(root, count)
        size = sum(p.stat().st_size for p in root.rglob("*.json"))
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        started = time.perf_counter()
        with (root / "verdicts.csv").open("w", newline="") as csv_file:
            summary = collect(iter_verdicts(FileS3(root), "b", manifest_key), csv_file)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert summary.keys == count
    return {
        "verdicts": count,
        "result_bytes": size,
        "tracemalloc_peak_kib": peak / 1024,
        "peak_rss_mib": rss_after / 1024,
        "rss_growth_mib": (rss_after - rss_before) / 1024,
        "seconds": elapsed,
    }


def memory(args: argparse.Namespace) -> None:
    rows = []
    for count in [int(c) for c in args.verdicts.split(",")]:
        answer = subprocess.run(
            [sys.executable, __file__, "--measure-reading", str(count)],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        rows.append(json.loads(answer.stdout.strip().splitlines()[-1]))
    print(f"{'verdicts':>9} {'files MB':>9} {'tracemalloc peak':>17} {'peak RSS':>9} "
          f"{'RSS growth':>11} {'read s':>7}")  # fmt: skip
    for row in rows:
        print(
            f"{row['verdicts']:>9} {row['result_bytes'] / 1e6:>9.1f} "
            f"{row['tracemalloc_peak_kib']:>13.0f} KiB {row['peak_rss_mib']:>5.0f} MiB "
            f"{row['rss_growth_mib']:>7.1f} MiB {row['seconds']:>7.2f}"
        )
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        print(
            f"{last['verdicts'] // first['verdicts']}x the verdicts: tracemalloc peak "
            f"x{last['tracemalloc_peak_kib'] / first['tracemalloc_peak_kib']:.2f}, peak RSS "
            f"x{last['peak_rss_mib'] / first['peak_rss_mib']:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--singles", type=int, default=600, help="single executions, in all")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--verdicts", default="1000,100000")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--measure-reading", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_reading:
        print(json.dumps(measure_reading(args.measure_reading)))
        return
    if not args.skip_memory:
        memory(args)
    if not args.skip_throughput:
        throughput(args)


if __name__ == "__main__":
    main()
