"""Read template.yaml the way CloudFormation does, with local names for its resources.

The template goes through the SAM transform (aws-sam-translator, what CloudFormation runs
for `Transform: AWS::Serverless-2016-10-31`), as `sam deploy` would send it: each CodeUri and
DefinitionUri stands for its local folder or file. The resources it yields are then read with
every intrinsic function and condition CloudFormation resolves (mlwf.offline.intrinsics),
parameter values as strings, as CloudFormation passes them, and local physical names and
ARNs for the resources, into a TemplateSpec (mlwf.offline.template_spec).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlwf.offline import (
    dynamic_references,
    function_limits,
    lambda_versions,
    language_extensions,
    queue_attributes,
    resource_types,
    service_resources,
)
from mlwf.offline.bucket_properties import bucket_calls, expiration_refusal
from mlwf.offline.cloudwatch_logs import RETENTION_DAYS, retention_refusal
from mlwf.offline.conditions import NotCreated, not_created
from mlwf.offline.intrinsics import Evaluator, IntrinsicError, as_property_string
from mlwf.offline.resource_attributes import unsupported
from mlwf.offline.sam_transform import translate
from mlwf.offline.template_machines import state_machine_spec
from mlwf.offline.template_outputs import stack_outputs
from mlwf.offline.template_parameters import stack_parameters
from mlwf.offline.template_spec import (
    ACCOUNT_ID,
    PARTITION,
    FunctionSpec,
    RoleSpec,
    RuleSpec,
    StackResource,
    TemplateSpec,
)
from training_job.errors import MlwfError

# Where the translated template says a function's code or a definition lives; the offline
# stack reads them from the local paths these stand for.
PACKAGED = "mlwf-offline-package"


def load_template(
    path: Path,
    *,
    parameter_overrides: dict[str, str] | None = None,
    stack_name: str = "offline",
    region: str = "us-east-1",
) -> TemplateSpec:
    """The template's functions, state machines, buckets and outputs, resolved locally."""
    from samtranslator.yaml_helper import yaml_parse  # lazy: the translator takes a while

    path = Path(path).resolve()
    try:
        sam = yaml_parse(path.read_text())
    except FileNotFoundError:
        raise MlwfError(f"template not found: {path}") from None
    except Exception as exc:  # the YAML parser's own errors
        raise MlwfError(f"{path.name}: cannot parse: {exc}") from None
    if not isinstance(sam, dict) or not isinstance(sam.get("Resources"), dict):
        raise MlwfError(f"{path.name}: not a template (no Resources)")
    parameters = stack_parameters(sam.get("Parameters") or {}, parameter_overrides or {}, path)
    code, definitions = _local_artifacts(sam, path.parent)
    if for_each := language_extensions.for_each_refusal(sam):
        raise MlwfError(f"{path.name}: {for_each}")
    translated = translate(sam, parameters, region, stack_name, path)
    spec = TemplateSpec(path, stack_name, region, parameters)
    reader = _Reader(spec, translated, extended=language_extensions.declared(sam))
    try:
        reader.read(code, definitions)
    except IntrinsicError as exc:
        raise MlwfError(f"{path.name}: {exc}") from None
    return spec


