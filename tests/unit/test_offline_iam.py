"""The offline IAM decision (mlwf.offline.iam) and the moto internals it is hooked into."""

from __future__ import annotations

import inspect
import json

import pytest

from mlwf.offline import iam, iam_tasks
from mlwf.offline.template import load_template
from mlwf.offline.template_spec import ACCOUNT_ID, RoleSpec, TemplateSpec
from training_job.stack import PROJECT_ROOT

FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:offline-SerializeImageDataFunction"


@pytest.fixture(scope="module")
def spec() -> TemplateSpec:
    return load_template(PROJECT_ROOT / "template.yaml")


def principal(documents: list[dict]) -> iam.Principal:
    role = f"arn:aws:iam::{ACCOUNT_ID}:role/r"
    return iam.Principal(role, "s", tuple(json.dumps(d) for d in documents))


def allow(action: str, resource: str) -> dict:
    return {"Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}


def test_an_explicit_deny_wins_over_an_allow(spec):
    deny = {"Statement": [{"Effect": "Deny", "Action": "lambda:*", "Resource": "*"}]}
    who = principal([allow("lambda:InvokeFunction", "*"), deny])
    message = iam.Authorizer(spec).denial(who, "lambda:InvokeFunction", FUNCTION)
    assert message is not None and "with an explicit deny in an identity-based policy" in message


def test_no_allow_is_an_implicit_deny_in_aws_words(spec):
    who = principal([allow("lambda:InvokeFunction", FUNCTION + "-other")])
    message = iam.Authorizer(spec).denial(who, "lambda:InvokeFunction", FUNCTION)
    assert message == (
        f"User: arn:aws:sts::{ACCOUNT_ID}:assumed-role/r/s is not authorized to perform: "
        f"lambda:InvokeFunction on resource: {FUNCTION} because no identity-based policy "
        "allows the lambda:InvokeFunction action"
    )
    assert iam.Authorizer(spec).denial(who, "lambda:InvokeFunction", FUNCTION + "-other") is None


def test_the_template_roles_have_their_sam_generated_policies(spec):
    authorizer = iam.Authorizer(spec)
    machine = spec.state_machines["ImageClassificationStateMachine"]
    who = authorizer.role_principal(machine.role_arn, "x")
    assert who is not None
    for function in spec.functions.values():
        assert authorizer.denial(who, "lambda:InvokeFunction", function.arn) is None
    other = spec.functions["SerializeImageDataFunction"].arn.replace("Serialize", "Other")
    assert authorizer.denial(who, "lambda:InvokeFunction", other) is not None
    # AWS managed policies come from moto's copy of AWS's own
    serializer = authorizer.role_principal(
        spec.functions["SerializeImageDataFunction"].role_arn, "x"
    )
    assert serializer is not None
    assert authorizer.denial(serializer, "logs:PutLogEvents", None) is None
    assert authorizer.denial(serializer, "dynamodb:PutItem", None) is not None


def test_each_function_gets_credentials_of_its_own_role(spec):
    authorizer = iam.Authorizer(spec)
    functions = list(spec.functions.values())
    keys = {
        f.name: authorizer.credentials(f.role_arn, f.name)["AWS_ACCESS_KEY_ID"] for f in functions
    }
    assert len(set(keys.values())) == len(functions)
    for function in functions:
        who = authorizer.principal(keys[function.name])
        assert who is not None and who.role_arn == function.role_arn
    assert authorizer.principal("testing") is None  # the user's own keys are not governed


def test_an_unknown_managed_policy_is_named():
    spec = TemplateSpec(PROJECT_ROOT / "template.yaml", "s", "us-east-1", {})
    spec.roles["R"] = RoleSpec(
        "R", "r", "arn:aws:iam::1:role/r", {}, {}, ["arn:aws:iam::aws:policy/Nope"]
    )
    with pytest.raises(iam.PolicyNotFound, match="R: managed policy arn:aws:iam::aws:policy/Nope"):
        iam.Authorizer(spec)


# -- the moto internals the enforcement is hooked into -----------------------------------


def test_the_pinned_moto_authorizes_every_call_through_one_method():
    from moto.core.authorization import ActionAuthenticatorMixin

    method = ActionAuthenticatorMixin.__dict__["_authenticate_and_authorize_action"]
    assert list(inspect.signature(method).parameters) == ["self", "iam_request_cls", "resource"]
    source = inspect.getsource(ActionAuthenticatorMixin)
    assert "self._authenticate_and_authorize_action(IAMRequest, resource)" in source
    assert "self._authenticate_and_authorize_action(S3IAMRequest, resource)" in source


def test_the_pinned_moto_makes_task_clients_in_the_modules_iam_tasks_patches():
    # Each module of moto's interpreter that makes a task's client imports boto_client_for
    # by name: iam_tasks patches it in each, and a module moto adds would go unchecked
    import importlib
    import pkgutil

    from moto.stepfunctions.parser.asl.component.state.exec import state_task
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_lambda,
    )

    found = set()
    for info in pkgutil.walk_packages(state_task.__path__, state_task.__name__ + "."):
        module = importlib.import_module(info.name)
        if "boto_client_for" in vars(module):
            found.add(info.name)
    assert found == set(iam_tasks.TASK_MODULES)
    task = state_task_service_lambda.StateTaskServiceLambda
    assert isinstance(task.__dict__["_error_cause_from_client_error"], staticmethod)


def test_access_denied_is_not_a_modelled_invoke_error_but_throttling_is():
    modelled = iam_tasks.invoke_modelled_errors()
    assert "AccessDeniedException" not in modelled
    assert {"TooManyRequestsException", "ResourceNotFoundException"} <= modelled


