"""What CreateStateMachine refuses in an EXPRESS state machine's definition, which moto takes.

"Express Workflows only support Request Response integrations"
(https://docs.aws.amazon.com/step-functions/latest/dg/integrate-optimized.html): no job
runs (.sync), no callbacks (.waitForTaskToken), and no activities. moto
created such a machine and ran it; its copy of LocalStack's ExpressStaticAnalyser, which
refuses these, is not called by its backend. AWS refuses each Task state's Resource with
SCHEMA_VALIDATION_FAILED, in these words (AWS's answers recorded in LocalStack's
tests/aws/services/stepfunctions/v2/test_sfn_api_express.snapshot.json, 2024-07-03, and for
ValidateStateMachineDefinition in test_sfn_api_validation.snapshot.json, 2025-10-19):

    Express state machine does not support '.waitForTaskToken' service integration  at
        /States/Publish/Resource
    Express state machine does not support '.sync' service integration at
        /States/StartExecution/Resource
    Express state machine does not support Activity ARN at /States/ActivityTask/Resource

(each on one line; the callback's has a space before " at", as recorded). States in
Parallel branches and Map item processors are checked too, as the same machine runs them;
`.sync:2` is a job run. What AWS says of these patterns inside a STANDARD machine's
Distributed Map whose children run as EXPRESS was not found, and is not checked.
"""

from __future__ import annotations

import re
from typing import Any

from mlwf.offline.definition_fields import state_languages

_ACTIVITY = re.compile(r"^arn:aws[a-z-]*:states:[^:]*:[^:]*:activity:")
_SCHEMA = "SCHEMA_VALIDATION_FAILED: Express state machine does not support"


def express_diagnostics(document: dict[str, Any]) -> list[str]:
    """SCHEMA_VALIDATION_FAILED for each Task whose Resource an EXPRESS machine cannot run."""
    found = []
    for state, at, _ in state_languages(document):
        resource = state.get("Resource") if state.get("Type") == "Task" else None
        if not isinstance(resource, str):
            continue
        where = f"{at}/Resource"
        if _ACTIVITY.match(resource):
            found.append(f"{_SCHEMA} Activity ARN at {where}")
        elif resource.endswith(".waitForTaskToken"):
            found.append(f"{_SCHEMA} '.waitForTaskToken' service integration  at {where}")
        elif re.search(r"\.sync(:\d+)?$", resource):
            found.append(f"{_SCHEMA} '.sync' service integration at {where}")
    return found
