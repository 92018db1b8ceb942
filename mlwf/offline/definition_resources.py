"""The Task resources CreateStateMachine does not recognize, which moto took or refused in its
own words.

AWS checks each Task's service integration when the state machine is created, and refuses
one it cannot call with InvalidDefinition:

    Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The resource provided
    arn:aws:states:::aws-sdk:cloudwatchlogs:CreateLogStream is not recognized. The value is
    not a valid resource ARN, or the resource is not available in this region. at
    /States/SendTaskSuccess/Resource'

(on one line; AWS's answer to a Pascal-case SDK action, quoted in aws/aws-cdk#27635; the same
words for `aws-sdk:codebuild:startBuild.sync` in aws/aws-cdk#19174, and for a service Step
Functions has no SDK integration for in public deploy logs). What it recognizes:
- an AWS SDK task (`aws-sdk:<service>:<action>`): a service of Step Functions' table, under
  the table's name, and one of its actions in camel case, not one the page lists as
  unsupported (mlwf.offline.sdk_services); Request Response or `.waitForTaskToken`, never
  `.sync` ("AWS SDK integrations ... Run a Job (.sync): Not supported",
  https://docs.aws.amazon.com/step-functions/latest/dg/integrate-optimized.html);
- an optimized integration the offline stack runs: its listed actions with the patterns
  that page's table gives it (DynamoDB: Request Response only; Lambda, SNS, SQS,
  EventBridge: and `.waitForTaskToken`; Step Functions: all three, `.sync:2` too);
- the other optimized integrations' names, which the offline stack does not run, are left
  to moto as before.
moto took an unknown SDK action, a Pascal-case one, a botocore-only service name (`logs`)
and every `.sync` or `.waitForTaskToken`, then failed the execution at that state (an
AttributeError, a RuntimeError) or ran it; it refused an optimized action it lacks
(`dynamodb:query`) as "Error=ValueError Args=[...]" and an unknown service as
"RecognitionException". Each is now AWS's refusal above. That an unsupported action of the
page's list, or an unknown pattern, gets these same words is inferred, not recorded.
Optimized actions are matched without regard to case, as moto matches them: whether AWS
takes `dynamodb:PutItem` is not recorded here, and refusing what AWS may run would stop a
user offline.

A Task's `Credentials` without its `RoleArn` (`{}`, a misspelt field) is refused too: "The
field 'RoleArn' is required but was missing at /States/<state>/Credentials", AWS's answer as
LocalStack recorded it (`test_invalid_credentials_field`, as a user-edit walk read it);
moto's parser refused it as an ASLParserException, "mismatched input".
"""

from __future__ import annotations

import re
from typing import Any

from mlwf.offline.definition_fields import state_languages
from mlwf.offline.sdk_services import known_action

_SERVICE_ARN = re.compile(r"^arn:aws[a-z-]*:states:[^:]*:[^:]*:(?P<rest>.*)$")
_PATTERNS = ("waitForTaskToken", "sync", "sync:2")
# Optimized integrations the offline stack runs: botocore's service, each action (lower
# case) with botocore's operation, and the patterns beyond Request Response
_OPTIMIZED: dict[str, tuple[str, dict[str, str], frozenset[str]]] = {
    "lambda": ("lambda", {"invoke": "Invoke"}, frozenset({"waitForTaskToken"})),
    "sns": ("sns", {"publish": "Publish"}, frozenset({"waitForTaskToken"})),
    "sqs": ("sqs", {"sendmessage": "SendMessage"}, frozenset({"waitForTaskToken"})),
    "events": ("events", {"putevents": "PutEvents"}, frozenset({"waitForTaskToken"})),
    "dynamodb": (
        "dynamodb",
        {name.lower(): name for name in ("GetItem", "PutItem", "UpdateItem", "DeleteItem")},
        frozenset(),
    ),
    "states": ("stepfunctions", {"startexecution": "StartExecution"}, frozenset(_PATTERNS)),
}
# The other optimized integrations (the table of integrate-optimized.html): not run offline
_OTHER_OPTIMIZED = frozenset(
    {
        "apigateway",
        "athena",
        "batch",
        "bedrock",
        "codebuild",
        "databrew",
        "ecs",
        "eks",
        "elasticmapreduce",
        "emr-containers",
        "emr-serverless",
        "glue",
        "http",
        "mediaconvert",
        "sagemaker",
    }
)


def resource_diagnostics(document: dict[str, Any]) -> list[str]:
    """SCHEMA_VALIDATION_FAILED for each Task whose service integration AWS does not
    recognize, or whose Credentials lack their RoleArn, in AWS's words."""
    found = []
    for state, at, _ in state_languages(document):
        resource = state.get("Resource") if state.get("Type") == "Task" else None
        if isinstance(resource, str) and not recognized(resource):
            found.append(
                f"SCHEMA_VALIDATION_FAILED: The resource provided {resource} is not "
                "recognized. The value is not a valid resource ARN, or the resource is not "
                f"available in this region. at {at}/Resource"
            )
        credentials = state.get("Credentials") if state.get("Type") == "Task" else None
        if credentials is not None and not (
            isinstance(credentials, dict) and {"RoleArn", "RoleArn.$"} & credentials.keys()
        ):
            found.append(
                "SCHEMA_VALIDATION_FAILED: The field 'RoleArn' is required but was missing "
                f"at {at}/Credentials"
            )
    return found


def recognized(resource: str) -> bool:
    """False for a service integration AWS refuses; True for it and for any other Resource
    (a function's or an activity's ARN: other checks' concern)."""
    match = _SERVICE_ARN.match(resource)
    if match is None or match["rest"].startswith("activity:"):
        return True
    sdk = sdk_call(resource)
    if sdk is not None:
        sdk_service, action, pattern = sdk
        return pattern in ("", "waitForTaskToken") and known_action(sdk_service, action)
    service, _, call = match["rest"].partition(":")
    if service in _OTHER_OPTIMIZED:
        return True
    if service not in _OPTIMIZED:
        return False
    _, actions, patterns = _OPTIMIZED[service]
    action, pattern = _split(call)
    return action.lower() in actions and (pattern == "" or pattern in patterns)


def optimized_operation(resource: str) -> tuple[str, str, str] | None:
    """Botocore's (service, operation) an optimized integration the offline stack runs
    calls, and its pattern ('' for none); None for another Resource or an action it lacks."""
    match = _SERVICE_ARN.match(resource)
    service, _, call = match["rest"].partition(":") if match else ("", "", "")
    if service not in _OPTIMIZED:
        return None
    boto, actions, _ = _OPTIMIZED[service]
    action, pattern = _split(call)
    operation = actions.get(action.lower())
    return (boto, operation, pattern) if operation else None


def sdk_call(resource: str) -> tuple[str, str, str] | None:
    """An AWS SDK task's (service, action, pattern) as written, the pattern '' for none;
    None for another Resource."""
    match = _SERVICE_ARN.match(resource)
    service, _, call = match["rest"].partition(":") if match else ("", "", "")
    if service != "aws-sdk":
        return None
    sdk_service, _, call = call.partition(":")
    return (sdk_service, *_split(call))


def _split(call: str) -> tuple[str, str]:
    """`putItem.waitForTaskToken` -> (`putItem`, `waitForTaskToken`); no pattern: ''."""
    action, _, pattern = call.partition(".")
    return action, pattern
