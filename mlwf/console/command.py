"""`mlwf console`: the Step Functions console and the monitoring view, as a local web page.

Serves on 127.0.0.1 (only) a page that reads the stack through AWS's APIs (Step Functions,
CloudWatch Logs, S3, CloudFormation): with AWS_ENDPOINT_URL set, the offline stack of
`mlwf offline up`; without it, the deployed stack with your credentials. It is read-only but
for "Start execution". Everything it shows is bundled: it works with no internet.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from mlwf.interrupts import stopped_by_ctrl_c_or_sigterm

DEFAULT_PORT = 8787


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "console",
        help="the state machines, executions and monitoring in a local web page",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port on 127.0.0.1")
    parser.add_argument("--stack-name", help="stack name (default: samconfig.toml's)")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION or your profile's)")
    parser.add_argument(
        "--labels",
        metavar="LST",
        help="a SageMaker .lst (local or s3://) of true labels: adds the reliability diagram",
    )
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.set_defaults(func=run)


def console_url(port: int = DEFAULT_PORT) -> str:
    return f"http://127.0.0.1:{port}/"


def run(args: argparse.Namespace) -> int:
    from training_job.stack import default_stack_name

    stack_name = args.stack_name or default_stack_name() or "image-classification-workflow"
    return serve(
        stack_name,
        args.port,
        region=args.region,
        labels=args.labels,
        open_browser=not args.no_browser,
    )


def serve(
    stack_name: str,
    port: int = DEFAULT_PORT,
    *,
    region: str | None = None,
    labels: str | None = None,
    open_browser: bool = False,
) -> int:
    """Serve the console for `stack_name` on 127.0.0.1:`port` until Ctrl-C (also what
    `mlwf demo --console` runs once its executions are done)."""
    from mlwf.console.api import Console
    from mlwf.console.aws import Aws, ConsoleError
    from mlwf.console.server import ConsoleServer
    from training_job.errors import MlwfError

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    console = Console(Aws(region), stack_name)
    try:
        server = ConsoleServer(console, port, labels=labels, say=say)
    except OSError as exc:
        console.close()
        raise MlwfError(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); pass --port"
        ) from None
    console.report = server.report
    url = server.url
    try:  # a first look, so the terminal says at once what the page will say
        found = console.stack()
        machines = ", ".join(m["name"] for m in found["state_machines"]) or "none"
        say(f"stack {stack_name!r} ({found['status']}): state machines {machines}")
    except ConsoleError as exc:
        server.report(exc.message)
    stopped_by_ctrl_c_or_sigterm()
    print(f"mlwf console: serving {url} (Ctrl-C stops it)", flush=True)
    if open_browser:
        import webbrowser

        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        say("mlwf console: stopped")
    finally:
        server.server_close()
        console.close()
    return 0
