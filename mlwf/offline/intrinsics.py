"""CloudFormation's intrinsic functions and conditions, evaluated for one deploy.

Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select, Fn::Split, Fn::FindInMap, Fn::If with
Fn::Equals/Not/And/Or and Condition, Fn::Base64, Fn::GetAZs, Fn::Cidr and the pseudo
parameters, as CloudFormation resolves them after the SAM transform. How a resource's Ref and
attributes resolve is the caller's: the offline stack gives local names and ARNs, the deploy
preflight symbols.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html

Any other `Fn::` function is refused by name, not passed on as the text of a value (it was:
a variable set to `!GetAZs ""` read "Fn::GetAZs"): Fn::ImportValue, because this stack is
the only one the offline mode deploys, so no export exists (CloudFormation fails such a
deploy, "No export named ... found"), and the AWS::LanguageExtensions functions, which this
template does not declare.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

NO_VALUE = object()  # AWS::NoValue: the property or list item is dropped


class IntrinsicError(ValueError):
    """A function CloudFormation would reject: a missing mapping key, an unknown name."""


def symbolic_ref(logical_id: str) -> str:
    return f"<{logical_id}>"


def symbolic_attribute(logical_id: str, attribute: str) -> str:
    return f"<{logical_id}.{attribute}>"


@dataclass
class Evaluator:
    template: dict[str, Any]
    partition: str = "aws"
    region: str = "us-east-1"
    account: str = "123456789012"
    stack_name: str = "image-classification-workflow"
    parameters: dict[str, str] = field(default_factory=dict)
    resource_ref: Callable[[str], str] = symbolic_ref
    resource_attribute: Callable[[str, str], str] = symbolic_attribute
    language_extensions: bool = False  # the template lists AWS::LanguageExtensions

    def parameter(self, name: str) -> str:
        if name in self.parameters:
            return str(self.parameters[name])
        declared = self.template.get("Parameters", {})[name]
        return str(declared.get("Default", ""))

    def condition(self, name: str) -> bool:
        try:
            expression = self.template["Conditions"][name]
        except KeyError:
            raise IntrinsicError(f"no condition {name}") from None
        return bool(self.evaluate(expression))

    def ref(self, name: str) -> Any:
        suffix = "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"
        pseudo = {
            "AWS::Partition": self.partition,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:{self.partition}:cloudformation:{self.region}:{self.account}"
            f":stack/{self.stack_name}/offline",
            "AWS::URLSuffix": suffix,
            "AWS::NoValue": NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        declared = self.template.get("Parameters", {})
        if name in declared:
            kind = str(declared[name].get("Type", "String"))
            if kind == "CommaDelimitedList" or kind.startswith("List<"):
                return [item.strip() for item in self.parameter(name).split(",")]
            return self.parameter(name)
        if name in self.template.get("Resources", {}):
            return self.resource_ref(name)
        raise IntrinsicError(f"Ref to {name}, which is no parameter or resource")

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
            if key.startswith("Fn::"):
                raise IntrinsicError(f"the offline mode cannot resolve {key}{_WHY.get(key, '')}")
        evaluated = {k: self.evaluate(v) for k, v in value.items()}
        return {k: v for k, v in evaluated.items() if v is not NO_VALUE}


def _sub(context: Evaluator, arg: Any) -> str:
    text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
    local = {k: context.evaluate(v) for k, v in variables.items()}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in local:
            return str(local[name])
        if "." in name and not name.startswith("AWS::"):
            logical_id, attribute = name.split(".", 1)
            return str(context.resource_attribute(logical_id, attribute))
        return str(context.ref(name))

    return re.sub(r"\$\{([^}]+)\}", replace, text)


# CloudFormation's words for a FindInMap of another length, as Eucalyptus's CloudFormation
# reproduced them from AWS (its FunctionEvaluation: "Experiments show must be literal array of
# size 3"); a fourth, {DefaultValue: ...}, only under AWS::LanguageExtensions
FIND_IN_MAP_ARGUMENTS = (
    "Template error: every Fn::FindInMap object requires three parameters, the map name, map "
    "key and the attribute for return value"
)


def _find_in_map(context: Evaluator, arg: Any) -> Any:
    options = arg[3] if isinstance(arg, list) and len(arg) == 4 else None
    extended = context.language_extensions and isinstance(options, dict)
    if not isinstance(arg, list) or len(arg) != (4 if extended else 3):
        raise IntrinsicError(FIND_IN_MAP_ARGUMENTS)
    name, top, second = (str(context.evaluate(a)) for a in arg[:3])
    try:
        return context.template["Mappings"][name][top][second]
    except (KeyError, TypeError):
        if isinstance(options, dict) and extended and "DefaultValue" in options:
            return context.evaluate(options["DefaultValue"])
        raise IntrinsicError(f"Fn::FindInMap: mapping {name} has no {top}/{second}") from None


def _if(context: Evaluator, arg: list[Any]) -> Any:
    name, when_true, when_false = arg
    taken, other = (when_true, when_false) if context.condition(name) else (when_false, when_true)
    _check_mappings(context, other)  # CloudFormation resolves those in both branches
    return context.evaluate(taken)


def _check_mappings(context: Evaluator, value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _check_mappings(context, item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Fn::FindInMap":
                _find_in_map(context, item)
            else:
                _check_mappings(context, item)


def _get_att(context: Evaluator, arg: Any) -> Any:
    logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
    if logical_id not in context.template.get("Resources", {}):
        raise IntrinsicError(f"Fn::GetAtt of {logical_id}, which is no resource")
    return context.resource_attribute(logical_id, str(context.evaluate(attribute)))


def _select(context: Evaluator, arg: list[Any]) -> Any:
    index, items = int(context.evaluate(arg[0])), context.evaluate(arg[1])
    if not isinstance(items, list):
        raise IntrinsicError(f"Fn::Select: {items!r} is no list")
    if not 0 <= index < len(items):
        raise IntrinsicError(f"Fn::Select: index {index} out of {len(items)} items")
    return items[index]


def _get_azs(context: Evaluator, arg: Any) -> list[str]:
    """The region's Availability Zones in alphabetical order; "" is the stack's region
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-getavailabilityzones.html).
    The zones are moto's record of each region's."""
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend

    region = str(context.evaluate(arg) or context.region)
    zones = RegionsAndZonesBackend.zones.get(region)
    if not zones:
        raise IntrinsicError(f"Fn::GetAZs: no region {region}")
    return sorted(zone.name for zone in zones)


def _cidr(context: Evaluator, arg: list[Any]) -> list[str]:
    """The first `count` blocks of `ipBlock` with `cidrBits` host bits each: 8 bits of an
    IPv4 block are /24s
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-cidr.html)."""
    block, count, bits = (str(context.evaluate(a)) for a in arg)
    try:
        network = ipaddress.ip_network(block)
        prefix = network.max_prefixlen - int(bits)
        wanted = int(count)
        if not 1 <= wanted <= 256 or prefix < network.prefixlen:
            raise ValueError(f"{count} blocks of {bits} bits")
        blocks = [str(subnet) for subnet in islice(network.subnets(new_prefix=prefix), wanted)]
    except ValueError as exc:
        raise IntrinsicError(f"Fn::Cidr [{block}, {count}, {bits}]: {exc}") from None
    if len(blocks) < wanted:
        raise IntrinsicError(
            f"Fn::Cidr: {block} holds {len(blocks)} blocks of {bits} bits, not {wanted}"
        )
    return blocks


_WHY = {
    "Fn::ImportValue": ": this stack is the only one it deploys, so no other stack's export exists",
}

_FUNCTIONS: dict[str, Callable[[Evaluator, Any], Any]] = {
    "Ref": lambda c, a: c.ref(a),
    "Fn::Sub": _sub,
    "Fn::FindInMap": _find_in_map,
    "Fn::If": _if,
    "Fn::GetAtt": _get_att,
    "Fn::Join": lambda c, a: str(a[0]).join(str(v) for v in c.evaluate(a[1])),
    "Fn::Select": _select,
    "Fn::Split": lambda c, a: str(c.evaluate(a[1])).split(str(a[0])),
    "Fn::Base64": lambda c, a: base64.b64encode(str(c.evaluate(a)).encode()).decode(),
    "Fn::GetAZs": _get_azs,
    "Fn::Cidr": _cidr,
    "Fn::Equals": lambda c, a: str(c.evaluate(a[0])) == str(c.evaluate(a[1])),
    "Fn::Not": lambda c, a: not c.evaluate(a[0]),
    "Fn::And": lambda c, a: all(c.evaluate(x) for x in a),
    "Fn::Or": lambda c, a: any(c.evaluate(x) for x in a),
    "Condition": lambda c, a: c.condition(a),
}


def as_property_string(value: Any) -> str:
    """A scalar as CloudFormation passes it to a string property: YAML `true` becomes
    "true" (not Python's "True"), 30 becomes "30"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
