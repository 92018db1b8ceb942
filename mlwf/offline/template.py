"""Read template.yaml the way CloudFormation would, with local names for its resources.

The YAML (with its !Ref/!GetAtt/!Sub tags) is parsed by cfn-lint's decoder; this module
resolves the intrinsics the offline runtime needs to local values: parameters (defaults,
overridable), pseudo parameters, and the names and ARNs of the local resources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training_job.errors import MlwfError

ACCOUNT_ID = "123456789012"  # moto's default account


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


@dataclass
class StateMachineSpec:
    logical_id: str
    name: str
    arn: str
    definition_path: Path
    definition: str  # with DefinitionSubstitutions applied
    substitutions: dict[str, str]
    workflow_type: str


@dataclass
class TemplateSpec:
    path: Path
    stack_name: str
    region: str
    parameters: dict[str, str]
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    state_machines: dict[str, StateMachineSpec] = field(default_factory=dict)
    buckets: dict[str, str] = field(default_factory=dict)  # logical id -> bucket name
    outputs: dict[str, str] = field(default_factory=dict)

    def function(self, name: str) -> FunctionSpec:
        """A function by logical id or by local name."""
        for spec in self.functions.values():
            if name in (spec.logical_id, spec.name):
                return spec
        known = ", ".join(self.functions)
        raise MlwfError(f"no function {name!r} in {self.path.name}; functions: {known}")


def load_template(
    path: Path,
    *,
    parameter_overrides: dict[str, str] | None = None,
    stack_name: str = "offline",
    region: str = "us-east-1",
) -> TemplateSpec:
    """The template's functions, state machines, buckets and outputs, resolved locally."""
    from cfnlint.decode import cfn_yaml  # lazy: cfn-lint takes a while to import

    path = Path(path).resolve()
    try:
        raw = cfn_yaml.load(str(path))
    except FileNotFoundError:
        raise MlwfError(f"template not found: {path}") from None
    except Exception as exc:  # cfn-lint raises its own parse errors
        raise MlwfError(f"{path.name}: cannot parse: {exc}") from None
    parameters = _parameters(raw.get("Parameters", {}), parameter_overrides or {}, path)
    resources = raw.get("Resources", {})
    spec = TemplateSpec(path, stack_name, region, parameters)
    resolver = _Resolver(spec, resources)
    globals_function = raw.get("Globals", {}).get("Function", {})
    for logical_id, resource in resources.items():
        kind, props = resource.get("Type"), resource.get("Properties", {})
        if kind == "AWS::S3::Bucket":
            spec.buckets[logical_id] = resolver.physical_id(logical_id)
        elif kind == "AWS::Serverless::Function":
            spec.functions[logical_id] = _function(
                logical_id, _merge_globals(globals_function, props), resolver, path.parent
            )
        elif kind == "AWS::Serverless::StateMachine":
            spec.state_machines[logical_id] = _state_machine(
                logical_id, props, resolver, path.parent
            )
    for key, output in raw.get("Outputs", {}).items():
        try:
            spec.outputs[key] = str(resolver.resolve(output["Value"]))
        except MlwfError:
            continue  # an output of a resource the offline mode does not model
    return spec


def _parameters(declared: dict, overrides: dict[str, str], path: Path) -> dict[str, str]:
    unknown = set(overrides) - set(declared)
    if unknown:
        raise MlwfError(f"{path.name} has no parameter {', '.join(sorted(unknown))}")
    values = {}
    for name, declaration in declared.items():
        value = overrides.get(name, declaration.get("Default"))
        if value is None:
            raise MlwfError(f"parameter {name} has no default: pass {name}=VALUE")
        value = str(value)
        _check_parameter(name, value, declaration)
        values[name] = value
    return values


def _check_parameter(name: str, value: str, declaration: dict) -> None:
    """The checks CloudFormation makes before it creates anything."""
    allowed = declaration.get("AllowedValues")
    if allowed is not None and value not in [str(a) for a in allowed]:
        raise MlwfError(f"parameter {name}={value}: allowed values are {allowed}")
    pattern = declaration.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise MlwfError(f"parameter {name}={value} does not match {pattern}")
    if declaration.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            raise MlwfError(f"parameter {name}={value} is not a number") from None
        low, high = declaration.get("MinValue"), declaration.get("MaxValue")
        if (low is not None and number < float(low)) or (high is not None and number > float(high)):
            raise MlwfError(f"parameter {name}={value} must be within [{low}, {high}]")


