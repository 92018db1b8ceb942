"""IAM, enforced offline on the stack's own principals as AWS enforces it.

Each function runs with credentials of its own role, each state machine calls its tasks as
its role, and the upload rule starts executions as its role, the roles and policies being
those the SAM transform generates from template.yaml. A call one of them makes is allowed
only if that role's policies allow the action on the resource: an explicit Deny wins, and
no Allow is an implicit deny (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
The policies are evaluated by moto's own evaluator (moto.iam.access_control.IAMPolicy).

Calls made with any other credentials (the user's: the AWS CLI, mlwf, the tests) are not
checked, as an administrator's are not refused in their own account.

What is not modelled (docs/offline.md, fidelity table): resource-based policies (bucket policies,
Lambda permissions), permission boundaries, SCPs, condition keys, and actions of services
this module does not name a resource for, which are allowed when the role allows the action
on some resource.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was
from urllib.parse import parse_qs

from mlwf.offline.template_spec import ACCOUNT_ID, PARTITION, TemplateSpec

AWS_MANAGED_PREFIX = f"arn:{PARTITION}:iam::aws:policy/"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/")


class PolicyNotFound(Exception):
    """A role attaches a managed policy that neither the template nor AWS defines."""


@dataclass(frozen=True)
class Principal:
    role_arn: str
    session: str
    documents: tuple[str, ...]  # the role's policy documents, as JSON

    @property
    def arn(self) -> str:
        role_name = self.role_arn.rsplit("/", 1)[-1]
        return f"arn:{PARTITION}:sts::{ACCOUNT_ID}:assumed-role/{role_name}/{self.session}"


class Authorizer:
    """The stack's roles, the credentials handed to each, and the decision on each call."""

    def __init__(self, spec: TemplateSpec):
        self.spec = spec
        self._documents = {
            role.arn: self._role_documents(role.logical_id) for role in spec.roles.values()
        }
        self._by_key: dict[str, Principal] = {}
        self._by_role: dict[tuple[str, str], tuple[str, str, str]] = {}
        self._lock = threading.Lock()

    def _role_documents(self, logical_id: str) -> tuple[str, ...]:
        role = self.spec.roles[logical_id]
        documents = [json.dumps(d) for d in role.inline_policies.values()]
        for arn in role.managed_policy_arns:
            documents.append(json.dumps(self._managed_policy(arn, role.logical_id)))
        return tuple(documents)

    def _managed_policy(self, arn: str, role: str) -> dict[str, Any]:
        if arn in self.spec.managed_policies:
            return self.spec.managed_policies[arn]
        known = aws_managed_policy(arn)
        if known is not None:
            return dict(known["Document"])
        raise PolicyNotFound(f"{role}: managed policy {arn} does not exist")

    def governs(self, role_arn: str) -> bool:
        return role_arn in self._documents

    def credentials(self, role_arn: str, session: str) -> dict[str, str]:
        """Temporary credentials of the role, as Lambda gives a function its execution
        role's: the variables a worker process reads."""
        with self._lock:
            found = self._by_role.get((role_arn, session))
            if found is None:
                key = "ASIA" + secrets.token_hex(8).upper()
                found = (key, secrets.token_urlsafe(30), secrets.token_urlsafe(60))
                self._by_role[(role_arn, session)] = found
                self._by_key[key] = Principal(role_arn, session, self._documents[role_arn])
        key, secret, token = found
        return {
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_SESSION_TOKEN": token,
        }

    def function_arn(self, name: str) -> str:
        for function in self.spec.functions.values():
            if name in (function.name, function.arn) or name.startswith(function.arn + ":"):
                return function.arn
        return f"arn:{PARTITION}:lambda:{self.spec.region}:{ACCOUNT_ID}:function:{name}"

    def principal(self, access_key: str | None) -> Principal | None:
        return self._by_key.get(access_key or "")

    def role_principal(self, role_arn: str, session: str) -> Principal | None:
        if not self.governs(role_arn):
            return None
        return Principal(role_arn, session, self._documents[role_arn])

    def denial(self, principal: Principal, action: str, resource: str | None) -> str | None:
        """None when the principal may call `action` on `resource`, else AWS's message.
        A resource of None (one this module does not work out) needs an Allow of the
        action on any resource."""
        from moto.iam.access_control import PermissionResult

        allowed = False
        for document in principal.documents:
            if resource is None:
                if _allows_action(json.loads(document), action):
                    allowed = True
                continue
            result = _parsed(document).is_action_permitted(action, resource)
            if result == PermissionResult.DENIED:
                return _message(principal, action, resource, explicit=True)
            allowed = allowed or result == PermissionResult.PERMITTED
        if allowed:
            return None
        return _message(principal, action, resource or "*", explicit=False)


def aws_managed_policy(arn: str) -> dict[str, Any] | None:
    """An AWS managed policy's record (its Document, DefaultVersionId...) as moto keeps AWS's,
    None for an ARN that names none. The callers must not change it: it is shared."""
    if not arn.startswith(AWS_MANAGED_PREFIX):
        return None
    return _aws_managed_policies().get(arn.rsplit("/", 1)[-1])


