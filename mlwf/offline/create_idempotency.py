"""CreateStateMachine's idempotency as AWS's: the same name with another definition is
refused, not answered with the machine that has it.

"CreateStateMachine is an idempotent API. Subsequent requests won't create a duplicate
resource if it was already created. CreateStateMachine's idempotency check is based on the
state machine name, definition, type, LoggingConfiguration, and TracingConfiguration"
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html);
a request that differs is refused with StateMachineAlreadyExists, "A state machine with the
same name but a different definition or role ARN already exists". moto answered any request
for a name it had with the machine it had, and kept its old definition: a script that
re-created a machine after editing its definition ran the old one. The message is
LocalStack's, "State Machine Already Exists: '<arn>'" (its provider, which moto's
interpreter copies). Here the name, the definition and the type are compared; a request
that differs only in its logging or tracing configuration is still taken as the first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was


@contextmanager
def creates_idempotent_as_aws() -> Iterator[None]:
    """moto's CreateStateMachine refusing a known name with another definition or type."""
    from moto.core.exceptions import AWSError
    from moto.stepfunctions.exceptions import StateMachineDoesNotExist
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend
    from moto.utilities.utils import get_partition

    create = StepFunctionsParserBackend.__dict__["create_state_machine"]  # KeyError: moto changed

    def create_state_machine(self: Any, name: str, definition: str, *args: Any, **kw: Any) -> Any:
        region, account = self.region_name, self.account_id
        arn = f"arn:{get_partition(region)}:states:{region}:{account}:stateMachine:{name}"
        try:
            existing = self.describe_state_machine(arn)
        except StateMachineDoesNotExist:
            existing = None
        given_type = kw.get("sm_type") or "STANDARD"
        if existing is not None and (existing.definition, existing.type) != (
            definition,
            given_type,
        ):
            raise AWSError(f"State Machine Already Exists: '{arn}'", "StateMachineAlreadyExists")
        return create(self, name, definition, *args, **kw)

    with patch.object(StepFunctionsParserBackend, "create_state_machine", create_state_machine):
        yield
