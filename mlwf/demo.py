"""`mlwf demo`: the whole workflow offline, from data to monitoring plots.

The real template, state machine definition and handlers run under moto with a local model
behind the endpoint; staging, training and deployment go through the same training_job
code as in AWS. Outputs land in --out: results.json, the captured data, each function's
log (the offline `sam logs`), the monitoring plots and the threshold table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from mlwf.offline.options import add_parameter_overrides, parse_parameter_overrides
from training_job.argtypes import positive_int

DEFAULT_OUT = Path("demo-output")
# What a demo writes in --out, replaced on the next run; and the file that says mlwf wrote
# them. Without it, a folder that holds any of these is the user's and is left alone.
OUTPUTS = ("results.json", "logs", "data_capture", "plots", "dataset")
OUT_MARKER = ".mlwf-demo"
CALIBRATION_ID = "validation/"  # inference ids of the threshold calibration requests
# Offline, everything but the model shares one core (the GIL): more executions in flight
# only queue, and 4 measured the best throughput (benchmarks/offline_throughput.py).
DEFAULT_CONCURRENCY = 4
CONSOLE_PORT = 8787  # mlwf console's default


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the whole workflow offline (no AWS account, no Docker)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--data",
        default="auto",
        help="auto (CIFAR-100 when cached or downloadable, else synthetic), synthetic, "
        "cifar100, or a staged DIR (train/, test/, train.lst, test.lst)",
    )
    parser.add_argument(
        "--count", type=positive_int, help="executions to run (default: every test image)"
    )
    parser.add_argument(
        "--threshold",
        type=float,
        help="ConfidenceThreshold for this run (default: the template's)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--seed", type=int, default=0, help="seed of data, split and model")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="TARGET:KIND[:COUNT]",
        help="inject a fault, e.g. endpoint:throttle:3 or ClassifyImageFunction:throttle:1 "
        "(kinds: endpoint throttle|unavailable|model-error; function throttle|service-error)",
    )
    parser.add_argument("--template", type=Path, help="template to run (default: the project's)")
    add_parameter_overrides(parser)
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=DEFAULT_CONCURRENCY,
        help="executions in flight at once",
    )
    parser.add_argument(
        "--console",
        nargs="?",
        type=int,
        const=CONSOLE_PORT,
        metavar="PORT",
        help=f"after the run, keep the stack up and serve `mlwf console` on 127.0.0.1:PORT "
        f"(default {CONSOLE_PORT}) until Ctrl-C",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from training_job.errors import MlwfError

    started = time.perf_counter()
    if os.environ.get("AWS_ENDPOINT_URL"):
        # The demo stages, trains and deploys on a stack of its own, from nothing: a running
        # one (mlwf offline up) has its data and model already, and mlwf run --offline uses it.
        say(
            f"note: AWS_ENDPOINT_URL is set ({os.environ['AWS_ENDPOINT_URL']}); the demo starts "
            "a stack of its own. Against the running one: mlwf run --offline"
        )
    overrides = parse_parameter_overrides(args.parameter_overrides)
    if args.threshold is not None:
        if not 0.5 <= args.threshold <= 1.0:
            raise MlwfError("--threshold must be within [0.5, 1.0], as ConfidenceThreshold")
        overrides["ConfidenceThreshold"] = str(args.threshold)
    out: Path = args.out
    prepare_out(out)
    report = demo(
        data=args.data,
        count=args.count,
        parameter_overrides=overrides,
        out=out,
        seed=args.seed,
        faults=args.fault,
        template=args.template,
        concurrency=args.concurrency,
        console_port=args.console,
    )
    print(f"\ndone in {time.perf_counter() - started:.0f} s; outputs in {out}/")
    return 0 if report["summary"]["unexpected_failures"] == 0 else 1


def prepare_out(out: Path) -> None:
    """--out made ready for this run: the previous demo's outputs removed, and only when a
    demo wrote them (its marker is there); a folder holding anything else of those names is
    refused, never emptied."""
    from training_job.errors import MlwfError

    if out.exists() and not out.is_dir():
        raise MlwfError(f"--out {out} is a file")
    present = [name for name in OUTPUTS if (out / name).exists()]
    if present and not (out / OUT_MARKER).is_file():
        raise MlwfError(
            f"--out {out} already holds {', '.join(present)}, which mlwf demo did not write: "
            "choose a new or empty folder"
        )
    for name in present:
        path = out / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / OUT_MARKER).write_text(
        "Written by mlwf demo, which replaces " + ", ".join(OUTPUTS) + " here on its next run.\n"
    )


def say(text: str) -> None:
    print(text, flush=True)


def demo(
    *,
    data: str,
    count: int | None,
    parameter_overrides: dict[str, str],
    out: Path,
    seed: int,
    faults: list[str],
    template: Path | None,
    concurrency: int,
    console_port: int | None = None,
) -> dict[str, Any]:
    from mlwf.executions import format_summary, format_table, summarize
    from mlwf.offline.runtime import OfflineStack
    from mlwf.offline.workflow import choose_source, deploy_model, split_inputs

    source = choose_source(data, say)
    from mlwf.offline.faults import Fault

    with OfflineStack.start(
        template,
        parameter_overrides=parameter_overrides,
        log_dir=out / "logs",
        say=say,
        seed=seed,
    ) as stack:
        threshold = float(stack.spec.parameters["ConfidenceThreshold"])
        # Checked now, armed just before the executions: they are for the workflow, not
        # for the calibration requests the demo sends the endpoint itself.
        armed = [Fault.parse(f, list(stack.spec.functions)) for f in faults]
        say("\n== stage, train, deploy (training_job code, local compute)")
        deployment = deploy_model(stack, source, seed=seed, work_dir=out / "dataset", say=say)
        settings = deployment.settings

        say("\n== calibrate: the validation split through the endpoint")
        calibration = _calibrate(stack, settings, split_inputs(stack, settings, "validation"))

        inputs = split_inputs(stack, settings, "test")
        if count is not None:
            import random

            inputs = random.Random(seed).sample(inputs, min(count, len(inputs)))
        for fault in armed:
            stack.faults.append(fault)
            say(f"fault injected: {fault}")
        results = _run(stack, inputs, concurrency)
        summary = summarize(results, threshold)
        summary["unexpected_failures"] = sum(summary["other_failures"].values())
        summary["data"] = source
        summary["validation_accuracy"] = deployment.training.validation_accuracy
        say("\n" + format_table(results, limit=20))
        say("\n" + format_summary(summary))

        say("\n== monitor: captured data, plots, threshold")
        stack.flush_capture()
        _download_capture(stack, settings, out / "data_capture")
        monitoring = _monitor(out, threshold, results, calibration, say)
        report = {
            "summary": summary,
            "threshold_analysis": monitoring,
            "executions": [r.as_dict() for r in results],
        }
        (out / "results.json").write_text(json.dumps(report, indent=2) + "\n")
        if console_port is None:
            say(
                "\nSee these executions as the Step Functions console shows them: "
                f"`mlwf demo --console` (then http://127.0.0.1:{CONSOLE_PORT}/), or "
                "`mlwf offline up` and, in another shell, `mlwf console`."
            )
        else:
            _serve_console(stack, console_port)
        return report


def _run(stack, inputs, concurrency: int):
    """The test images through the workflow as production runs it: uploaded under the
    prefix the template's rule watches, the rule starting each execution. An EXPRESS
    machine's executions cannot be described, so those are run with StartSyncExecution."""
    from mlwf.uploads import rule_prefix, run_by_uploads

    arn = stack.state_machine_arn()
    machine = next(m for m in stack.spec.state_machines.values() if m.arn == arn)
    prefixes = [
        rule_prefix(rule.event_pattern)
        for rule in stack.spec.rules.values()
        if rule.state == "ENABLED" and any(t.get("Arn") == arn for t in rule.targets)
    ]
    prefix = next((p for p in prefixes if p), None)
    if machine.workflow_type == "STANDARD" and prefix is not None:
        say(
            f"\n== run: {len(inputs)} test images uploaded under {prefix}; the upload rule "
            f"starts one execution each ({concurrency} in flight)"
        )
        return run_by_uploads(
            stack.s3,
            stack.sfn,
            arn,
            inputs,
            prefix=prefix,
            concurrency=concurrency,
            on_done=_progress(len(inputs)),
        )
    why = "an EXPRESS machine" if prefix else "no upload rule targets the machine"
    say(f"\n== run: {len(inputs)} executions started directly ({why}), one per test image")
    return stack.run_executions(
        inputs, name_prefix="demo", concurrency=concurrency, on_done=_progress(len(inputs))
    )