def _local_artifacts(sam: dict[str, Any], root: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    """Each function's code folder and each state machine's definition file, by logical id,
    and the template rewritten as `sam package` leaves it (S3 locations in their place)."""
    globals_function = (sam.get("Globals") or {}).get("Function") or {}
    code: dict[str, Path] = {}
    definitions: dict[str, Path] = {}
    for logical_id, resource in sam["Resources"].items():
        props = resource.setdefault("Properties", {}) if isinstance(resource, dict) else {}
        kind = resource.get("Type") if isinstance(resource, dict) else None
        if kind == "AWS::Serverless::Function":
            uri = props.get("CodeUri", globals_function.get("CodeUri"))
            if not isinstance(uri, str):
                raise MlwfError(f"{logical_id}: the offline mode runs code from a local CodeUri")
            code[logical_id] = (root / uri).resolve()
            props["CodeUri"] = f"s3://{PACKAGED}/{logical_id}.zip"
        elif kind == "AWS::Serverless::StateMachine" and isinstance(
            props.get("DefinitionUri"), str
        ):
            definitions[logical_id] = (root / props["DefinitionUri"]).resolve()
            props["DefinitionUri"] = {"Bucket": PACKAGED, "Key": f"{logical_id}.json"}
    return code, definitions


BUCKET_DOMAINS = {
    "DomainName": "{}.s3.amazonaws.com",
    "RegionalDomainName": "{}.s3.{}.amazonaws.com",
    "DualStackDomainName": "{}.s3.dualstack.{}.amazonaws.com",
}


class _Reader:
    """The translated resources as the offline stack creates them: local names and ARNs."""

    # What Ref gives, per type: the name, except where CloudFormation gives the ARN or URL.
    REF_IS_ARN = {
        "AWS::StepFunctions::StateMachine",
        "AWS::IAM::ManagedPolicy",
        *service_resources.REF_IS_ARN,
    }
    NAME_PROPERTY = {
        "AWS::S3::Bucket": "BucketName",
        "AWS::Lambda::Function": "FunctionName",
        "AWS::StepFunctions::StateMachine": "StateMachineName",
        "AWS::IAM::Role": "RoleName",
        "AWS::SQS::Queue": "QueueName",
        "AWS::Logs::LogGroup": "LogGroupName",
        "AWS::Events::Rule": "Name",
        **service_resources.NAME_PROPERTY,
    }

    def __init__(self, spec: TemplateSpec, template: dict[str, Any], *, extended: bool = False):
        self.spec, self.template = spec, template
        self.resources: dict[str, Any] = template["Resources"]
        self.evaluator = Evaluator(
            template,
            partition=PARTITION,
            region=spec.region,
            account=ACCOUNT_ID,
            stack_name=spec.stack_name,
            parameters=spec.parameters,
            resource_ref=self.ref,
            resource_attribute=self.attribute,
            language_extensions=extended,
        )
        self.excluded: set[str] = set()  # not created (mlwf.offline.conditions)
        self.skipped = resource_types.skipped(self.resources)  # not made offline

    def kind(self, logical_id: str) -> str:
        return str(self.resources[logical_id].get("Type"))

    def name(self, logical_id: str) -> str:
        """The physical name: the template's own name property, else a generated one."""
        kind = self.kind(logical_id)
        raw = self.resources[logical_id].get("Properties")
        raw = raw if isinstance(raw, dict) else {}  # not a mapping: refused when it is read
        given = raw.get(self.NAME_PROPERTY.get(kind))
        if given is not None:
            return str(self.evaluator.evaluate(given))
        name = f"{self.spec.stack_name}-{logical_id}"
        # the FIFO flags as CloudFormation reads them: an intrinsic may give them
        flags = {k: self.evaluator.evaluate(raw[k]) for k in ("FifoQueue", "FifoTopic") if k in raw}
        if queue_attributes.is_fifo(kind, flags):
            return name[:75] + ".fifo"  # SQS: a FIFO queue's name ends so, 80 characters at most
        if service_resources.is_fifo_topic(kind, flags):
            return name[:251] + ".fifo"  # SNS: so too a FIFO topic's, 256 at most
        return name.lower() if kind == "AWS::S3::Bucket" else name

    def function_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.spec.region}:{ACCOUNT_ID}:function:{name}"

    def arn(self, logical_id: str) -> str:
        kind, name = self.kind(logical_id), self.name(logical_id)
        if kind in service_resources.KINDS:
            return service_resources.arn(kind, name, self.spec.region, ACCOUNT_ID, PARTITION)
        where = f"{self.spec.region}:{ACCOUNT_ID}"
        arns = {
            "AWS::Lambda::Function": f"arn:aws:lambda:{where}:function:{name}",
            "AWS::StepFunctions::StateMachine": f"arn:aws:states:{where}:stateMachine:{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT_ID}:role/{name}",
            "AWS::IAM::ManagedPolicy": f"arn:aws:iam::{ACCOUNT_ID}:policy/{name}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{where}:{name}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{where}:log-group:{name}:*",
            "AWS::Events::Rule": f"arn:aws:events:{where}:rule/{name}",
        }
        if kind not in arns:
            raise IntrinsicError(f"the offline mode has no ARN for {logical_id} ({kind})")
        return arns[kind]

    def _made(self, logical_id: str) -> None:
        """Nothing when CloudFormation creates the resource; else NotCreated."""
        if logical_id in self.excluded:
            raise NotCreated(logical_id)

    def ref(self, logical_id: str) -> str:
        self._made(logical_id)
        kind = self.kind(logical_id)
        if kind in (lambda_versions.VERSION, lambda_versions.ALIAS):
            return lambda_versions.qualified_arn(self, logical_id)
        if kind in self.REF_IS_ARN:
            return self.arn(logical_id)
        if kind == "AWS::SQS::Queue":
            return (
                f"https://sqs.{self.spec.region}.amazonaws.com/{ACCOUNT_ID}/{self.name(logical_id)}"
            )
        return self.name(logical_id)

    def attribute(self, logical_id: str, attribute: str) -> str:
        self._made(logical_id)
        if refused := unsupported(logical_id, self.kind(logical_id), attribute):
            raise IntrinsicError(refused)
        if (versioned := lambda_versions.attribute(self, logical_id, attribute)) is not None:
            return versioned
        if self.kind(logical_id) in service_resources.KINDS:
            return self.service_attribute(logical_id, attribute)
        if attribute == "Arn":
            return self.arn(logical_id)
        if attribute in ("Name", "QueueName"):
            return self.name(logical_id)
        if attribute == "QueueUrl":
            return self.ref(logical_id)
        if self.kind(logical_id) == "AWS::S3::Bucket" and attribute in BUCKET_DOMAINS:
            # AWS::S3::Bucket's return values (aws-resource-s3-bucket.html): AWS's own names,
            # which the offline endpoint does not serve
            return BUCKET_DOMAINS[attribute].format(self.name(logical_id), self.spec.region)
        raise IntrinsicError(f"the offline mode cannot resolve GetAtt {logical_id}.{attribute}")

    def service_resource(self, logical_id: str) -> service_resources.ServiceResource:
        kind, name = self.kind(logical_id), self.name(logical_id)
        return service_resources.ServiceResource(logical_id, kind, name, self.arn(logical_id))

    def service_attribute(self, logical_id: str, attribute: str) -> str:
        props = self.evaluator.evaluate(self.resources[logical_id].get("Properties", {}))
        value = service_resources.attribute(self.service_resource(logical_id), props, attribute)
        if value is None:
            raise IntrinsicError(f"the offline mode cannot resolve GetAtt {logical_id}.{attribute}")
        return value

    def read(self, code: dict[str, Path], definitions: dict[str, Path]) -> None:
        evaluate = self.evaluator.evaluate
        if unknown := resource_types.unrecognized(self.resources):
            raise MlwfError(f"{self.spec.path.name}: {unknown}")
        not_created(self.resources, self.evaluator.condition, evaluate, self.excluded)
        left_out = [
            said for logical_id, said in self.skipped.items() if logical_id not in self.excluded
        ]
        for logical_id, resource in self.resources.items():
            if logical_id in self.excluded or logical_id in self.skipped:
                continue
            kind = resource.get("Type")
            props = evaluate(resource.get("Properties", {}))
            unresolved = dynamic_references.refusal(props)
            if unresolved:
                raise MlwfError(f"{self.spec.path.name} ({logical_id}): {unresolved}")
            if part := resource_types.left_out_part(logical_id, resource, props):
                left_out.append(part)
                if kind != "AWS::S3::Bucket":  # the bucket is made, without those parts
                    continue
            if kind == "AWS::S3::Bucket":
                self.spec.buckets[logical_id] = self.name(logical_id)
                notifications = props.get("NotificationConfiguration", {})
                bridge = notifications.get("EventBridgeConfiguration", {})
                if str(bridge.get("EventBridgeEnabled", "")).lower() == "true":
                    self.spec.event_bridge_buckets.add(self.name(logical_id))
                calls = bucket_calls(props)
                lifecycle = calls.get("put_bucket_lifecycle_configuration", {})
                if refused := expiration_refusal(
                    lifecycle.get("LifecycleConfiguration", {}).get("Rules", [])
                ):  # as the bucket's CREATE_FAILED fails sam deploy
                    raise MlwfError(f"{self.spec.path.name} ({logical_id}): {refused}")
                self.spec.bucket_calls[self.name(logical_id)] = calls
            elif kind == "AWS::Logs::LogGroup":
                retention = props.get("RetentionInDays")
                days = int(retention) if retention is not None else None
                if days is not None and retention_refusal(days):
                    raise MlwfError(  # as the group's CREATE_FAILED fails sam deploy
                        f"{self.spec.path.name} ({logical_id}): RetentionInDays {days} is not "
                        f"one of CloudWatch Logs' {', '.join(map(str, RETENTION_DAYS))}"
                    )
                self.spec.log_groups[self.name(logical_id)] = days
            elif kind == "AWS::SQS::Queue":
                given = queue_attributes.attributes(props)
                refused = queue_attributes.refusal(given)
                if refused:  # as the queue's CREATE_FAILED fails sam deploy
                    raise MlwfError(f"{self.spec.path.name} ({logical_id}): {refused}")
                self.spec.queues[logical_id] = self.name(logical_id)
                self.spec.queue_attributes[self.name(logical_id)] = given
            elif kind == "AWS::Events::Rule" and "EventPattern" in props:
                pattern = props["EventPattern"]
                self.spec.rules[logical_id] = RuleSpec(
                    logical_id=logical_id,
                    name=self.name(logical_id),
                    arn=self.arn(logical_id),
                    event_pattern=json.loads(pattern) if isinstance(pattern, str) else pattern,
                    targets=list(props.get("Targets", [])),
                    state=str(props.get("State", "ENABLED")),
                )
            elif kind in service_resources.KINDS:
                if refused := service_resources.refusal(logical_id, kind, props):
                    raise MlwfError(f"{self.spec.path.name}: {refused}")  # as its CREATE_FAILED
                made = self.service_resource(logical_id)
                made.calls = service_resources.calls(kind, made.name, props)
                self.spec.service_resources.append(made)
                left_out += service_resources.left_out(logical_id, kind, props)
            elif kind == "AWS::IAM::Role":
                self.spec.roles[logical_id] = RoleSpec(
                    logical_id=logical_id,
                    name=self.name(logical_id),
                    arn=self.arn(logical_id),
                    trust_policy=props.get("AssumeRolePolicyDocument", {}),
                    inline_policies={
                        str(p["PolicyName"]): p["PolicyDocument"] for p in props.get("Policies", [])
                    },
                    managed_policy_arns=[str(a) for a in props.get("ManagedPolicyArns", [])],
                )
            elif kind == "AWS::IAM::ManagedPolicy":
                self.spec.managed_policies[self.arn(logical_id)] = props["PolicyDocument"]
            elif kind == "AWS::Lambda::Function":
                if logical_id not in code:  # a plain function: its Code is no local folder
                    left_out.append(f"{logical_id} (runs only a SAM function's local CodeUri)")
                    continue
                self.spec.functions[logical_id] = self.function(logical_id, props, code[logical_id])
            elif kind == "AWS::StepFunctions::StateMachine":
                self.spec.state_machines[logical_id] = state_machine_spec(
                    logical_id,
                    self.name(logical_id),
                    self.arn(logical_id),
                    props,
                    definitions.get(logical_id),
                    self.spec.path,
                )
            else:
                continue  # resource policies: accepted, not enforced (resource_types.POLICIES)
            self.spec.resources[logical_id] = StackResource(logical_id, kind, self.ref(logical_id))
        self.spec.left_out = left_out
        self.spec.function_qualifiers = lambda_versions.qualifiers(self, self.excluded)
        if refused := function_limits.account_refusal(self.spec.functions):
            raise MlwfError(f"{self.spec.path.name}: {refused}")
        self.spec.outputs = stack_outputs(self.template.get("Outputs"), self.evaluator)

    def function(self, logical_id: str, props: dict[str, Any], code: Path) -> FunctionSpec:
        variables = props.get("Environment", {}).get("Variables", {})
        environment = {k: as_property_string(v) for k, v in variables.items()}
        refused = function_limits.check(logical_id, props, environment)
        if refused:  # as `sam deploy` would fail, before anything runs
            raise MlwfError(
                f"{self.spec.path.name}: Lambda's CreateFunction would refuse " + "; ".join(refused)
            )
        unrunnable = function_limits.offline_refusal(logical_id, props)
        if unrunnable:
            raise MlwfError(f"{self.spec.path.name}: {unrunnable}")
        return FunctionSpec(
            logical_id=logical_id,
            name=self.name(logical_id),
            arn=self.arn(logical_id),
            code_uri=code,
            handler=str(props["Handler"]),
            environment=environment,
            timeout=int(props.get("Timeout", 3)),
            memory_size=int(props.get("MemorySize", 128)),
            architectures=tuple(str(a) for a in props.get("Architectures", ["x86_64"])),
            reserved_concurrency=(
                int(props["ReservedConcurrentExecutions"])
                if "ReservedConcurrentExecutions" in props
                else None
            ),
            role_arn=str(props.get("Role", "")),
            layers=tuple(str(layer) for layer in props.get("Layers", [])),
            description=str(props.get("Description", "")),
            tracing=str((props.get("TracingConfig") or {}).get("Mode", "PassThrough")),
            ephemeral_storage=function_limits.ephemeral_storage_mb(props) or 512,  # checked
            log_group=str((props.get("LoggingConfig") or {}).get("LogGroup", "")),
        )


def write_definitions(out_dir: str | Path, template: str | Path | None = None) -> list[Path]:
    """Each state machine's definition with its substitutions applied, for ASL validators."""
    from training_job.stack import PROJECT_ROOT

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    spec = load_template(Path(template or PROJECT_ROOT / "template.yaml"))
    paths = []
    for machine in spec.state_machines.values():
        path = out / f"{machine.logical_id}.asl.json"
        path.write_text(machine.definition)
        paths.append(path)
    return paths
