"""CloudFormation's dynamic references in a template, `{{resolve:ssm:name}}` and the like.

CloudFormation resolves them while it creates the stack, from Parameter Store or Secrets
Manager (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references.html),
and fails the deploy when what one names does not exist: for a parameter, "Parameters:
[ssm:<name>] cannot be found." (a ValidationError, as aws-samples/
data-mesh-datazone-cdk-cloudformation#19 quotes it for CDK's forceDynamicReference, which
writes `{{resolve:ssm:<name>}}`). The offline stack starts in a new, empty account, where
nothing the template's own deploy has not made yet can exist: it refused nothing and passed
the reference's text on as the value (a function's variable held `{{resolve:ssm:...}}`,
found by a user-edit walk). It now fails as the first deploy into a new account would.

Two kinds exist in every account, though, and are refused in words of this module's, as
what offline cannot resolve rather than what AWS would refuse: AWS's public parameters
(`/aws/service/...`, such as the Powertools layer's ARN under
`/aws/service/powertools/python/...`), which the offline stack does not hold, and the
`ssm-secure` and Secrets Manager references, whose wording AWS's was not found for.
"""

from __future__ import annotations

import re
from typing import Any

REFERENCE = re.compile(r"\{\{resolve:([a-z-]+):(.*?)\}\}")
PUBLIC_PREFIX = "/aws/service/"  # AWS's public parameters, in every account


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
    name = body.rsplit(":", 1)[0] if re.search(r":\d+$", body) else body
    reference = f"{{{{resolve:{service}:{body}}}}}"
    if service == "ssm" and name.startswith(PUBLIC_PREFIX):
        return (
            f"{reference} names one of AWS's public parameters, which exist in every "
            "account but not in the offline stack's: it cannot resolve it (docs/offline.md, "
            "What it does not model)"
        )
    if service == "ssm":
        return (
            f"CloudFormation would fail the deploy into a new account: Parameters: "
            f"[ssm:{name}] cannot be found. A dynamic reference is resolved when the stack "
            "is created, and the offline stack starts in a new, empty account"
        )
    return (
        f"{reference} cannot be resolved: the offline stack starts in a new, empty account, "
        "where what it names does not exist yet"
    )
