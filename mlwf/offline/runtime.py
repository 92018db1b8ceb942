"""The offline stack: template.yaml's resources in moto, its functions run in-process.

    with OfflineStack.start() as stack:
        arn = stack.state_machine_arn()
        execution = stack.sfn.start_execution(stateMachineArn=arn, input=...)
        stack.wait_for_execution(execution["executionArn"])

The bucket and the state machine are created in moto from the template the user deploys
(the definition file with its DefinitionSubstitutions, never a copy); `lambda:Invoke` runs
the real handlers and `sagemaker-runtime:InvokeEndpoint` is answered by `endpoints` (see
mlwf.offline.endpoint) through the bridge.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was

from mlwf.offline.bridge import Bridge, EndpointHandler
from mlwf.offline.endpoint import LocalEndpoints
from mlwf.offline.express import ExpressWorkflows
from mlwf.offline.faults import ENDPOINT, Fault
from mlwf.offline.functions import FunctionLog, LocalFunction, function_isolation
from mlwf.offline.template import ACCOUNT_ID, TemplateSpec, load_template
from mlwf.offline.trainer import LocalTrainer
from training_job.errors import MlwfError
from training_job.stack import PROJECT_ROOT

if TYPE_CHECKING:
    from mlwf.executions import ExecutionInput, ExecutionResult

DEFAULT_TEMPLATE = PROJECT_ROOT / "template.yaml"
TERMINAL_STATUSES = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
# Credentials moto accepts; set so that nothing offline can ever use the user's real ones.
OFFLINE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "offline",
    "AWS_SECRET_ACCESS_KEY": "offline",
    "AWS_SESSION_TOKEN": "offline",
}
# Variables that would send boto3 somewhere moto does not intercept.
UNSET_ENVIRONMENT = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE")


class _Endings:
    """Wakes whoever waits for executions as soon as one ends, instead of a polling grid."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._count = 0
        self._seen = threading.local()  # per waiting thread: the count it last returned at

    def ended(self) -> None:
        with self._changed:
            self._count += 1
            self._changed.notify_all()

    def wait(self, timeout: float) -> None:
        """Return once an execution has ended since this thread's last wait, or after
        `timeout` seconds. An end between two waits is never missed: it is counted."""
        with self._changed:
            self._changed.wait_for(lambda: self._count != getattr(self._seen, "count", 0), timeout)
            self._seen.count = self._count


