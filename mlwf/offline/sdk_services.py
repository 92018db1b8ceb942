"""The services and actions an AWS SDK task names, as Step Functions names them.

A Task's `arn:aws:states:::aws-sdk:<service>:<action>` names its service as Step Functions'
table of AWS SDK integrations does, and its action in camel case
(https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html,
"Supported AWS SDK service integrations" and "The API action will always be camel case"):
`cloudwatchlogs`, `eventbridge`, `sfn`, `sagemakerruntime`, `costexplorer`, where botocore
says `logs`, `events`, `stepfunctions`, `sagemaker-runtime`, `ce`. moto's interpreter made the
task's client with the name as written, so `aws-sdk:cloudwatchlogs:createLogStream` failed
offline (States.Runtime, "Unknown service: 'cloudwatchlogs'") where AWS runs it, and
`aws-sdk:logs:createLogStream` ran offline where AWS refuses the definition.

Each name in that table is its API model's service ID in lower case, without its spaces and
dashes and without a final " Service" (`CloudWatch Logs`, `Database Migration Service` ->
`databasemigration`): tests/unit/test_sdk_services.py checks this against rows of the table.
The error prefix ("ServiceName.ErrorName ... both in Pascal case", the same page; its table's
"Exception prefix" column) is that service ID in Pascal case (`ACM PCA` -> `AcmPca`,
`DynamoDB` -> `DynamoDb`, `IoT Wireless` -> `IotWireless`), but for the two the table spells
otherwise (PREFIX_EXCEPTIONS).

botocore does not list the table: a service botocore models and Step Functions leaves out
(`apigatewaymanagementapi`, whose refusal is recorded in public issues) is taken offline.
"""

from __future__ import annotations

import functools
import re
from typing import Any

# Botocore's name for each Step Functions name that is not botocore's but for its dashes
# (renamed(), from every model botocore has, keeps this equal: tests/unit/test_sdk_services.py)
RENAMED: dict[str, str] = {
    "applicationdiscovery": "discovery",
    "cloudwatchlogs": "logs",
    "cognitoidentityprovider": "cognito-idp",
    "costandusagereport": "cur",
    "costexplorer": "ce",
    "databasemigration": "dms",
    "directory": "ds",
    "directoryservicedata": "ds-data",
    "elasticloadbalancing": "elb",
    "elasticloadbalancingv2": "elbv2",
    "elasticsearch": "es",
    "eventbridge": "events",
    "iotdataplane": "iot-data",
    "iotjobsdataplane": "iot-jobs-data",
    "lexmodelbuilding": "lex-models",
    "lexmodelsv2": "lexv2-models",
    "lexruntimev2": "lexv2-runtime",
    "marketplacemetering": "meteringmarketplace",
    "migrationhub": "mgh",
    "serverlessapplicationrepository": "serverlessrepo",
    "sfn": "stepfunctions",
    "simpledb": "sdb",
}

# A service ID's words: `IoT` alone (-> Iot), a run of capitals (-> one capital, the rest
# lowered), a capitalised word, lower case, digits
_WORDS = re.compile(r"(?<![A-Za-z])IoT(?![A-Za-z])|[A-Z]+(?![a-z])|[A-Z][a-z]*|[a-z]+|\d+")

# The table's exception prefixes that its rule does not give (MemoryDB, SESv2)
PREFIX_EXCEPTIONS = {"memorydb": "MemoryDB", "sesv2": "SesV2"}

# "Unsupported API actions for supported services" (the same page), for the services it
# names one by one
UNSUPPORTED_ACTIONS: dict[str, frozenset[str]] = {
    "comprehendmedical": frozenset({"detectEntities"}),
    "efs": frozenset({"createTags"}),
    "elastictranscoder": frozenset({"testRole"}),
    "emr": frozenset({"describeJobFlows"}),
    "iotdeviceadvisor": frozenset({"listTestCases"}),
    "kinesis": frozenset({"subscribeToShard"}),
    "lambda": frozenset({"invokeAsync"}),
    "lexruntimev2": frozenset({"startConversation"}),
    "mediapackage": frozenset({"rotateChannelCredentials"}),
    "rds": frozenset({"executeSql"}),
    "s3": frozenset({"selectObjectContent"}),
    "s3control": frozenset({"selectObjectContent"}),
    "shield": frozenset({"deleteSubscription"}),
}


