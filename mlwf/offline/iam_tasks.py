"""A state machine's tasks call their services as the machine's role, and a call the role
may not make fails as Step Functions reports it.

Only Lambda tasks were checked: moto's interpreter makes every other task's client with
fixed test credentials, so a `sns:publish`, `dynamodb:putItem`, `sqs:sendMessage` or
`aws-sdk:*` task passed offline with no policy for it, where AWS fails it ("Step Functions
... uses the execution role ... to call other AWS services", https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html).
Each task client is now checked before its call, on the action and the resource the call
names (the topic, queue, table, parameter, state machine or function), with moto's policy
evaluator (mlwf.offline.iam). A denial is answered in the service's words
(iam.denial_error: SNS's `AuthorizationError`, the others' `AccessDeniedException`). moto's
interpreter then names the task's error as Step Functions does (`SNS.AuthorizationErrorException`,
`Ssm.AccessDeniedException` for an AWS SDK task); Lambda's denial is `Lambda.AWSLambdaException`,
as AccessDeniedException is not one of Invoke's modelled errors
(https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html).

Not checked (iam.iam_action): services whose operations are not named as their IAM actions
(S3's ListObjectsV2 is s3:ListBucket), DynamoDB's transactions and PartiQL, and a
Distributed Map's ItemReader and ResultWriter, which moto makes apart.

A machine with a `states:startExecution.sync` (or `.sync:2`) step needs more of its role
when it is created: Step Functions follows the child through an EventBridge rule it manages,
`StepFunctionsGetEventsForStepFunctionsExecutionRule`, which the role must be allowed to
`events:PutTargets`, `events:PutRule` and `events:DescribeRule`
(https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html). Without them
CreateStateMachine and UpdateStateMachine fail with AccessDeniedException, "'<role ARN>' is
not authorized to create managed-rule." (AWS's answer as quoted in nasa/cumulus#2693 and
aws-ia/terraform-aws-control_tower_account_factory#365); moto created it, and it ran.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was

from mlwf.offline.iam import Authorizer, Principal, denial_error, iam_action, resource_for
from mlwf.offline.sdk_metadata import record_answers
from mlwf.offline.template_spec import ACCOUNT_ID, PARTITION

_SERVICE = "moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
# The modules whose tasks make their clients with moto's boto_client_for (each imports it by
# name, so each is patched): tests/unit/test_offline_iam.py fails when moto adds one
TASK_MODULES = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    *(
        f"{_SERVICE}.state_task_service_{name}"
        for name in ("aws_sdk", "batch", "dynamodb", "ecs", "events", "glue", "sfn", "sns", "sqs")
    ),
    f"{_SERVICE}.state_task_service_unsupported",
)


def task_resource(service: str, operation: str, params: dict[str, Any], region: str) -> str | None:
    """The ARN a task's call acts on; None when it is not worked out (mlwf.offline.iam)."""
    if service == "lambda" and "FunctionName" in params:
        name = str(params["FunctionName"])
        return (
            name
            if name.startswith("arn:")
            else f"arn:{PARTITION}:lambda:{region}:{ACCOUNT_ID}:function:{name}"
        )
    return resource_for(service, operation, params, region)


