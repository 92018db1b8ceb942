"""The SAM transform, as CloudFormation runs it for `Transform: AWS::Serverless-2016-10-31`:
aws-sam-translator, with the stack's parameter values and pseudo parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlwf.offline.template_spec import ACCOUNT_ID, PARTITION
from training_job.errors import MlwfError


def translate(
    sam: dict[str, Any], parameters: dict[str, str], region: str, stack_name: str, path: Path
) -> dict[str, Any]:
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    values = {
        **parameters,
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": PARTITION,
        "AWS::StackName": stack_name,
    }
    translator = Translator(None, Parser(), boto_session=boto3.Session(region_name=region))
    try:
        return translator.translate(sam, parameter_values=values, get_managed_policy_map=dict)
    except InvalidDocumentException as exc:
        causes = "; ".join(str(cause) for cause in exc.causes)
        raise MlwfError(f"{path.name}: the SAM transform refuses it: {causes}") from None
    finally:
        # The transform times its event sources into metrics, sent nowhere here (its dummy
        # publisher); unpublished, they printed "There are unpublished metrics..." once
        # the next translation in the process replaced them.
        translator.metrics.publish()