def _serve_console(stack, port: int) -> None:
    """`mlwf console` on the demo's own stack, until Ctrl-C; the stack stops after it."""
    from mlwf.console.command import serve
    from mlwf.offline_up import register_stack

    register_stack(stack)  # DescribeStacks answers it, as for `mlwf offline up`
    say("\n== console: the demo's stack stays up until Ctrl-C")
    serve(stack.spec.stack_name, port, region=stack.spec.region)


def _progress(total: int):
    from tqdm import tqdm

    # disable=None: a bar on a terminal, nothing in a log file or CI
    bar = tqdm(total=total, unit="execution", file=sys.stderr, disable=None, leave=False)

    def on_done(result) -> None:
        bar.update()
        if bar.n == total:
            bar.close()

    return on_done


def _calibrate(stack, settings, inputs) -> list[tuple[float, bool]]:
    """(confidence, correct) for each validation image sent straight to the endpoint."""
    endpoint = stack.client("ssm").get_parameter(Name=settings.parameter_name)["Parameter"]["Value"]
    runtime = stack.client("sagemaker-runtime")
    rows = []
    for item in inputs:
        body = stack.s3.get_object(Bucket=item.s3_bucket, Key=item.s3_key)["Body"].read()
        response = runtime.invoke_endpoint(
            EndpointName=endpoint,
            ContentType="image/png",
            Body=body,
            InferenceId=(CALIBRATION_ID + item.s3_key.rsplit("/", 1)[-1])[:64],
        )
        probabilities = json.loads(response["Body"].read())
        predicted = max(range(len(probabilities)), key=probabilities.__getitem__)
        rows.append((max(probabilities), predicted == item.true_label))
    say(f"  {len(rows)} validation images classified")
    return rows


