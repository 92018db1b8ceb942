"""A `lambda:invoke` task's parameters checked as Step Functions checks them: a field the
Lambda Invoke API does not have fails the state.

"The field Filter is not supported by Step Functions" is Step Functions' error for a
parameter the service API does not take
(https://docs.aws.amazon.com/step-functions/latest/dg/connect-parameters.html). It comes at
run time, when the state runs, not at CreateStateMachine: a public project's regression
test records a `TaskToken` beside `Payload` that passed `validate-state-machine-definition`
and failed its scheduled run "11 seconds in" with
`The field "TaskToken" is not supported by Step Functions`. The error name is not recorded; it is
States.Runtime here, AWS's error for a definition's mistake met at run time, which no Retry
or Catch sees. moto dropped such a field and ran on: a misspelt `"payload.$"` invoked the
function with an empty event, and `"Foo": 1` passed silently.

The fields the Invoke API has are botocore's model of it (FunctionName, Payload,
InvocationType, LogType, ClientContext, Qualifier, ...), as the SDK a deployed workflow's
Step Functions calls, and each is passed on: moto passed on only those its list knows,
which lacks InvocationType, so an `Event` invocation ran the function and waited for it
where Invoke answers 202 at once, and a `DryRun` ran it where Invoke runs nothing (204).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any
from unittest.mock import patch

from mlwf.offline.state_errors import state_failure

UNSUPPORTED = 'The field "{field}" is not supported by Step Functions'


@cache
def invoke_fields() -> frozenset[str]:
    """The members of the Lambda Invoke API's input, as botocore models it."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("lambda")
    shape = model.operation_model("Invoke").input_shape
    assert shape is not None  # Invoke takes input: FunctionName at least
    return frozenset(shape.members)


@contextmanager
def lambda_fields_checked() -> Iterator[None]:
    """moto's StateTask._eval_parameters for the lambda:invoke integration, with the check
    between its two steps (the parameters evaluated, then the fields moto does not pass on
    dropped); that moto's method is still those two steps is pinned by
    tests/unit/test_integration_fields.py."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda import (  # noqa: E501
        StateTaskServiceLambda,
    )

    def eval_parameters(self: Any, env: Any) -> dict[str, Any]:
        parameters: dict[str, Any] = {}
        if self.parargs is not None:
            self.parargs.eval(env=env)
            parameters = env.stack.pop()
        unknown = [field for field in parameters if field not in invoke_fields()]
        if unknown:
            cause = UNSUPPORTED.format(field=unknown[0])
            raise state_failure(env, "States.Runtime", cause, "TaskFailed")
        # Every Invoke field is passed on: moto's list (LocalStack's) left out InvocationType,
        # so an `Event` or `DryRun` invocation ran the function and waited for it
        return parameters

    with patch.object(StateTaskServiceLambda, "_eval_parameters", eval_parameters):
        yield