def test_the_resource_of_a_parameter_read_is_its_arn():
    body = json.dumps({"Name": "/image-classification/endpoint-name"})
    assert iam.resource_for("ssm", "GetParameter", body, "eu-west-1") == (
        f"arn:aws:ssm:eu-west-1:{ACCOUNT_ID}:parameter/image-classification/endpoint-name"
    )
    assert iam.resource_for("dynamodb", "PutItem", "{}", "eu-west-1") is None


def test_the_resource_of_each_task_call_is_its_arn():
    region = "eu-west-1"
    where = f"{region}:{ACCOUNT_ID}"
    url = f"https://sqs.{region}.amazonaws.com/{ACCOUNT_ID}/uploads-dlq"
    assert iam_tasks.task_resource("sqs", "SendMessage", {"QueueUrl": url}, region) == (
        f"arn:aws:sqs:{where}:uploads-dlq"
    )
    assert iam_tasks.task_resource("dynamodb", "PutItem", {"TableName": "t"}, region) == (
        f"arn:aws:dynamodb:{where}:table/t"
    )
    topic = f"arn:aws:sns:{where}:alerts"
    assert iam_tasks.task_resource("sns", "Publish", {"TopicArn": topic}, region) == topic
    assert iam_tasks.task_resource("lambda", "Invoke", {"FunctionName": "f"}, region) == (
        f"arn:aws:lambda:{where}:function:f"
    )
    assert iam_tasks.task_resource("events", "PutEvents", {"Entries": []}, region) is None


def test_each_service_denies_in_its_own_words():
    # SNS's AuthorizationError is 403 (API_Publish.html); the JSON services' 400
    assert iam.denial_error("sns") == (403, "AuthorizationError")
    assert iam.denial_error("dynamodb") == (400, "AccessDeniedException")


def test_the_resource_of_a_query_protocol_call_is_read_from_its_form():
    # SNS's requests are forms over HTTP (moto's server keeps the body)
    topic = f"arn:aws:sns:eu-west-1:{ACCOUNT_ID}:alerts"
    body = f"Action=Publish&TopicArn={topic.replace(':', '%3A')}&Message=m"
    assert iam.resource_for("sns", "Publish", body, "eu-west-1") == topic


def test_calls_are_checked_on_their_iam_actions_and_others_are_not_checked():
    # Lambda's Invoke and the batch operations are authorized on other names
    assert iam.iam_action("lambda", "Invoke") == "lambda:InvokeFunction"
    assert iam.iam_action("sqs", "SendMessageBatch") == "sqs:SendMessage"
    assert iam.iam_action("sns", "PublishBatch") == "sns:Publish"
    assert iam.iam_action("dynamodb", "PutItem") == "dynamodb:PutItem"
    # CloudWatch signs as `monitoring`, GetCallerIdentity needs no permission, a transaction
    # is authorized item by item: none checked, as a false denial fails what AWS runs
    assert iam.iam_action("monitoring", "PutMetricData") is None
    assert iam.iam_action("sts", "GetCallerIdentity") is None
    assert iam.iam_action("dynamodb", "TransactWriteItems") is None


def test_the_resource_of_a_table_given_by_arn_of_an_index_and_of_a_queue_elsewhere():
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT_ID}:table/results"
    # a table's ARN stands for its name (it was read as a name: table/arn:aws:...)
    assert iam.resource_for("dynamodb", "PutItem", {"TableName": table}, "us-east-1") == table
    # a Query of an index is authorized on the index
    query = {"TableName": "results", "IndexName": "by-key"}
    assert iam.resource_for("dynamodb", "Query", query, "us-east-1") == f"{table}/index/by-key"
    # a queue's URL names its own account and region
    url = "https://sqs.eu-west-1.amazonaws.com/111122223333/work"
    assert iam.resource_for("sqs", "SendMessage", {"QueueUrl": url}, "us-east-1") == (
        "arn:aws:sqs:eu-west-1:111122223333:work"
    )


def test_the_pinned_moto_creates_and_updates_machines_with_these_arguments():
    # mlwf.offline.iam_tasks.managed_rules_checked reads them by keyword or by position
    import inspect

    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    create = list(inspect.signature(StepFunctionsParserBackend.create_state_machine).parameters)
    update = list(inspect.signature(StepFunctionsParserBackend.update_state_machine).parameters)
    assert create[:4] == ["self", "name", "definition", "roleArn"]
    assert update[:4] == ["self", "arn", "definition", "role_arn"]


def test_only_a_sync_child_execution_step_needs_the_managed_rule():
    import json

    from mlwf.offline.iam_tasks import needs_managed_rule

    def machine(resource: str, comment: str = "") -> str:
        task = {"Type": "Task", "Resource": resource, "End": True}
        inner = {"StartAt": "T", "States": {"T": task}}
        parallel = {"Type": "Parallel", "Branches": [inner], "End": True}
        return json.dumps({"Comment": comment, "StartAt": "P", "States": {"P": parallel}})

    assert needs_managed_rule(machine("arn:aws:states:::states:startExecution.sync"))
    assert needs_managed_rule(machine("arn:aws:states:::states:startExecution.sync:2"))
    assert needs_managed_rule(
        machine("arn:aws:states:us-east-1:123456789012:states:startExecution.sync")
    )
    assert not needs_managed_rule(machine("arn:aws:states:::states:startExecution"))
    assert not needs_managed_rule(
        machine("arn:aws:states:::states:startExecution.waitForTaskToken")
    )
    # a comment naming one is no step
    comment = "runs arn:aws:states:::states:startExecution.sync:2 later"
    assert not needs_managed_rule(machine("arn:aws:states:::lambda:invoke", comment))
    assert not needs_managed_rule("not json")