def _merge_globals(globals_function: dict, props: dict) -> dict:
    """SAM's Globals rules for the keys used here: maps merge, lists add up, scalars override."""
    merged = dict(globals_function)
    for key, value in props.items():
        base = merged.get(key)
        if key == "Environment" and isinstance(base, dict):
            variables = {**base.get("Variables", {}), **value.get("Variables", {})}
            merged[key] = {"Variables": variables}
        elif isinstance(base, list) and isinstance(value, list):
            merged[key] = base + value
        else:
            merged[key] = value
    return merged


def _function(logical_id: str, props: dict, resolver: _Resolver, root: Path) -> FunctionSpec:
    variables = props.get("Environment", {}).get("Variables", {})
    return FunctionSpec(
        logical_id=logical_id,
        name=resolver.physical_id(logical_id),
        arn=resolver.arn(logical_id),
        code_uri=(root / str(resolver.resolve(props["CodeUri"]))).resolve(),
        handler=str(props["Handler"]),
        environment={k: str(resolver.resolve(v)) for k, v in variables.items()},
        timeout=int(props.get("Timeout", 3)),
        memory_size=int(props.get("MemorySize", 128)),
    )


def _state_machine(
    logical_id: str, props: dict, resolver: _Resolver, root: Path
) -> StateMachineSpec:
    if "DefinitionUri" not in props:
        raise MlwfError(f"{logical_id}: the offline mode reads state machines from DefinitionUri")
    definition_path = (root / str(props["DefinitionUri"])).resolve()
    substitutions = {
        key: str(resolver.resolve(value))
        for key, value in props.get("DefinitionSubstitutions", {}).items()
    }
    text = definition_path.read_text()
    # The same ${Name} substitution CloudFormation applies to DefinitionString.
    definition = re.sub(
        r"\$\{([A-Za-z0-9]+)\}",
        lambda m: substitutions.get(m.group(1), m.group(0)),
        text,
    )
    return StateMachineSpec(
        logical_id=logical_id,
        name=resolver.physical_id(logical_id),
        arn=resolver.arn(logical_id),
        definition_path=definition_path,
        definition=definition,
        substitutions=substitutions,
        workflow_type=str(resolver.resolve(props.get("Type", "STANDARD"))),
    )


class _Resolver:
    """Ref, Fn::GetAtt and Fn::Sub against parameters, pseudo parameters and local resources."""

    def __init__(self, spec: TemplateSpec, resources: dict):
        self.spec, self.resources = spec, resources

    def physical_id(self, logical_id: str) -> str:
        kind = self.resources[logical_id].get("Type")
        name = f"{self.spec.stack_name}-{logical_id}"
        return name.lower() if kind == "AWS::S3::Bucket" else name

    def arn(self, logical_id: str) -> str:
        kind = self.resources[logical_id].get("Type")
        name = self.physical_id(logical_id)
        region = self.spec.region
        if kind == "AWS::Serverless::Function":
            return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}"
        if kind == "AWS::Serverless::StateMachine":
            return f"arn:aws:states:{region}:{ACCOUNT_ID}:stateMachine:{name}"
        if kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{name}"
        if kind == "AWS::IAM::Role":
            return f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"
        raise MlwfError(f"the offline mode has no ARN for {logical_id} ({kind})")

    def ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": self.spec.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": self.spec.stack_name,
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.spec.parameters:
            return self.spec.parameters[name]
        if name in self.resources:
            kind = self.resources[name].get("Type")
            return (
                self.arn(name)
                if kind == "AWS::Serverless::StateMachine"
                else self.physical_id(name)
            )
        raise MlwfError(f"cannot resolve Ref {name}")

    def get_att(self, logical_id: str, attribute: str) -> str:
        if logical_id not in self.resources:
            raise MlwfError(f"cannot resolve GetAtt {logical_id}.{attribute}")
        if attribute == "Arn":
            return self.arn(logical_id)
        if attribute == "Name":
            return self.physical_id(logical_id)
        raise MlwfError(f"the offline mode cannot resolve GetAtt {logical_id}.{attribute}")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical_id, attribute)
            if key == "Fn::Sub":
                return self.sub(arg)
            if key.startswith("Fn::"):
                raise MlwfError(f"the offline mode does not resolve {key}")
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def sub(self, arg: str | list) -> str:
        template, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        local = {k: str(self.resolve(v)) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal}
                return "${" + name[1:] + "}"
            if name in local:
                return local[name]
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(name)

        return re.sub(r"\$\{([^}]+)\}", replace, template)


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
