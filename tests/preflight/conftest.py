"""The translated template, as CloudFormation receives it, for each deploy context checked."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.intrinsics import DeployContext
from tests.helpers.sam_translate import translate

# Both values of WorkflowType, and a reservation on the classify function: the parameter
# sets a deploy can choose from docs/deploy.md.
PARAMETER_SETS = {
    "defaults": {},
    "express": {"WorkflowType": "EXPRESS"},
    "reserved": {"ClassifyReservedConcurrency": "10"},
}


@pytest.fixture(scope="session", params=sorted(PARAMETER_SETS))
def deploy(request: pytest.FixtureRequest) -> DeployContext:
    parameters = PARAMETER_SETS[request.param]
    return DeployContext(translate(parameters=parameters), parameters=parameters)


@pytest.fixture(scope="session")
def translated() -> dict[str, Any]:
    return translate()