def _download_capture(stack, settings, folder: Path) -> None:
    from training_job.stack import CAPTURE_PREFIX

    paginator = stack.s3.get_paginator("list_objects_v2")
    count = 0
    for page in paginator.paginate(Bucket=settings.bucket, Prefix=CAPTURE_PREFIX + "/"):
        for item in page.get("Contents", []):
            target = folder / item["Key"].removeprefix(CAPTURE_PREFIX + "/")
            target.parent.mkdir(parents=True, exist_ok=True)
            body = stack.s3.get_object(Bucket=settings.bucket, Key=item["Key"])["Body"].read()
            target.write_bytes(body)
            count += 1
    say(f"  {count} capture files in {folder}/")


def _monitor(out: Path, threshold: float, results, calibration, say) -> dict[str, Any]:
    from mlwf.capture import read_capture
    from mlwf.monitor import summarize
    from mlwf.plots.monitor import plot_all
    from mlwf.plots.sweep import plot_threshold_sweep
    from mlwf.threshold import choose_threshold, threshold_table, write_table

    read = read_capture(out / "data_capture")
    labels_by_id = {r.execution_name: r.true_label for r in results}
    records = [r for r in read.records if not (r.inference_id or "").startswith(CALIBRATION_ID)]
    labels = [labels_by_id.get(r.inference_id or "") for r in records]
    plots_dir = out / "plots"
    plots_dir.mkdir(parents=True, exist_ok=True)
    plots = plot_all(records, threshold, plots_dir, labels=labels)
    if not records:  # e.g. every endpoint call failed: nothing was captured to plot
        say("  no workflow traffic was captured: no monitor plots")
    monitor_summary = summarize(records, threshold, labels)
    (plots_dir / "summary.json").write_text(json.dumps(monitor_summary, indent=2) + "\n")

    rows = threshold_table([c for c, _ in calibration], [ok for _, ok in calibration])
    chosen = choose_threshold(rows, 0.97)
    write_table(rows, plots_dir / "thresholds.csv")
    plots.append(
        plot_threshold_sweep(
            rows, 0.97, plots_dir / "threshold_sweep.png", chosen=chosen, deployed=threshold
        )
    )
    for path in plots:
        say(f"  plot: {path}")
    if chosen is not None:
        say(
            f"  lowest threshold with >= 97% accuracy on the validation split: "
            f"{chosen.threshold:.2f} (coverage {chosen.coverage:.0%}); deployed: {threshold}"
        )
    return {
        "records": len(records),
        "target_accuracy": 0.97,
        "chosen_threshold": chosen.threshold if chosen else None,
        "deployed_threshold": threshold,
    }
