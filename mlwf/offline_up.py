"""`mlwf offline up`: the offline stack as a local AWS endpoint, until Ctrl-C.

Deploys template.yaml (under the stack name samconfig.toml gives), stages and trains the
local model, deploys the endpoint and writes its SSM parameter, then serves the stack on
127.0.0.1 as an AWS endpoint: point AWS_ENDPOINT_URL at it, and the AWS CLI, your scripts,
`mlwf run`/`batch`/`monitor`/`threshold` and `AWS_SAM_STACK_NAME=... make integration` work
against it as against a deployed stack. CloudFormation's DescribeStacks answers the stack's
outputs and parameters, and ListStackResources its resources, as mlwf, the tests and
`sam logs -n <LogicalId>` read them on AWS.
"""

from __future__ import annotations

import argparse
import sys
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from mlwf.interrupts import stopped_by_ctrl_c_or_sigterm
from mlwf.offline.options import add_parameter_overrides, parse_parameter_overrides

DEFAULT_PORT = 4566  # the field's convention for a local AWS endpoint (LocalStack's)
# SageMaker writes capture files some minutes after the requests
# (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture.html); offline
# does it sooner, so that `mlwf monitor` right after `mlwf run` has something to read.
CAPTURE_FLUSH_SECONDS = 5.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "offline",
        help="serve the offline stack as a local AWS endpoint (offline up)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = actions.add_parser(
        "up",
        help="start the offline stack and serve it until Ctrl-C",
        description="Deploy template.yaml offline, stage and train the local model, deploy "
        "its endpoint, and serve the stack as a local AWS endpoint on 127.0.0.1 until Ctrl-C "
        "or SIGTERM (its state goes with it). It prints the variables to export in another "
        "shell.",
    )
    up.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port on 127.0.0.1 (default: {DEFAULT_PORT})",
    )
    up.add_argument(
        "--data", default="synthetic", help="the data to stage, as mlwf demo (default: synthetic)"
    )
    up.add_argument("--stack-name", help="stack name (default: samconfig.toml's)")
    up.add_argument(
        "--template",
        type=Path,
        help="template to serve, its definitions and functions beside it (default: the "
        "project's template.yaml): to try an edited copy before changing the project's",
    )
    up.add_argument(
        "--seed", type=int, default=0, help="seed of data, split and model (default: 0)"
    )
    add_parameter_overrides(up)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mlwf.offline.runtime import OfflineStack
    from mlwf.offline.server import check_free
    from mlwf.offline.stack_record import deletes_refused, register_stack
    from mlwf.offline.workflow import choose_source, deploy_model
    from training_job.stack import default_stack_name

    overrides = parse_parameter_overrides(args.parameter_overrides)
    stack_name = args.stack_name or default_stack_name() or "image-classification-workflow"

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    stopped_by_ctrl_c_or_sigterm()
    # A port in use is refused before anything starts (it was refused ~14 s in, when the
    # stack began to serve); serving() checks it again, for a stack started meanwhile.
    check_free(args.port)
    source = choose_source(args.data, say)
    with (
        OfflineStack.start(
            args.template,
            parameter_overrides=overrides,
            say=say,
            seed=args.seed,
            stack_name=stack_name,
            port=args.port,
        ) as stack,
        ExitStack() as held,
    ):
        deploy_model(stack, source, seed=args.seed, say=say)
        register_stack(stack)
        held.enter_context(deletes_refused(stack_name))  # `sam delete`: stop the stack instead
        region = stack.spec.region
        stopped = threading.Event()
        try:  # from before the ready line: a Ctrl-C right after it still stops cleanly
            print(
                f"\nThe offline stack {stack_name!r} is up. In another shell:\n\n"
                f"export AWS_ENDPOINT_URL={stack.endpoint_url} AWS_REGION={region} "
                f"AWS_DEFAULT_REGION={region} "
                "AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline "
                "AWS_DISABLE_HOST_PREFIX_INJECTION=true\n"
                "source .venv/bin/activate   # in the project folder: mlwf, sam and aws\n"
                "mlwf run --count 5\n"
                f"aws s3 ls s3://{stack.bucket_name()}/\n"
                f"AWS_SAM_STACK_NAME={stack_name} make integration\n"
                f"mlwf console --stack-name {stack_name}   "
                "# the executions and monitoring in a browser: http://127.0.0.1:8787/\n\n"
                "Ctrl-C stops it (its state goes with it).",
                flush=True,
            )
            # Until Ctrl-C; meanwhile the endpoint's buffered capture records are written out
            # as SageMaker writes them, some time after the requests (mlwf monitor reads them).
            while not stopped.wait(CAPTURE_FLUSH_SECONDS):
                stack.flush_capture()
        except KeyboardInterrupt:
            say("stopping the offline stack")
    return 0
