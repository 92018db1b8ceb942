"""A template's SNS topics, DynamoDB tables and SSM parameters, made through their APIs.

These were left out of the offline stack (named at start): a user who adds a topic to be
told of low-confidence images, a table of verdicts, or a parameter of settings, the common
additions to this workflow, saw the offline stack refuse `!GetAtt Topic.TopicName` (what
SAM's SNSPublishMessagePolicy takes) or pass the logical name where CloudFormation passes
the topic's ARN, and every call to one failed. Now each is made as CloudFormation's
resource handlers make it, through the service's own API (so moto checks the request as
the service does: a key attribute missing from AttributeDefinitions fails the start as it
fails the deploy), and Ref and GetAtt give what CloudFormation gives: the resource types'
schemas (cfn-lint ships them) name the primary identifier Ref returns (a topic's ARN, a
table's and a parameter's name) and the attributes.

What a type's properties ask that the stack does not do is named at start with the rest
(mlwf.offline.resource_types): a topic's subscriptions deliver nothing, and a table's
Kinesis stream, contributor insights or S3 import are not made.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlwf.offline.request_constraints import Problem, bounds_leaf, enum_leaf, shape_problems
from mlwf.offline.validation_errors import validation_errors

TOPIC, TABLE, PARAMETER = "AWS::SNS::Topic", "AWS::DynamoDB::Table", "AWS::SSM::Parameter"
KINDS = frozenset({TOPIC, TABLE, PARAMETER})
NAME_PROPERTY = {TOPIC: "TopicName", TABLE: "TableName", PARAMETER: "Name"}
REF_IS_ARN = frozenset({TOPIC})  # the schema's primaryIdentifier: TopicArn; the others' names
# The attributes resolved from the name and ARN; the others are the template's own values
NAME_ATTRIBUTES = {TOPIC: "TopicName", TABLE: None, PARAMETER: "Name"}
ARN_ATTRIBUTES = {TOPIC: "TopicArn", TABLE: "Arn", PARAMETER: "Arn"}

# The properties that ask for what the offline stack does not do, and what that means
_LEFT_OUT = {
    TOPIC: {
        "Subscription": "no message is delivered",
        "DeliveryStatusLogging": "no delivery status is logged",
    },
    TABLE: {
        "KinesisStreamSpecification": "no Kinesis stream is fed",
        "ContributorInsightsSpecification": "no contributor insights",
        "ImportSourceSpecification": "the table starts empty",
    },
    PARAMETER: {},
}
# AWS::SNS::Topic properties that are CreateTopic attributes (the API's names)
_TOPIC_ATTRIBUTES = (
    "DisplayName",
    "FifoTopic",
    "ContentBasedDeduplication",
    "KmsMasterKeyId",
    "SignatureVersion",
    "TracingConfig",
    "ArchivePolicy",
    "FifoThroughputScope",
)
# AWS::DynamoDB::Table properties CreateTable takes as they are
_TABLE_AS_IS = (
    "AttributeDefinitions",
    "KeySchema",
    "ProvisionedThroughput",
    "LocalSecondaryIndexes",
    "TableClass",
    "DeletionProtectionEnabled",
    "Tags",
    "OnDemandThroughput",
    "WarmThroughput",
)


@dataclass(frozen=True)
class Call:
    service: str
    operation: str  # the boto3 client method
    arguments: dict[str, Any]


@dataclass
class ServiceResource:
    logical_id: str
    kind: str
    name: str
    arn: str
    calls: list[Call] = field(default_factory=list)


def arn(kind: str, name: str, region: str, account: str, partition: str) -> str:
    where = f"{region}:{account}"
    if kind == TOPIC:
        return f"arn:{partition}:sns:{where}:{name}"
    if kind == TABLE:
        return f"arn:{partition}:dynamodb:{where}:table/{name}"
    return f"arn:{partition}:ssm:{where}:parameter/{name.lstrip('/')}"


def is_fifo_topic(kind: str, props: dict[str, Any]) -> bool:
    """A FIFO topic (`props`, its evaluated properties): its name must end in `.fifo` (the
    TopicName property's description)."""
    return kind == TOPIC and str(props.get("FifoTopic")).lower() == "true"


def attribute(resource: ServiceResource, props: dict[str, Any], name: str) -> str | None:
    """GetAtt `name` of the resource; None when the offline stack cannot give it."""
    if name == ARN_ATTRIBUTES[resource.kind]:
        return resource.arn
    if name == NAME_ATTRIBUTES[resource.kind]:
        return resource.name
    value = props.get(name)
    if value is None or isinstance(value, dict | list):
        return None  # a StreamArn, made at creation; or a value that is not a string
    return str(value).lower() if isinstance(value, bool) else str(value)


# The parameter types CloudFormation creates: its schema's enum for AWS::SSM::Parameter's Type
# ("Parameters of type SecureString are not supported by CloudFormation", the property's
# description in the schema cfn-lint ships)
PARAMETER_TYPES = ("String", "StringList")


# The types the schemas give the properties this module reshapes (a value of another type
# crashed the reshaping); String takes a number or a boolean too, as CloudFormation passes
# them as text
_OBJECT: tuple[str, ...] = ("JSONObject",)
_ARRAY: tuple[str, ...] = ("JSONArray",)
_STRING: tuple[str, ...] = ("String", "Integer", "Number", "Boolean")
_TABLE_OBJECTS = (
    "StreamSpecification",
    "SSESpecification",
    "ResourcePolicy",
    "TimeToLiveSpecification",
    "PointInTimeRecoverySpecification",
)
_SCHEMA_TYPES: dict[str, dict[str, tuple[str, ...]]] = {
    TOPIC: {"Tags": _ARRAY, "Subscription": _ARRAY},
    TABLE: {**dict.fromkeys(_TABLE_OBJECTS, _OBJECT), "GlobalSecondaryIndexes": _ARRAY},
    PARAMETER: {"Tags": _OBJECT, "Value": _STRING, "Type": _STRING, "Name": _STRING},
}


def _json_type(value: Any) -> str:
    """The JSON type CloudFormation's validator names for a property's value."""
    if isinstance(value, dict):
        return "JSONObject"
    if isinstance(value, list):
        return "JSONArray"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    return "Number" if isinstance(value, float) else "String"


def refusal(logical_id: str, kind: str, props: dict[str, Any]) -> str | None:
    """CloudFormation's schema failure for a value it refuses before calling the service;
    None when there is none. Its validator's words: "Properties validation failed for
    resource X with message: #/Role: failed validation constraint for keyword [pattern]"
    (deploy logs quote them so; the enum keyword's are by analogy), or "#/Content: expected
    type: String, found: JSONObject" for a value of another type."""
    failed = f"Properties validation failed for resource {logical_id} with message: "
    if not isinstance(props, dict):
        return f"{failed}#: expected type: JSONObject, found: {_json_type(props)}"
    if kind == TABLE and "KeySchema" not in props:  # the schema's one required property
        return f"{failed}#: required key [KeySchema] not found"
    for key, expected in _SCHEMA_TYPES[kind].items():
        if key in props and _json_type(props[key]) not in expected:
            found = _json_type(props[key])
            return f"{failed}#/{key}: expected type: {expected[0]}, found: {found}"
    indexes = props.get("GlobalSecondaryIndexes")
    if kind == TABLE and isinstance(indexes, list):
        for i, index in enumerate(indexes):
            if not isinstance(index, dict):
                found = _json_type(index)
                at = f"#/GlobalSecondaryIndexes/{i}"
                return f"{failed}{at}: expected type: JSONObject, found: {found}"
    policy = props.get("ResourcePolicy")
    if kind == TABLE and isinstance(policy, dict) and "PolicyDocument" not in policy:
        return f"{failed}#/ResourcePolicy: required key [PolicyDocument] not found"
    if kind == PARAMETER and "Type" in props and str(props["Type"]) not in PARAMETER_TYPES:
        return (
            f"Properties validation failed for resource {logical_id} with message: "
            f"#/Type: failed validation constraint for keyword [enum] (CloudFormation makes "
            f"{' and '.join(PARAMETER_TYPES)} parameters, not {props['Type']})"
        )
    return None


def left_out(logical_id: str, kind: str, props: dict[str, Any]) -> list[str]:
    """What of the resource's properties the stack does not do, each said."""
    return [
        f"{logical_id}'s {key} ({why})" for key, why in _LEFT_OUT[kind].items() if props.get(key)
    ]


def calls(kind: str, name: str, props: dict[str, Any]) -> list[Call]:
    """The API calls that make the resource, from its CloudFormation properties."""
    if kind == TOPIC:
        return [_topic(name, props)]
    if kind == TABLE:
        return _table(name, props)
    return [_parameter(name, props)]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _topic(name: str, props: dict[str, Any]) -> Call:
    arguments: dict[str, Any] = {"Name": name}
    attributes = {key: _text(props[key]) for key in _TOPIC_ATTRIBUTES if key in props}
    if attributes:
        arguments["Attributes"] = attributes
    if "Tags" in props:
        arguments["Tags"] = props["Tags"]
    if "DataProtectionPolicy" in props:
        arguments["DataProtectionPolicy"] = _text(props["DataProtectionPolicy"])
    return Call("sns", "create_topic", arguments)


def _table(name: str, props: dict[str, Any]) -> list[Call]:
    # CreateTable needs its attribute definitions (moto failed with a KeyError without
    # them): none given, DynamoDB refuses the keys it cannot find among them
    arguments: dict[str, Any] = {"TableName": name, "AttributeDefinitions": []}
    arguments.update({key: props[key] for key in _TABLE_AS_IS if key in props})
    # "If not specified, the default is PROVISIONED" (the BillingMode property)
    arguments["BillingMode"] = str(props.get("BillingMode", "PROVISIONED"))
    if "GlobalSecondaryIndexes" in props:  # an index's contributor insights: not CreateTable's
        arguments["GlobalSecondaryIndexes"] = [
            {k: v for k, v in index.items() if k != "ContributorInsightsSpecification"}
            for index in props["GlobalSecondaryIndexes"]
        ]
    if "StreamSpecification" in props:  # "Including this property ... enables streaming"
        arguments["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    if "SSESpecification" in props:  # the API calls SSEEnabled Enabled
        sse = dict(props["SSESpecification"])
        arguments["SSESpecification"] = {"Enabled": sse.pop("SSEEnabled", False), **sse}
    if "ResourcePolicy" in props:
        arguments["ResourcePolicy"] = _text(props["ResourcePolicy"].get("PolicyDocument"))
    made = [Call("dynamodb", "create_table", arguments)]
    if "TimeToLiveSpecification" in props:
        made.append(
            Call(
                "dynamodb",
                "update_time_to_live",
                {"TableName": name, "TimeToLiveSpecification": props["TimeToLiveSpecification"]},
            )
        )
    if "PointInTimeRecoverySpecification" in props:
        made.append(
            Call(
                "dynamodb",
                "update_continuous_backups",
                {
                    "TableName": name,
                    "PointInTimeRecoverySpecification": props["PointInTimeRecoverySpecification"],
                },
            )
        )
    return made


def _parameter(name: str, props: dict[str, Any]) -> Call:
    arguments: dict[str, Any] = {"Name": name}
    for key in ("Type", "Value", "Description", "AllowedPattern", "Tier", "DataType", "Policies"):
        if key in props:
            arguments[key] = _text(props[key])
    if isinstance(props.get("Tags"), dict):  # a map in the template, a list in the API
        arguments["Tags"] = [{"Key": k, "Value": _text(v)} for k, v in props["Tags"].items()]
    return Call("ssm", "put_parameter", arguments)


def constraint_problems(shape: Any, value: Any) -> list[Problem]:
    """Each value under `shape` (a botocore shape) outside its enum, pattern or length, as
    the service's model states them and AWS checks them before the action (moto checks few:
    a table named 'my table!' was made), at its member path in the API's lower camel case."""
    return shape_problems(shape, value, _constraint_leaf, lower_first=True)


def _constraint_leaf(shape: Any, value: Any, at: str) -> list[Problem]:
    if shape.type_name != "string" or not isinstance(value, str):
        return []
    problems = enum_leaf(shape, value, at)
    pattern = shape.metadata.get("pattern")
    if pattern and not _matches(pattern, value):
        problems.append((at, f"Member must satisfy regular expression pattern: {pattern}", value))
    return problems + bounds_leaf(shape, value, at)


# DynamoDB's table names: 3 to 255 of these characters
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html);
# the API model no longer says so, as a table's ARN may stand for its name
TABLE_NAME = "[a-zA-Z0-9_.-]+"


def _table_name_problems(call: Call) -> list[Problem]:
    name = call.arguments.get("TableName")
    if call.operation != "create_table" or not isinstance(name, str):
        return []
    if not re.fullmatch(TABLE_NAME, name):
        return [
            ("tableName", f"Member must satisfy regular expression pattern: {TABLE_NAME}", name)
        ]
    if not 3 <= len(name) <= 255:
        bound = "less than or equal to 255" if len(name) > 255 else "greater than or equal to 3"
        return [("tableName", f"Member must have length {bound}", name)]
    return []


def _matches(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value, re.DOTALL) is not None
    except re.error:  # a Java construct Python's re lacks: not checked offline
        return True


def create(client: Callable[[str], Any], resources: list[ServiceResource], where: str) -> None:
    """Each resource's calls, in the template's order; a call the service refuses fails the
    start, as the resource's CREATE_FAILED fails the deploy, naming it."""
    from botocore.exceptions import ClientError, ParamValidationError

    from training_job.errors import MlwfError

    for resource in resources:
        for call in resource.calls:
            service = client(call.service)
            api = service.meta.method_to_api_mapping[call.operation]
            shape = service.meta.service_model.operation_model(api).input_shape
            problems = constraint_problems(shape, call.arguments) + _table_name_problems(call)
            try:
                if problems:
                    raise MlwfError(f"ValidationException: {validation_errors(problems)}")
                getattr(service, call.operation)(**call.arguments)
            except MlwfError as exc:
                why = str(exc)
            except ClientError as exc:
                error = exc.response.get("Error", {})
                why = f"{error.get('Code', '')}: {error.get('Message', '')}"
            except ParamValidationError as exc:  # a property of the wrong shape
                why = " ".join(str(exc).split())
            else:
                continue
            raise MlwfError(
                f"{where} ({resource.logical_id}): {resource.kind} is not created: {why}"
            )
