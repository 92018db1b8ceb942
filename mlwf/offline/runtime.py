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
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from mlwf.executions import TERMINAL, ExecutionInput, ExecutionResult, run_executions
from mlwf.offline import service_resources, zygote
from mlwf.offline.bridge import Bridge, EndpointHandler
from mlwf.offline.cloudwatch_logs import LogGroupSink
from mlwf.offline.endpoint import LocalEndpoints
from mlwf.offline.express import ExpressWorkflows
from mlwf.offline.faults import ENDPOINT, Fault
from mlwf.offline.function_limits import ACCOUNT_CONCURRENCY
from mlwf.offline.function_records import record_functions
from mlwf.offline.functions import FunctionLog, LocalFunction
from mlwf.offline.iam import Authorizer, PolicyNotFound, enforced
from mlwf.offline.iam_roles import create_roles
from mlwf.offline.iam_tasks import managed_rules_checked, state_machines_as_their_roles
from mlwf.offline.moto_patches import Endings, execution_endings
from mlwf.offline.queue_attributes import create_queues
from mlwf.offline.resource_types import skipped_note
from mlwf.offline.rules import put_rules, step_functions_targets
from mlwf.offline.sagemaker_update import update_endpoint_answered
from mlwf.offline.server import serving
from mlwf.offline.services import services_as_aws
from mlwf.offline.step_functions import step_functions_as_aws
from mlwf.offline.template import load_template
from mlwf.offline.template_spec import ACCOUNT_ID, TemplateSpec
from mlwf.offline.trainer import LocalTrainer
from training_job.errors import MlwfError
from training_job.stack import PROJECT_ROOT

logger = logging.getLogger(__name__)
DEFAULT_TEMPLATE = PROJECT_ROOT / "template.yaml"
# Credentials moto accepts; set so that nothing offline can ever use the user's real ones.
OFFLINE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "offline",
    "AWS_SECRET_ACCESS_KEY": "offline",
    "AWS_SESSION_TOKEN": "offline",
}
# Variables that would send boto3 somewhere moto does not intercept.
UNSET_ENVIRONMENT = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE")