@functools.cache
def _aws_managed_policies() -> dict[str, Any]:
    """moto's record of AWS's managed policies, parsed once: 4.7 MB of JSON, ~30 ms a parse,
    which each role's every AWS managed policy used to repeat at each stack start."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    found: dict[str, Any] = json.loads(aws_managed_policies_data)
    return found


@functools.cache
def _parsed(document: str) -> Any:
    """A role's policy document, parsed once (every call a function makes is decided on it)."""
    from moto.iam.access_control import IAMPolicy

    return IAMPolicy(document)


def _message(principal: Principal, action: str, resource: str, *, explicit: bool) -> str:
    # AWS's wording (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html);
    # SNS writes its prefix in capitals ("not authorized to perform: SNS:Publish", as its
    # AuthorizationErrors read in recorded logs)
    if action.startswith("sns:"):
        action = "SNS:" + action[len("sns:") :]
    reason = (
        "with an explicit deny in an identity-based policy"
        if explicit
        else f"because no identity-based policy allows the {action} action"
    )
    return (
        f"User: {principal.arn} is not authorized to perform: {action} "
        f"on resource: {resource} {reason}"
    )


def _allows_action(document: dict[str, Any], action: str) -> bool:
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        for pattern in actions if isinstance(actions, list) else [actions]:
            regex = "^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$"
            if statement.get("Effect") == "Allow" and re.match(regex, action, re.IGNORECASE):
                return True
    return False


def access_key(headers: Any) -> tuple[str, str, str] | None:
    """(access key, region, signing service) from a SigV4 Authorization header."""
    named = {str(k).lower(): v for k, v in dict(headers).items()}
    match = _CREDENTIAL.search(str(named.get("authorization", "")))
    return (match.group(1), match.group(2), match.group(3)) if match else None


def resource_for(service: str, action: str, body: Any, region: str) -> str | None:
    """The ARN a call acts on (https://docs.aws.amazon.com/service-authorization/latest/reference/),
    from its parameters: a JSON body, a query protocol's form (SNS) or a dict; None when this
    module does not work it out (the role must then allow the action on some resource)."""
    params = _params(body)
    where = f"{PARTITION}:{service}:{region}:{ACCOUNT_ID}"
    if service == "ssm" and action in ("GetParameter", "GetParameterHistory", "PutParameter"):
        name = str(params.get("Name", ""))
        if name.startswith("arn:"):
            return name
        return f"arn:{where}:parameter/{name.lstrip('/')}"
    if service == "states":
        for key in ("stateMachineArn", "executionArn", "mapRunArn"):
            if key in params:
                return str(params[key])
    if service == "sns":
        target = params.get("TopicArn") or params.get("TargetArn")
        return str(target) if target else None
    if service == "sqs" and params.get("QueueUrl"):
        return _queue_arn(str(params["QueueUrl"]), region)
    if service == "dynamodb" and params.get("TableName"):
        # a table's ARN may stand for its name; a Query or Scan of an index is authorized on
        # the index (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/iam-policy-example-data-crud.html)
        table = str(params["TableName"])
        arn = table if table.startswith("arn:") else f"arn:{where}:table/{table}"
        index = params.get("IndexName") if action in ("Query", "Scan") else None
        return f"{arn}/index/{index}" if index else arn
    return None


def _queue_arn(url: str, region: str) -> str:
    """A queue's ARN from its URL: https://sqs.<region>.amazonaws.com/<account>/<name> (the
    account and region its own, whatever the caller's), or a local endpoint's
    http://host:port/<account>/<name>."""
    host, *path = url.split("://", 1)[-1].rstrip("/").split("/")
    account, name = (
        (path[-2], path[-1]) if len(path) >= 2 else (ACCOUNT_ID, path[-1] if path else "")
    )
    found = re.match(r"sqs\.([a-z0-9-]+)\.amazonaws", host)
    return f"arn:{PARTITION}:sqs:{found.group(1) if found else region}:{account}:{name}"


def _params(body: Any) -> dict[str, Any]:
    if not isinstance(body, str | bytes):
        return dict(body or {})
    text = body.decode(errors="replace") if isinstance(body, bytes) else body
    try:
        found = json.loads(text or "{}")
    except ValueError:  # a query protocol's form: Action=Publish&TopicArn=...
        return {k: v[0] for k, v in parse_qs(text).items()}
    return found if isinstance(found, dict) else {}


def _request_params(response: Any) -> Any:
    """A moto response's request parameters: its JSON body, or a query protocol's form,
    which moto has read into `querystring` (the body is then empty)."""
    if response.body:
        return response.body
    form = getattr(response, "querystring", None) or {}
    return {k: v[0] if isinstance(v, list) and v else v for k, v in form.items()}


