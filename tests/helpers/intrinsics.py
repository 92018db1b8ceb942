"""Evaluate the intrinsic functions of a translated template for one deploy context.

Enough of CloudFormation's evaluation for the preflight to ask "what does this value become
in partition X, region Y, with these parameters?": Ref, Fn::Sub, Fn::FindInMap, Fn::If with
Fn::Equals/Not/And/Or conditions, Fn::Join and Fn::Select. A resource attribute
(Fn::GetAtt, or Ref to a resource) stays symbolic, as `<LogicalId.Attribute>`, because only
CloudFormation knows it before the deploy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

NO_VALUE = object()  # AWS::NoValue: the property is dropped


@dataclass
class DeployContext:
    template: dict[str, Any]
    partition: str = "aws"
    region: str = "us-east-1"
    account: str = "123456789012"
    stack_name: str = "image-classification-workflow"
    parameters: dict[str, str] = field(default_factory=dict)

    def parameter(self, name: str) -> str:
        if name in self.parameters:
            return str(self.parameters[name])
        declared = self.template.get("Parameters", {})[name]
        return str(declared.get("Default", ""))

    def condition(self, name: str) -> bool:
        return bool(self.evaluate(self.template["Conditions"][name]))

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Partition": self.partition,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::StackName": self.stack_name,
            "AWS::URLSuffix": "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.template.get("Parameters", {}):
            return self.parameter(name)
        return f"<{name}>"  # a resource: its physical id is CloudFormation's to choose

    def evaluate(self, value: Any) -> Any:
        if isinstance(value, list):
            return [v for v in (self.evaluate(item) for item in value) if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            function = _FUNCTIONS.get(key)
            if function is not None:
                return function(self, arg)
        evaluated = {k: self.evaluate(v) for k, v in value.items()}
        return {k: v for k, v in evaluated.items() if v is not NO_VALUE}


def _sub(context: DeployContext, arg: Any) -> str:
    text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
    local = {k: context.evaluate(v) for k, v in variables.items()}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in local:
            return str(local[name])
        if "." in name and not name.startswith("AWS::"):
            return f"<{name}>"
        return str(context.ref(name))

    return re.sub(r"\$\{([^}]+)\}", replace, text)


def _find_in_map(context: DeployContext, arg: list[Any]) -> Any:
    name, top, second = (str(context.evaluate(a)) for a in arg)
    try:
        return context.template["Mappings"][name][top][second]
    except KeyError:
        raise LookupError(f"Fn::FindInMap: mapping {name} has no {top}/{second}") from None


def _if(context: DeployContext, arg: list[Any]) -> Any:
    name, when_true, when_false = arg
    taken, other = (when_true, when_false) if context.condition(name) else (when_false, when_true)
    _check_mappings(context, other)  # CloudFormation resolves those in both branches
    return context.evaluate(taken)


def _check_mappings(context: DeployContext, value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _check_mappings(context, item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Fn::FindInMap":
                _find_in_map(context, item)
            else:
                _check_mappings(context, item)


def _get_att(context: DeployContext, arg: Any) -> str:
    logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
    return f"<{logical_id}.{attribute}>"


_FUNCTIONS = {
    "Ref": lambda c, a: c.ref(a),
    "Fn::Sub": _sub,
    "Fn::FindInMap": _find_in_map,
    "Fn::If": _if,
    "Fn::GetAtt": _get_att,
    "Fn::Join": lambda c, a: str(a[0]).join(str(v) for v in c.evaluate(a[1])),
    "Fn::Select": lambda c, a: c.evaluate(a[1])[int(c.evaluate(a[0]))],
    "Fn::Equals": lambda c, a: str(c.evaluate(a[0])) == str(c.evaluate(a[1])),
    "Fn::Not": lambda c, a: not c.evaluate(a[0]),
    "Fn::And": lambda c, a: all(c.evaluate(x) for x in a),
    "Fn::Or": lambda c, a: any(c.evaluate(x) for x in a),
    "Condition": lambda c, a: c.condition(a),
}