@dataclass
class OfflineStack:
    spec: TemplateSpec
    functions: dict[str, LocalFunction] = field(default_factory=dict)
    bridge: Bridge = field(default_factory=Bridge)
    session: Any = None
    faults: list[Fault] = field(default_factory=list)
    endpoints: LocalEndpoints | None = None
    trainer: LocalTrainer | None = None
    endings: _Endings = field(default_factory=_Endings)  # told by moto's patch: start()
    _owns_heap: bool = False  # whether freeze_heap may freeze (see start())
    _running: ClassVar[bool] = False

    @classmethod
    @contextmanager
    def start(
        cls,
        template: Path | None = None,
        *,
        parameter_overrides: dict[str, str] | None = None,
        faults: list[str] | None = None,
        log_dir: Path | None = None,
        say: Callable[[str], None] = print,
        seed: int = 0,
        region: str = "us-east-1",
        stack_name: str = "offline",
    ) -> Iterator[OfflineStack]:
        """moto started, the template's resources created, the bridge installed."""
        from moto import mock_aws  # lazy: moto is slow to import

        # The interpreter logs every failed state at ERROR level; the same failure is in the
        # execution's history and result, which is where the offline mode reports it.
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)

        if cls._running:
            # moto's state is process-wide: a second stack would share and then reset it.
            raise MlwfError("an offline stack is already running in this process")
        spec = load_template(
            template or DEFAULT_TEMPLATE,
            parameter_overrides=parameter_overrides,
            stack_name=stack_name,
            region=region,
        )
        with ExitStack() as cleanup:
            cleanup.enter_context(_offline_environment(region))
            cleanup.enter_context(function_isolation())
            cleanup.enter_context(
                mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
            )
            cleanup.enter_context(_s3_url_table_loaded_once())
            cleanup.enter_context(_asl_parses_apart())
            import boto3  # lazy

            stack = cls(spec, session=boto3.Session(region_name=region))
            cleanup.enter_context(_execution_endings(stack.endings))
            for fault in faults or []:
                stack.inject(fault)
            stack.endpoints = LocalEndpoints(stack.session, seed=seed)
            stack.endpoints.server.start()  # boots while the model is staged and trained
            stack.trainer = LocalTrainer(stack.session, seed=seed, say=say)
            stack.bridge.account_id = ACCOUNT_ID
            stack.bridge.endpoint_resolver = stack._resolve_endpoint
            stack.bridge.on_training_job_created = stack.trainer
            stack.bridge.express = ExpressWorkflows(ACCOUNT_ID, region, stack.wait_for_executions)
            cleanup.enter_context(stack.bridge)
            stack._create_resources(log_dir)
            # The heap is the stack's to freeze only if nothing else froze part of it: gc's
            # permanent generation is one per process, and unfreeze empties all of it.
            stack._owns_heap = gc.get_freeze_count() == 0
            if stack._owns_heap:
                cleanup.callback(gc.unfreeze)
            stack.freeze_heap()
            cls._running = True
            try:
                yield stack
                stack.flush_capture()
            finally:
                cls._running = False
                stack.endpoints.close()
                for function in stack.functions.values():
                    function.log.close()

    # -- clients -------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        return self.session.client(service)

    @property
    def sfn(self) -> Any:
        return self.client("stepfunctions")

    @property
    def s3(self) -> Any:
        return self.client("s3")

    # -- resources -----------------------------------------------------------------------
    def bucket_name(self, logical_id: str | None = None) -> str:
        if logical_id is None:
            if len(self.spec.buckets) != 1:
                raise MlwfError("the template has no single bucket: name one")
            return next(iter(self.spec.buckets.values()))
        return self.spec.buckets[logical_id]

    def state_machine_arn(self, logical_id: str | None = None) -> str:
        machines = self.spec.state_machines
        if logical_id is None:
            logical_id = next(iter(machines))
        return machines[logical_id].arn

    def _create_resources(self, log_dir: Path | None) -> None:
        s3 = self.s3
        for bucket in self.spec.buckets.values():
            s3.create_bucket(Bucket=bucket)
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
        for logical_id, function_spec in self.spec.functions.items():
            log = FunctionLog(log_dir / f"{logical_id}.log" if log_dir else None)
            function = LocalFunction(function_spec, self.spec.region, log)
            self.functions[logical_id] = function
            self.bridge.functions[function_spec.name] = self._with_faults(function, logical_id)
        sfn = self.sfn
        role = f"arn:aws:iam::{ACCOUNT_ID}:role/{self.spec.stack_name}-states"
        for machine in self.spec.state_machines.values():
            sfn.create_state_machine(
                name=machine.name,
                definition=machine.definition,
                roleArn=role,
                type=machine.workflow_type,
            )

    def freeze_heap(self) -> None:
        """Put what is loaded now out of the cyclic garbage collector's reach until the stack
        stops: modules, AWS service models, moto's backends, the trained model.

        That is ~650,000 objects once a model is deployed, and Python's full collections
        walk all of them: ~450 ms each, several a minute with executions running. The
        workflow creates more long-lived objects than the echo floor, so it triggered
        more of them: 18 ms of collection per execution against 3.6 for the floor (16 in
        flight). Frozen, a full collection walks only what executions have added. Called
        when the stack starts and again once a model is deployed.
        """
        if self._owns_heap:
            gc.collect()  # garbage frozen now would only be freed when the stack stops
            gc.freeze()

    def flush_capture(self) -> None:
        """Write the capture records the endpoints still buffer, as SageMaker does in time."""
        if self.endpoints is not None:
            self.endpoints.flush()

    def inject(self, fault: str) -> Fault:
        """Make the endpoint or a function fail from now on, e.g. `endpoint:throttle:2`."""
        parsed = Fault.parse(fault, list(self.spec.functions))
        self.faults.append(parsed)
        return parsed

    def _with_faults(self, target: Callable[..., Any], target_id: str) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            for fault in self.faults:
                if fault.target == target_id:
                    fault.strike()
            return target(*args)

        return call

    def _resolve_endpoint(self, name: str) -> EndpointHandler | None:
        assert self.endpoints is not None
        handler = self.endpoints.resolve(name)
        if handler is None:
            return None  # unknown stays unknown: faults only strike real endpoints
        return self._with_faults(handler, ENDPOINT)

    # -- executions ----------------------------------------------------------------------
    def wait_for_executions(self, timeout: float) -> None:
        """Sleep until an execution ends (or `timeout` seconds): the offline stack's `sleep`
        for `mlwf.executions.run_executions`, which then sees each end when it happens
        rather than on a polling grid, and lists executions only when one has ended."""
        self.endings.wait(timeout)

    def run_executions(
        self, inputs: Sequence[ExecutionInput], **options: Any
    ) -> list[ExecutionResult]:
        """`mlwf.executions.run_executions` on the main state machine, woken by ends."""
        from mlwf.executions import run_executions

        options = {"sleep": self.wait_for_executions, "poll_interval": 1.0, **options}
        return run_executions(self.sfn, self.state_machine_arn(), inputs, **options)

    def wait_for_execution(self, execution_arn: str, *, timeout: float = 120.0) -> dict[str, Any]:
        """The execution's description once it has ended (moto runs it in a thread)."""
        sfn = self.sfn
        deadline = time.monotonic() + timeout
        while True:
            description = sfn.describe_execution(executionArn=execution_arn)
            if description["status"] in TERMINAL_STATUSES:
                return description
            if time.monotonic() > deadline:
                raise MlwfError(f"execution {execution_arn} did not end within {timeout:.0f} s")
            self.wait_for_executions(min(1.0, max(0.0, deadline - time.monotonic())))

    def run_execution(self, payload: dict[str, Any], name: str | None = None) -> dict[str, Any]:
        """Run one execution of the main state machine to its end: its description, or for
        EXPRESS (which AWS does not describe) StartSyncExecution's answer."""
        # moto names an unnamed execution "None"; AWS would generate a UUID.
        request = {
            "stateMachineArn": self.state_machine_arn(),
            "name": name or str(uuid.uuid4()),
            "input": json.dumps(payload),
        }
        if next(iter(self.spec.state_machines.values())).workflow_type == "EXPRESS":
            return dict(self.sfn.start_sync_execution(**request))
        started = self.sfn.start_execution(**request)
        return self.wait_for_execution(started["executionArn"])


