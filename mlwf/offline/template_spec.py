"""What the offline stack is made of, as mlwf.offline.template reads it from template.yaml:
each function, state machine, rule and role with its local name and ARN, in one TemplateSpec.
The account and partition the local ARNs use are here too."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlwf.offline.service_resources import ServiceResource
from training_job.errors import MlwfError

ACCOUNT_ID = "123456789012"  # moto's default account
PARTITION = "aws"


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    code_uri: Path
    handler: str
    environment: dict[str, str]
    timeout: int
    memory_size: int
    reserved_concurrency: int | None = None
    role_arn: str = ""
    architectures: tuple[str, ...] = ("x86_64",)  # Lambda's default
    layers: tuple[str, ...] = ()  # layer version ARNs
    description: str = ""
    tracing: str = "PassThrough"  # TracingConfig's Mode: Lambda's default
    ephemeral_storage: int = 512  # MB of /tmp: Lambda's default
    log_group: str = ""  # LoggingConfig's LogGroup; "" for Lambda's default

    @property
    def log_group_name(self) -> str:
        """Where the function's log goes: its LoggingConfig's group, else Lambda's default."""
        return self.log_group or f"/aws/lambda/{self.name}"


@dataclass
class StateMachineSpec:
    logical_id: str
    name: str
    arn: str
    definition_path: Path
    definition: str  # with DefinitionSubstitutions applied
    substitutions: dict[str, str]
    workflow_type: str
    role_arn: str = ""
    # CreateStateMachine's loggingConfiguration and tracingConfiguration, from the
    # template's LoggingConfiguration and TracingConfiguration; None when it has none
    logging: dict[str, Any] | None = None
    tracing: dict[str, Any] | None = None


@dataclass
class RuleSpec:
    logical_id: str
    name: str
    arn: str
    event_pattern: dict[str, Any]
    targets: list[dict[str, Any]]  # as PutTargets takes them, every intrinsic resolved
    state: str = "ENABLED"


@dataclass
class RoleSpec:
    """An IAM role as the stack creates it: its policy documents, inline and attached."""

    logical_id: str
    name: str
    arn: str
    trust_policy: dict[str, Any]
    inline_policies: dict[str, dict[str, Any]]  # policy name -> document
    managed_policy_arns: list[str]


@dataclass(frozen=True)
class StackResource:
    """A resource the offline stack created, as CloudFormation's ListStackResources lists it:
    the physical ID is what Ref gives (a name, or an ARN or URL where Ref gives that)."""

    logical_id: str
    resource_type: str
    physical_id: str


@dataclass
class TemplateSpec:
    path: Path
    stack_name: str
    region: str
    parameters: dict[str, str]
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    state_machines: dict[str, StateMachineSpec] = field(default_factory=dict)
    buckets: dict[str, str] = field(default_factory=dict)  # logical id -> bucket name
    event_bridge_buckets: set[str] = field(default_factory=set)  # notify EventBridge
    # name -> the S3 calls (operation -> arguments) that apply its configuration
    bucket_calls: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)  # logical id -> queue name
    queue_attributes: dict[str, dict[str, str]] = field(default_factory=dict)  # by name
    # SNS topics, DynamoDB tables, SSM parameters (mlwf.offline.service_resources)
    service_resources: list[ServiceResource] = field(default_factory=list)
    # function name -> {qualifier: the version it runs} (mlwf.offline.lambda_versions)
    function_qualifiers: dict[str, dict[str, str]] = field(default_factory=dict)
    rules: dict[str, RuleSpec] = field(default_factory=dict)
    log_groups: dict[str, int | None] = field(default_factory=dict)  # name -> retention days
    roles: dict[str, RoleSpec] = field(default_factory=dict)
    managed_policies: dict[str, dict[str, Any]] = field(default_factory=dict)  # ARN -> document
    # what of the template the stack leaves out, each said (mlwf.offline.resource_types)
    left_out: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    resources: dict[str, StackResource] = field(default_factory=dict)  # the ones created

    def function(self, name: str) -> FunctionSpec:
        """A function by logical id or by local name."""
        for spec in self.functions.values():
            if name in (spec.logical_id, spec.name):
                return spec
        known = ", ".join(self.functions)
        raise MlwfError(f"no function {name!r} in {self.path.name}; functions: {known}")
