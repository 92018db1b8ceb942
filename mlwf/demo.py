"""`mlwf demo`: the whole workflow offline, from data to monitoring plots.

The real template, state machine definition and handlers run under moto with a local model
behind the endpoint; staging, training and deployment go through the same training_job
code as in AWS. Outputs land in --out: results.json, the captured data, each function's
log (the offline `sam logs`), the monitoring plots and the threshold table.

With AWS_ENDPOINT_URL set, the demo runs on that offline stack (`mlwf offline up`) instead
of starting one: on its staged data and deployed model, through its AWS APIs only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlwf.offline.options import add_parameter_overrides, parse_parameter_overrides
from training_job.argtypes import positive_int

if TYPE_CHECKING:
    from mlwf.executions import ExecutionResult

DEFAULT_OUT = Path("demo-output")
# What a demo writes in --out, replaced on the next run; and the file that says mlwf wrote
# them. Without it, a folder that holds any of these is the user's and is left alone.
OUTPUTS = ("results.json", "logs", "data_capture", "plots", "dataset")
# A demo on a running stack uses that stack's staged data: it writes no dataset/, and so
# leaves an earlier demo's (which the README's upload example reads) where it is
RUNNING_STACK_OUTPUTS = tuple(name for name in OUTPUTS if name != "dataset")
OUT_MARKER = ".mlwf-demo"
# How long the demo waits for a running stack's capture files (offline up writes them
# every 5 s; mlwf.offline_up.CAPTURE_FLUSH_SECONDS).
CAPTURE_WAIT_SECONDS = 60.0
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
        help="auto (the default: CIFAR-100 when cached or downloadable, else synthetic), "
        "synthetic, cifar100, or a staged DIR (train/, test/, train.lst, test.lst)",
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
    parser.add_argument(
        "--stack-name",
        help="with AWS_ENDPOINT_URL: the running offline stack's name (default: samconfig.toml's)",
    )
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
    from training_job.local_endpoint import check_local_endpoint

    started = time.perf_counter()
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        refuse_own_stack_options(args, endpoint)
        check_local_endpoint()  # before --out is touched
    elif args.stack_name:
        raise MlwfError(
            "--stack-name names the running offline stack to use: set AWS_ENDPOINT_URL to it "
            "(without it, the demo starts a stack of its own)"
        )
    overrides = parse_parameter_overrides(args.parameter_overrides)
    if args.threshold is not None:
        if not 0.5 <= args.threshold <= 1.0:
            raise MlwfError("--threshold must be within [0.5, 1.0], as ConfidenceThreshold")
        overrides["ConfidenceThreshold"] = str(args.threshold)
    out: Path = args.out
    prepare_out(out, RUNNING_STACK_OUTPUTS if endpoint else OUTPUTS)
    if endpoint:
        report = demo_on_running_stack(
            endpoint=endpoint,
            stack_name=args.stack_name,
            count=args.count,
            out=out,
            seed=args.seed,
            concurrency=args.concurrency,
            console_port=args.console,
        )
    else:
        report = demo(
            data=args.data or "auto",
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


def refuse_own_stack_options(args: argparse.Namespace, endpoint: str) -> None:
    """The options that shape a stack the demo starts have no say over a running one."""
    from training_job.errors import MlwfError

    given = [
        flag
        for flag, value in (
            ("--data", args.data),
            ("--template", args.template),
            ("--parameter-overrides", args.parameter_overrides),
            ("--threshold", args.threshold),
            ("--fault", args.fault),
        )
        if value
    ]
    if given:
        raise MlwfError(
            f"{given[0]} shapes a stack the demo starts; AWS_ENDPOINT_URL ({endpoint}) points "
            f"at a running one, with its own data, model and parameters: unset it, or drop "
            f"{given[0]}"
        )


def prepare_out(out: Path, replaces: tuple[str, ...] = OUTPUTS) -> None:
    """--out made ready for a run that writes `replaces`: the previous demo's of those
    removed, and only when a demo wrote them (its marker is there); a folder holding
    anything else of those names is refused, never emptied."""
    from training_job.errors import MlwfError

    if out.exists() and not out.is_dir():
        raise MlwfError(f"--out {out} is a file")
    present = [name for name in replaces if (out / name).exists()]
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
    """The demo on a stack of its own: started, staged, trained and deployed here."""
    from mlwf.demo_steps import Clients, download_capture, run_steps
    from mlwf.offline.faults import Fault
    from mlwf.offline.runtime import OfflineStack
    from mlwf.offline.workflow import choose_source, deploy_model

    source = choose_source(data, say)
    with OfflineStack.start(
        template,
        parameter_overrides=parameter_overrides,
        log_dir=out / "logs",
        say=say,
        seed=seed,
    ) as stack:
        # Checked now, armed just before the executions: they are for the workflow, not
        # for the calibration requests the demo sends the endpoint itself.
        armed = [Fault.parse(f, list(stack.spec.functions)) for f in faults]
        say("\n== stage, train, deploy (training_job code, local compute)")
        deployment = deploy_model(stack, source, seed=seed, work_dir=out / "dataset", say=say)
        clients = Clients(
            s3=stack.s3,
            sfn=stack.sfn,
            ssm=stack.client("ssm"),
            runtime=stack.client("sagemaker-runtime"),
            events=stack.client("events"),
        )

        def arm_faults() -> None:
            for fault in armed:
                stack.faults.append(fault)
                say(f"fault injected: {fault}")

        def fetch_capture(results: list[ExecutionResult]) -> None:
            stack.flush_capture()
            bucket = str(deployment.settings.bucket)
            count = download_capture(stack.s3, bucket, out / "data_capture")
            say(f"  {count} capture files in {out / 'data_capture'}/")

        report = run_steps(
            say,
            clients,
            deployment.settings,
            out=out,
            count=count,
            seed=seed,
            concurrency=concurrency,
            run_directly=stack.run_executions,
            before_run=arm_faults,
            fetch_capture=fetch_capture,
        )
        report["summary"]["data"] = source
        report["summary"]["validation_accuracy"] = deployment.training.validation_accuracy
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


def demo_on_running_stack(
    *,
    endpoint: str,
    stack_name: str | None,
    count: int | None,
    out: Path,
    seed: int,
    concurrency: int,
    console_port: int | None = None,
) -> dict[str, Any]:
    """The demo on the stack AWS_ENDPOINT_URL points at (`mlwf offline up`), through its
    AWS APIs only: its staged data and deployed model, as that stack has them."""
    from argparse import Namespace

    from mlwf.demo_steps import Clients, run_steps, wait_for_capture, write_function_logs
    from mlwf.executions import run_executions, sync_client_config
    from training_job.stack import aws_session, resolve

    settings = resolve(
        Namespace(stack_name=stack_name),
        "bucket",
        "state_machine_arn",
        "parameter_name",
        "threshold",
    )
    say(
        f"== the running stack {settings.stack_name} at {endpoint}: its staged data and "
        "deployed model (as `mlwf offline up` made them; `mlwf stage/train/deploy` change them)"
    )
    session = aws_session(settings)
    clients = Clients(
        s3=session.client("s3"),
        # An EXPRESS machine's executions are run with StartSyncExecution: its settings.
        sfn=session.client("stepfunctions", config=sync_client_config()),
        ssm=session.client("ssm"),
        runtime=session.client("sagemaker-runtime"),
        events=session.client("events"),
    )
    since_ms = int(time.time() * 1000)

    def run_directly(inputs: Any, **options: Any) -> list[ExecutionResult]:
        return run_executions(clients.sfn, str(settings.state_machine_arn), inputs, **options)

    def fetch_capture(results: list[ExecutionResult]) -> None:
        # The ids of the executions that reached the endpoint: the ones it captured.
        expected = {r.execution_name for r in results if r.inferences}
        say(f"  waiting for the capture files of {len(expected)} inferences")
        files = wait_for_capture(
            clients.s3,
            str(settings.bucket),
            out / "data_capture",
            expected,
            timeout=CAPTURE_WAIT_SECONDS,
            say=say,
        )
        say(f"  {files} capture files in {out / 'data_capture'}/")

    report = run_steps(
        say,
        clients,
        settings,
        out=out,
        count=count,
        seed=seed,
        concurrency=concurrency,
        run_directly=run_directly,
        fetch_capture=fetch_capture,
    )
    logged = write_function_logs(session.client("logs"), settings.outputs, out / "logs", since_ms)
    say(f"  {logged} function logs (this run's lines) in {out / 'logs'}/")
    report["summary"]["stack"] = settings.stack_name
    (out / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    if console_port is None:
        say(
            "\nSee these executions as the Step Functions console shows them: "
            f"`mlwf console` (then http://127.0.0.1:{CONSOLE_PORT}/)"
        )
    else:
        from mlwf.console.command import serve

        say("\n== console: on the running stack, until Ctrl-C")
        serve(str(settings.stack_name), console_port, region=settings.region)
    return report


def _serve_console(stack, port: int) -> None:
    """`mlwf console` on the demo's own stack, until Ctrl-C; the stack stops after it."""
    from mlwf.console.command import serve
    from mlwf.offline.stack_record import register_stack

    register_stack(stack)  # DescribeStacks answers it, as for `mlwf offline up`
    say("\n== console: the demo's stack stays up until Ctrl-C")
    serve(stack.spec.stack_name, port, region=stack.spec.region)