@contextmanager
def _s3_url_table_loaded_once() -> Iterator[None]:
    """moto's S3 reloads its URL module twice per request, to follow changes of its
    environment variables (custom endpoints), which do not change while a stack runs.
    The reload reads files, and each read lets go of the GIL: with 4 executions in flight
    the serializer's 4 ms S3 read took 27 ms, and held its function meanwhile. Loaded once
    when the stack starts, moto routes every request exactly as it would have."""
    from importlib import reload

    import moto.s3.models
    import moto.s3.urls

    backend = moto.s3.models.S3Backend
    backend.__dict__["_url_module"]  # KeyError: moto changed; see the test
    loaded = reload(moto.s3.urls)
    with patch.object(backend, "_url_module", property(lambda self: loaded)):
        yield


@contextmanager
def _asl_parses_apart() -> Iterator[None]:
    """Each parse of a definition with a QueryLanguage scope stack of its own.

    moto's ASL Preprocessor keeps that stack in a class attribute: one list for every parse
    in the process. Each execution parses its definition in its own thread, so executions
    that start together push and pop each other's scopes. Checking the list and then
    reading its top, a parse can find it emptied in between by another one: IndexError,
    and the execution failed before its first state (before _execution_endings, it stayed
    RUNNING for ever). Seen twice in tens of thousands of benchmark executions; a test
    forces the interleaving.
    """
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    Preprocessor.__dict__["_query_language_per_scope"]  # KeyError: moto changed; see the test
    original_init = Preprocessor.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self._query_language_per_scope = []

    with patch.object(Preprocessor, "__init__", init):
        yield


@contextmanager
def _execution_endings(endings: _Endings) -> Iterator[None]:
    """Each execution's end reported to `endings`; one whose interpreter thread dies ends
    FAILED with States.Runtime, as an internal error ends one in AWS.

    moto runs each execution in a thread and sets its final status as the thread's last
    step. An unexpected exception before that (such as the parser race _asl_parses_apart
    removes) would leave the execution RUNNING for ever and its caller waiting. The
    exception's type and message become the execution's cause.

    At each end, moto's list of every thread its interpreter ever started (TMP_THREADS,
    appended to and never read) drops the finished ones: about half of the ~150 objects
    each execution left behind, which Python's full collections walk again and again.
    """
    from moto.stepfunctions.parser.api import ExecutionStatus, SyncExecutionStatus
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.parser.utils import TMP_THREADS

    original = ExecutionWorker.__dict__["_execution_logic"]  # KeyError: moto changed

    def execution_logic(worker: Any) -> None:
        try:
            original(worker)
        except Exception as exc:
            execution = getattr(worker._execution_communication, "execution", None)
            if execution is None or execution.exec_status != ExecutionStatus.RUNNING:
                raise
            # The whole traceback, for whoever diagnoses it; the cause keeps the gist.
            logging.getLogger(__name__).exception(
                "the offline interpreter failed in execution %s", execution.exec_arn
            )
            execution.error = "States.Runtime"
            execution.cause = f"the offline interpreter failed: {type(exc).__name__}: {exc}"
            execution.stop_date = datetime.now(UTC)
            execution.exec_status = ExecutionStatus.FAILED
            if hasattr(execution, "sync_execution_status"):  # StartSyncExecution's
                execution.sync_execution_status = SyncExecutionStatus.FAILED
        finally:
            # Not atomic: a thread appended meanwhile, or appended but not yet started, can
            # be dropped. Harmless while moto never reads the list (a test pins that).
            TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]
            endings.ended()

    with patch.object(ExecutionWorker, "_execution_logic", execution_logic):
        yield


@contextmanager
def _offline_environment(region: str) -> Iterator[None]:
    """os.environ with the offline credentials and region, restored afterwards."""
    values = {**OFFLINE_ENVIRONMENT, "AWS_REGION": region, "AWS_DEFAULT_REGION": region}
    saved = {name: os.environ.get(name) for name in (*values, *UNSET_ENVIRONMENT)}
    for name in UNSET_ENVIRONMENT:
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
