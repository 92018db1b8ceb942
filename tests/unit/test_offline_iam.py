"""The offline IAM decision (mlwf.offline.iam) and the moto internals it is hooked into."""

from __future__ import annotations

import inspect
import json

import pytest

from mlwf.offline import iam
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


def test_the_pinned_moto_makes_lambda_task_clients_in_one_place():
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_lambda,
    )

    source = inspect.getsource(lambda_eval_utils)
    assert source.count("boto_client_for(") == 2  # both Lambda invocations, patched as one
    task = state_task_service_lambda.StateTaskServiceLambda
    assert isinstance(task.__dict__["_error_cause_from_client_error"], staticmethod)


def test_access_denied_is_not_a_modelled_invoke_error_but_throttling_is():
    modelled = iam._invoke_modelled_errors()
    assert "AccessDeniedException" not in modelled
    assert {"TooManyRequestsException", "ResourceNotFoundException"} <= modelled


def test_the_resource_of_a_parameter_read_is_its_arn():
    body = json.dumps({"Name": "/image-classification/endpoint-name"})
    assert iam.resource_for("ssm", "GetParameter", body, "eu-west-1") == (
        f"arn:aws:ssm:eu-west-1:{ACCOUNT_ID}:parameter/image-classification/endpoint-name"
    )
    assert iam.resource_for("dynamodb", "PutItem", "{}", "eu-west-1") is None
