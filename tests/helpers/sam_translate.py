"""template.yaml as CloudFormation receives it after `sam deploy`: packaged, then transformed.

`sam deploy` uploads each CodeUri and DefinitionUri to S3 and rewrites them as S3
locations; CloudFormation then runs the `AWS::Serverless-2016-10-31` transform, which is
the aws-sam-translator package. This module does both, offline, so that the preflight and
checkov look at the resources AWS really creates (the roles SAM generates, the rule and
its target), not at the SAM shorthand.

    python -m tests.helpers.sam_translate OUT.json [KEY=VALUE ...]

writes the translated template (parameter overrides as `sam deploy` takes them).
"""

from __future__ import annotations

import copy
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = PROJECT_ROOT / "template.yaml"
# Where `sam deploy --resolve-s3` would put the artefacts; only the shape matters here.
PACKAGE_BUCKET = "aws-sam-cli-managed-default-samclisourcebucket-preflight"
PSEUDO_PARAMETERS = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "image-classification-workflow",
}


class _NoManagedPolicies:
    """The translator asks IAM for managed policy ARNs only when a policy is named by a bare
    name; this template names none (SAM's own additions are full ARNs)."""

    def load(self) -> dict[str, str]:
        return {}


@cache
def sam_template() -> dict[str, Any]:
    """template.yaml as parsed by the translator's own YAML loader (tags as intrinsics)."""
    from samtranslator.yaml_helper import yaml_parse

    return yaml_parse(TEMPLATE.read_text())


def packaged(template: dict[str, Any]) -> dict[str, Any]:
    """The template as `sam package` leaves it: local paths replaced by S3 locations."""
    result = copy.deepcopy(template)
    for logical_id, resource in result.get("Resources", {}).items():
        props = resource.get("Properties", {})
        if isinstance(props.get("CodeUri"), str) and not props["CodeUri"].startswith("s3://"):
            props["CodeUri"] = f"s3://{PACKAGE_BUCKET}/{logical_id}.zip"
        if isinstance(props.get("DefinitionUri"), str):
            props["DefinitionUri"] = {"Bucket": PACKAGE_BUCKET, "Key": f"{logical_id}.json"}
    return result


def translate(
    template: dict[str, Any] | None = None, parameters: dict[str, str] | None = None
) -> dict[str, Any]:
    """The CloudFormation template the SAM transform produces from `template` (default:
    template.yaml), with the given parameter values (the rest take their defaults)."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import (
        to_py27_compatible_template,
        undo_mark_unicode_str_in_template,
    )

    # What samtranslator.translator.transform.transform does, with the region given
    # rather than read from the environment's AWS configuration.
    source = packaged(template if template is not None else sam_template())
    values = {**PSEUDO_PARAMETERS, **(parameters or {})}
    to_py27_compatible_template(source, values)
    session = boto3.Session(region_name=values["AWS::Region"])
    translator = Translator(None, Parser(), boto_session=session)
    try:
        translated = translator.translate(
            source, parameter_values=values, get_managed_policy_map=_NoManagedPolicies().load
        )
    finally:
        translator.metrics.publish()  # to its dummy publisher (see mlwf/offline/template.py)
    return undo_mark_unicode_str_in_template(translated)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    out, overrides = Path(argv[0]), dict(item.split("=", 1) for item in argv[1:])
    out.write_text(json.dumps(translate(parameters=overrides), indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