@dataclass
class OfflineStack:
    spec: TemplateSpec
    functions: dict[str, LocalFunction] = field(default_factory=dict)
    bridge: Bridge = field(default_factory=Bridge)
    session: Any = None
    faults: list[Fault] = field(default_factory=list)
    endpoints: LocalEndpoints | None = None
    trainer: LocalTrainer | None = None
    endings: Endings = field(default_factory=Endings)  # told by moto's patch: start()
    endpoint_url: str = ""  # the offline AWS over HTTP, for the functions' processes
    authorizer: Authorizer | None = None  # the stack's roles, enforced (mlwf.offline.iam)
    function_roles: bool = True  # whether functions run as their roles (see start())
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
        port: int | None = None,
        function_roles: bool = True,
    ) -> Iterator[OfflineStack]:
        """moto started, the template's resources created, the bridge installed.

        With `function_roles` False, the functions run with the caller's credentials, not
        their roles', as `sam local invoke` runs them (mlwf invoke)."""
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
        if spec.left_out:
            say(skipped_note(spec.left_out))
        with ExitStack() as cleanup:
            cleanup.enter_context(_offline_environment(region))
            cleanup.enter_context(
                mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
            )
            cleanup.enter_context(services_as_aws())
            cleanup.enter_context(step_functions_as_aws())  # before serving, which wraps some
            cleanup.enter_context(step_functions_targets())
            cleanup.enter_context(update_endpoint_answered())
            endpoint_url = cleanup.enter_context(serving(port))
            import boto3  # lazy

            stack = cls(spec, session=boto3.Session(region_name=region))
            stack.function_roles = function_roles
            try:
                stack.authorizer = cleanup.enter_context(enforced(Authorizer(spec)))
            except PolicyNotFound as exc:
                raise MlwfError(f"{spec.path.name}: {exc}") from None
            cleanup.enter_context(state_machines_as_their_roles(stack.authorizer))
            cleanup.enter_context(managed_rules_checked(stack.authorizer))
            cleanup.enter_context(execution_endings(stack.endings))
            for fault in faults or []:
                stack.inject(fault)
            stack.endpoints = LocalEndpoints(stack.session, seed=seed)
            stack.endpoints.server.start()  # boots while the model is staged and trained
            zygote.prepare(LocalFunction.base_environment())  # imports the SDK meanwhile too
            stack.trainer = LocalTrainer(stack.session, seed=seed)
            stack.bridge.account_id = ACCOUNT_ID
            stack.bridge.endpoint_resolver = stack._resolve_endpoint
            stack.bridge.on_training_job_created = stack.trainer
            stack.bridge.on_concurrency_changed = stack.reserve
            stack.bridge.region, stack.bridge.qualifiers = region, spec.function_qualifiers
            stack.bridge.log_tail = stack._log_tail
            stack.bridge.express = ExpressWorkflows(ACCOUNT_ID, region, stack.wait_for_executions)
            cleanup.enter_context(stack.bridge)
            stack.endpoint_url = endpoint_url
            stack._create_resources(log_dir)
            # The heap is the stack's to freeze only if nothing else froze part of it: gc's
            # permanent generation is one per process, and unfreeze empties all of it.
            stack._owns_heap = gc.get_freeze_count() == 0
            if stack._owns_heap:
                cleanup.callback(gc.unfreeze)
            # Not collected first: that full collection took ~0.3 s of every start, to free
            # ~1.7 MB (ANTLR's parse trees of the definitions, measured), kept until the stop.
            stack.freeze_heap(collect=False)
            cls._running = True
            try:
                yield stack
                stack.flush_capture()
            finally:
                cls._running = False
                stack.endpoints.close()
                for function in stack.functions.values():
                    function.close()  # its environments' processes, and its log

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
        from botocore.exceptions import ClientError

        create_roles(self.client("iam"), self.spec)
        s3 = self.s3
        for bucket in self.spec.buckets.values():
            s3.create_bucket(Bucket=bucket)
            if bucket in self.spec.event_bridge_buckets:
                s3.put_bucket_notification_configuration(
                    Bucket=bucket,
                    NotificationConfiguration={"EventBridgeConfiguration": {}},
                )
            # versioning (an overwrite keeps the old version), encryption, ...: as on AWS
            for operation, arguments in self.spec.bucket_calls.get(bucket, {}).items():
                getattr(s3, operation)(Bucket=bucket, **arguments)
        create_queues(self.client("sqs"), self.spec.queue_attributes)
        service_resources.create(self.client, self.spec.service_resources, _shown(self.spec.path))
        logs = self.client("logs")
        for group, retention in self.spec.log_groups.items():
            logs.create_log_group(logGroupName=group)
            if retention is not None:
                logs.put_retention_policy(logGroupName=group, retentionInDays=retention)
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
        for logical_id, function_spec in self.spec.functions.items():
            log = FunctionLog(
                log_dir / f"{logical_id}.log" if log_dir else None,
                sink=LogGroupSink(ACCOUNT_ID, self.spec.region, function_spec.log_group_name),
            )
            function = LocalFunction(
                function_spec,
                self.spec.region,
                log,
                endpoint_url=self.endpoint_url,
                credentials=self._credentials(function_spec.role_arn, function_spec.name),
            )
            self.functions[logical_id] = function
            self.bridge.functions[function_spec.name] = self._with_faults(function, logical_id)
        record_functions(self.client("lambda"), self.spec.functions.values(), self.spec.region)
        sfn = self.sfn
        for machine in self.spec.state_machines.values():
            try:
                configuration = {
                    "loggingConfiguration": machine.logging,
                    "tracingConfiguration": machine.tracing,
                }
                sfn.create_state_machine(
                    name=machine.name,
                    definition=machine.definition,
                    roleArn=machine.role_arn or self._fallback_role,
                    type=machine.workflow_type,
                    **{k: v for k, v in configuration.items() if v is not None},
                )
            except ClientError as exc:
                error = exc.response.get("Error", {})
                # the definition's file for its own refusal; the template for its properties'
                # (a logging level Step Functions does not have: ValidationException)
                definition = error.get("Code") == "InvalidDefinition"
                where = _shown(machine.definition_path if definition else self.spec.path)
                raise MlwfError(
                    f"{where} ({machine.logical_id}): CreateStateMachine refuses it: "
                    f"{'' if definition else error.get('Code', '') + ': '}"
                    f"{error.get('Message', '')}"
                ) from None
        put_rules(self.client("events"), self.spec.rules.values(), _shown(self.spec.path))

    def reserve(self, name: str, reserved: int | None) -> None:
        """A function's reserved concurrency, as Lambda's API set it, from now on."""
        for function in self.functions.values():
            if function.spec.name == name:
                function.reserve(reserved)

    def _log_tail(self, name: str, request_id: str) -> str:
        function = next(f for f in self.functions.values() if f.spec.name == name)
        return "\n".join(function.log.request_lines(request_id)) + "\n"

    @property
    def _fallback_role(self) -> str:  # a machine whose template names no role
        return f"arn:aws:iam::{ACCOUNT_ID}:role/{self.spec.stack_name}-states"

    def _credentials(self, role_arn: str, session: str) -> dict[str, str]:
        """The role's own credentials when the template defines it, so that IAM is
        enforced on the function's calls; the offline defaults otherwise."""
        if self.function_roles and self.authorizer and self.authorizer.governs(role_arn):
            return self.authorizer.credentials(role_arn, session)
        return OFFLINE_ENVIRONMENT

    def freeze_heap(self, *, collect: bool = True) -> None:
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
            if collect:
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
        options = {"sleep": self.wait_for_executions, "poll_interval": 1.0, **options}
        return run_executions(self.sfn, self.state_machine_arn(), inputs, **options)

    def wait_for_execution(self, execution_arn: str, *, timeout: float = 120.0) -> dict[str, Any]:
        """The execution's description once it has ended (moto runs it in a thread)."""
        sfn = self.sfn
        deadline = time.monotonic() + timeout
        while True:
            description = sfn.describe_execution(executionArn=execution_arn)
            if description["status"] in TERMINAL:
                return description
            if time.monotonic() > deadline:
                raise MlwfError(f"execution {execution_arn} did not end within {timeout:.0f} s")
            self.wait_for_executions(min(1.0, max(0.0, deadline - time.monotonic())))

    def run_execution(self, payload: dict[str, Any], name: str | None = None) -> dict[str, Any]:
        """Run one execution of the main state machine to its end: its description, or for
        EXPRESS (which AWS does not describe) StartSyncExecution's answer."""
        request = {"stateMachineArn": self.state_machine_arn(), "input": json.dumps(payload)}
        if name:  # else a UUID, as AWS names it (moto_patches.executions_started_as_aws)
            request["name"] = name
        if next(iter(self.spec.state_machines.values())).workflow_type == "EXPRESS":
            return dict(self.sfn.start_sync_execution(**request))
        started = self.sfn.start_execution(**request)
        return self.wait_for_execution(started["executionArn"])


def _shown(path: Path) -> str:
    """The path relative to the working folder when it is inside it, else as it is."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@contextmanager
def _offline_environment(region: str) -> Iterator[None]:
    """os.environ with the offline credentials and region, restored afterwards."""
    values = {**OFFLINE_ENVIRONMENT, "AWS_REGION": region, "AWS_DEFAULT_REGION": region}
    # moto's Lambda keeps 100 of this many unreserved (mlwf.offline.function_concurrency);
    # the stack's process only: a function's environment is Lambda's
    values["MOTO_LAMBDA_CONCURRENCY_QUOTA"] = str(ACCOUNT_CONCURRENCY)
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
