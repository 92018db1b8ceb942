"""A template's state machine as the offline stack creates it: its definition, local or in
the template, with CloudFormation's DefinitionSubstitutions applied, and its settings in the
shape CreateStateMachine takes them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from mlwf.offline.intrinsics import as_property_string
from mlwf.offline.template_spec import StateMachineSpec
from training_job.errors import MlwfError


def state_machine_spec(
    logical_id: str,
    name: str,
    arn: str,
    props: dict[str, Any],
    definition_path: Path | None,
    template_path: Path,
) -> StateMachineSpec:
    """The machine of translated properties `props`; `definition_path` is its local
    DefinitionUri's file, if it has one."""
    if definition_path is not None:
        text = definition_path.read_text()
    elif "Definition" in props:
        text, definition_path = json.dumps(props["Definition"]), template_path
    elif "DefinitionString" in props:
        text, definition_path = str(props["DefinitionString"]), template_path
    else:
        raise MlwfError(f"{logical_id}: the offline mode needs its definition locally")
    substitutions = {
        k: as_property_string(v) for k, v in props.get("DefinitionSubstitutions", {}).items()
    }
    # The same ${Name} substitution CloudFormation applies to the definition.
    definition = re.sub(
        r"\$\{([A-Za-z0-9_]+)\}",
        lambda m: substitutions.get(m.group(1), m.group(0)),
        text,
    )
    return StateMachineSpec(
        logical_id=logical_id,
        name=name,
        arn=arn,
        definition_path=definition_path,
        definition=definition,
        substitutions=substitutions,
        workflow_type=str(props.get("StateMachineType", "STANDARD")),
        role_arn=str(props.get("RoleArn", "")),
        logging=_api_shaped(props.get("LoggingConfiguration")),
        tracing=_api_shaped(props.get("TracingConfiguration")),
    )


def _api_shaped(value: Any) -> Any:
    """A CloudFormation property as the API takes it: the same structure, each key in
    camelCase (`LogGroupArn` -> `logGroupArn`)."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _api_shaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_api_shaped(v) for v in value]
    return value