@contextmanager
def state_machines_as_their_roles(authorizer: Authorizer) -> Iterator[None]:
    """Each task client a state machine makes checks its calls against the machine's role."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_lambda as service_lambda,
    )

    from mlwf.offline import bridge

    task = service_lambda.StateTaskServiceLambda
    error_cause = task.__dict__["_error_cause_from_client_error"].__func__  # KeyError: see test
    modules = [importlib.import_module(name) for name in TASK_MODULES]
    make_client = modules[0].boto_client_for  # AttributeError: moto changed; see the test

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        client = make_client(region=region, service=service, state_credentials=state_credentials)
        record_answers(client)  # for the metadata AWS adds to the task's result
        principal = authorizer.role_principal(
            str(getattr(state_credentials, "role_arn", "")), "offline-execution"
        )
        signing = client.meta.service_model.signing_name
        if principal is None or signing == "s3" or iam_action(signing, None) is None:
            # a task's S3 call names its operation (ListObjectsV2), not the action (ListBucket)
            return client

        def check(params: dict[str, Any], model: Any, **_: Any) -> None:
            # Before the request is built, where no handler answers the call yet (the
            # bridge answers Lambda's Invoke at before-call): raised as botocore raises an
            # error answer, its modelled class when the service declares the code
            message = _denial(principal, signing, model.name, params, region)
            if message is None:
                return
            status, code = denial_error(signing)
            answer = bridge.error_response(status, code, message)[1]
            raise client.exceptions.from_code(code)(answer, model.name)

        client.meta.events.register_first("before-parameter-build", check)
        return client

    def _denial(
        principal: Principal, service: str, operation: str, params: dict[str, Any], region: str
    ) -> str | None:
        action = iam_action(service, operation)
        if action is None:
            return None
        return authorizer.denial(
            principal, action, task_resource(service, operation, params, region)
        )

    def error_cause_from(client_error: Any) -> tuple[str, str]:
        error, cause = error_cause(client_error)
        code = client_error.response["Error"]["Code"]
        if code not in invoke_modelled_errors():
            error = "Lambda.AWSLambdaException"
        return error, cause

    with ExitStack() as stack:
        for module in modules:
            stack.enter_context(patch.object(module, "boto_client_for", client_for))
        stack.enter_context(
            patch.object(task, "_error_cause_from_client_error", staticmethod(error_cause_from))
        )
        yield


MANAGED_RULE = "StepFunctionsGetEventsForStepFunctionsExecutionRule"
MANAGED_RULE_ACTIONS = ("events:PutTargets", "events:PutRule", "events:DescribeRule")


def needs_managed_rule(definition: str) -> bool:
    """Whether a definition has a Task that runs a child execution to its end (.sync), in
    any branch or item processor (a Comment or a Pass's Result naming one does not count).
    Checked before the definition's own checks: AWS's order is not recorded."""
    from mlwf.offline.definition_fields import state_languages
    from mlwf.offline.definition_resources import optimized_operation

    try:
        document = json.loads(definition)
    except ValueError:
        return False  # InvalidDefinition, the definition checks' to report
    if not isinstance(document, dict):
        return False
    for state, _, _ in state_languages(document):
        resource = state.get("Resource") if state.get("Type") == "Task" else None
        call = optimized_operation(resource) if isinstance(resource, str) else None
        if call is not None and call[:2] == ("stepfunctions", "StartExecution"):
            if call[2] in ("sync", "sync:2"):
                return True
    return False


def managed_rule_denial(authorizer: Authorizer, role_arn: str, region: str) -> str | None:
    """AWS's message when a machine of that role may not create its managed rule."""
    principal = authorizer.role_principal(role_arn, "offline-execution")
    if principal is None:
        return None
    rule = f"arn:{PARTITION}:events:{region}:{ACCOUNT_ID}:rule/{MANAGED_RULE}"
    if all(authorizer.denial(principal, action, rule) is None for action in MANAGED_RULE_ACTIONS):
        return None
    return f"'{role_arn}' is not authorized to create managed-rule."


@contextmanager
def managed_rules_checked(authorizer: Authorizer) -> Iterator[None]:
    """CreateStateMachine and UpdateStateMachine refusing a `.sync` child execution step
    whose role may not create Step Functions' managed rule."""
    from moto.core.exceptions import AWSError
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend as Backend

    Backend.__dict__["create_state_machine"]  # KeyError: moto changed; see the test
    create, update = Backend.create_state_machine, Backend.update_state_machine  # as patched

    def refused(role_arn: Any, definition: Any, region: str) -> None:
        if isinstance(definition, str) and needs_managed_rule(definition):
            message = managed_rule_denial(authorizer, str(role_arn), region)
            if message is not None:
                raise AWSError(message, "AccessDeniedException", 400)

    # moto's (name, definition, roleArn, ...) and (arn, definition, role_arn, ...), by
    # keyword or by position (pinned by tests/unit/test_offline_iam.py)
    def create_checked(self: Any, *a: Any, **kw: Any) -> Any:
        definition = kw.get("definition", a[1] if len(a) > 1 else None)
        refused(kw.get("roleArn", a[2] if len(a) > 2 else None), definition, self.region_name)
        return create(self, *a, **kw)

    def update_checked(self: Any, *a: Any, **kw: Any) -> Any:
        machine = self.describe_state_machine(kw.get("arn", a[0] if a else None))
        definition = kw.get("definition", a[1] if len(a) > 1 else None) or machine.definition
        role_arn = kw.get("role_arn", a[2] if len(a) > 2 else None) or machine.roleArn
        refused(role_arn, definition, self.region_name)
        return update(self, *a, **kw)

    with (
        patch.object(Backend, "create_state_machine", create_checked),
        patch.object(Backend, "update_state_machine", update_checked),
    ):
        yield


@functools.cache
def invoke_modelled_errors() -> frozenset[str]:
    """The error codes Lambda's Invoke declares, from botocore's model of the API."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("lambda")
    return frozenset(shape.name for shape in model.operation_model("Invoke").error_shapes)