def sdk_name(service_id: str) -> str:
    """A service's name in an AWS SDK task, from its API model's service ID."""
    lowered = re.sub(r" service$", "", service_id.lower())
    return re.sub(r"[ -]", "", lowered)


def error_prefix(sdk_service: str) -> str | None:
    """The service's part of an AWS SDK task's error name; None for a name no service has."""
    if sdk_service in PREFIX_EXCEPTIONS:
        return PREFIX_EXCEPTIONS[sdk_service]
    boto = boto_service(sdk_service)
    if boto is None:
        return None
    service_id = re.sub(r" Service$", "", service_id_of(boto) or "")
    return "".join(word[:1].upper() + word[1:].lower() for word in _WORDS.findall(service_id))


def java_member_name(member: str) -> str:
    """An API member as Step Functions spells it in an AWS SDK task's Parameters and result:
    AWS's Java SDK's name for it, its leading run of capitals lowered (Java SDK v2's
    `Utils.unCapitalize`), then its first letter a capital: `DBInstanceIdentifier` ->
    `DbInstanceIdentifier`, `TTL` -> `Ttl`, `MD5OfMessageBody` -> `Md5OfMessageBody`,
    `executionArn` -> `ExecutionArn`; `ChecksumCRC32` and `ETag` as they are (`ChecksumCRC32`
    as LocalStack recorded AWS's `s3:putObject` result; `DbInstances` and
    `DbInstanceIdentifier` as public workflows for AWS read and write them)."""
    if not member:
        return member
    i = 1
    while (
        i < len(member)
        and member[i].isupper()
        and not (i + 1 < len(member) and member[i + 1].islower())
    ):
        i += 1
    lowered = member[:i].lower() + member[i:]
    return lowered[:1].upper() + lowered[1:]


@functools.cache
def boto_service(sdk_service: str) -> str | None:
    """Botocore's name of the service an AWS SDK task names; None when Step Functions would
    not recognize the name."""
    candidates = [RENAMED[sdk_service]] if sdk_service in RENAMED else []
    candidates += [name for name in _available() if name.replace("-", "") == sdk_service]
    for name in candidates:
        service_id = service_id_of(name)
        if service_id is not None and sdk_name(service_id) == sdk_service:
            return name
    return None


@functools.cache
def sdk_actions(boto: str) -> frozenset[str]:
    """The service's operations as an AWS SDK task names them: in camel case."""
    model = session().get_service_model(boto)
    return frozenset(name[:1].lower() + name[1:] for name in model.operation_names)


def known_action(sdk_service: str, action: str) -> bool:
    """Whether `aws-sdk:<sdk_service>:<action>` names an action Step Functions can call."""
    boto = boto_service(sdk_service)
    return (
        boto is not None
        and action in sdk_actions(boto)
        and action not in UNSUPPORTED_ACTIONS.get(sdk_service, frozenset())
    )


def renamed() -> dict[str, str]:
    """RENAMED as botocore's models give it (reads every model: seconds)."""
    names = _available()
    found: dict[str, str] = {}
    for name in names:
        service_id = service_id_of(name)
        if service_id is None:
            continue
        wanted = sdk_name(service_id)
        if wanted != name.replace("-", "") and not any(
            other.replace("-", "") == wanted and sdk_name(service_id_of(other) or "") == wanted
            for other in names
        ):
            found.setdefault(wanted, name)
    return dict(sorted(found.items()))


@functools.cache
def service_id_of(boto: str) -> str | None:
    from botocore.exceptions import UnknownServiceError

    try:
        return str(session().get_service_model(boto).service_id)
    except UnknownServiceError:
        return None


@functools.cache
def session() -> Any:
    import botocore.session

    return botocore.session.get_session()


@functools.cache
def _available() -> tuple[str, ...]:
    return tuple(sorted(session().get_available_services()))