# The services whose calls are checked: those whose IAM actions are named as their
# operations (the Service Authorization Reference), by their signing names; a task calling
# any other service is not checked (CloudWatch signs as `monitoring`, STS's
# GetCallerIdentity needs no permission), as a false denial would fail a workflow AWS runs.
# S3's calls are checked on the actions moto's S3 names for them (ListObjectsV2 is
# s3:ListBucket), but not a state machine's (iam_tasks).
CHECKED = frozenset(
    {
        "lambda",
        "sns",
        "sqs",
        "dynamodb",
        "ssm",
        "states",
        "events",
        "sagemaker",
        "secretsmanager",
        "s3",
    }
)
# Operations whose IAM action has another name: Lambda's Invoke, and the batch operations
# authorized as their single forms ("You cannot set permissions explicitly for
# SendMessageBatch", https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-batch-api.html;
# sns:Publish "Grants permission to both publish and publish batch",
# https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-language-api-permissions-reference.html)
_ACTIONS = {
    ("lambda", "Invoke"): "lambda:InvokeFunction",
    ("sqs", "SendMessageBatch"): "sqs:SendMessage",
    ("sqs", "DeleteMessageBatch"): "sqs:DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "sqs:ChangeMessageVisibility",
    ("sns", "PublishBatch"): "sns:Publish",
}
# Operations authorized on the actions they perform, item by item, not on their own name
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html,
# .../ql-iam.html): not checked offline
_UNCHECKED_OPERATIONS = frozenset(
    {
        ("dynamodb", "TransactWriteItems"),
        ("dynamodb", "TransactGetItems"),
        ("dynamodb", "ExecuteStatement"),
        ("dynamodb", "BatchExecuteStatement"),
        ("dynamodb", "ExecuteTransaction"),
    }
)


def iam_action(service: str, operation: str | None) -> str | None:
    """The IAM action a call of `operation` (None: any) to the service of signing name
    `service` is authorized on; None when it is not checked offline."""
    if service not in CHECKED or (service, operation) in _UNCHECKED_OPERATIONS:
        return None
    if operation is None:
        return f"{service}:*"
    return _ACTIONS.get((service, operation), f"{service}:{operation}")


def denial_error(service: str) -> tuple[int, str]:
    """The HTTP status and error code a service answers a denied call with: SNS's
    AuthorizationError (403, https://docs.aws.amazon.com/sns/latest/api/API_Publish.html),
    Lambda's AccessDeniedException (403), the JSON services' AccessDeniedException (400,
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/CommonErrors.html)."""
    if service == "sns":
        return 403, "AuthorizationError"
    if service == "lambda":
        return 403, "AccessDeniedException"
    return 400, "AccessDeniedException"


# The authorizer the patched moto consults; one offline stack runs per process.
_current: Authorizer | None = None


def current() -> Authorizer | None:
    return _current


def denial_for_request(headers: Any, action: str, resource: Callable[[str], str]) -> str | None:
    """For a call moto does not authorize itself (one the bridge answers): AWS's message
    when its credentials are one of the stack's roles' and the role may not make it.
    `resource(region)` is the ARN acted on."""
    credential = access_key(headers)
    authorizer = _current
    if authorizer is None or credential is None:
        return None
    principal = authorizer.principal(credential[0])
    if principal is None:
        return None
    return authorizer.denial(principal, action, resource(credential[1]))


@contextmanager
def enforced(authorizer: Authorizer) -> Iterator[Authorizer]:
    """moto checks each call made with one of the stack's roles while the block runs."""
    global _current
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.core.exceptions import AWSError, _RESTError
    from moto.s3.exceptions import S3AccessDeniedError

    if "_authenticate_and_authorize_action" not in ActionAuthenticatorMixin.__dict__:
        raise RuntimeError(
            "moto changed: no ActionAuthenticatorMixin._authenticate_and_authorize_action"
        )

    def authorize(response: Any, iam_request_cls: type, resource: str = "*") -> None:
        credential = access_key(response.headers)
        principal = authorizer.principal(credential[0] if credential else None)
        if principal is None or credential is None:
            return  # not one of the stack's roles: moto's own setting decides (off)
        _, region, service = credential
        action_name = response._get_action()
        action = iam_action(service, action_name)
        if action is None:
            return  # not checked offline (iam_action): allowed
        acted_on = (
            resource_for(service, action_name, _request_params(response), region)
            if resource == "*"
            else resource
        )
        message = authorizer.denial(principal, action, acted_on)
        if message is None:
            return
        if iam_request_cls.__name__ == "S3IAMRequest":
            raise S3AccessDeniedError()
        status, code = denial_error(service)
        if service == "sns":  # a query protocol: the XML error moto's AccessDenied is
            denied = _RESTError(code, message)
            denied.code = status
            raise denied
        raise AWSError(message, code, status)

    _current = authorizer
    try:
        with patch.object(
            ActionAuthenticatorMixin, "_authenticate_and_authorize_action", authorize
        ):
            yield authorizer
    finally:
        _current = None
