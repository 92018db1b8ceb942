"""CloudFormation's dynamic references in a template, `{{resolve:ssm:name}}` and the like.

CloudFormation resolves them while it creates the stack, from Parameter Store or Secrets
Manager (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references.html),
and fails the deploy when what one names does not exist: for a parameter, "Parameters:
[ssm:<name>] cannot be found." (a ValidationError, as aws-samples/
data-mesh-datazone-cdk-cloudformation#19 quotes it for CDK's forceDynamicReference, which
writes `{{resolve:ssm:<name>}}`). The offline stack starts in an empty account, where
nothing a reference names can exist yet: it refused nothing and passed the reference's
text on as the value (a function's variable held `{{resolve:ssm:...}}`, found by a
user-edit walk). It now fails as that first deploy would. The Secrets Manager wording is
this module's; AWS's was not found.
"""

from __future__ import annotations

import re
from typing import Any

REFERENCE = re.compile(r"\{\{resolve:([a-z-]+):(.*?)\}\}")


def references(value: Any) -> list[tuple[str, str]]:
    """Each dynamic reference in a template value, however nested: (service, its body)."""
    if isinstance(value, str):
        return REFERENCE.findall(value)
    if isinstance(value, dict):
        return [found for item in value.values() for found in references(item)]
    if isinstance(value, list):
        return [found for item in value for found in references(item)]
    return []


def refusal(value: Any) -> str | None:
    """Why creating a resource with these properties fails in an empty account; None when
    they hold no dynamic reference."""
    found = references(value)
    if not found:
        return None
    service, body = found[0]
    if service in ("ssm", "ssm-secure"):
        name = body.rsplit(":", 1)[0] if re.search(r":\d+$", body) else body
        reason = f"Parameters: [ssm:{name}] cannot be found."
    else:
        reason = f"{{{{resolve:{service}:{body}}}}} names nothing that exists."
    return (
        f"CloudFormation would fail the deploy: {reason} A dynamic reference is resolved "
        "when the stack is created, and the offline stack starts in an empty account"
    )
