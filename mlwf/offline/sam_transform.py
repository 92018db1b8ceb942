"""The SAM transform, as CloudFormation runs it for `Transform: AWS::Serverless-2016-10-31`:
aws-sam-translator, with the stack's parameter values and pseudo parameters.

A transform is a pure function of the template, the values, the translator's release and
this module, so what it gave is kept in `$MLWF_CACHE_DIR/sam-transform/` (default
~/.cache/mlwf), under a digest of all of these. Reading a template took 0.71-0.85 s with
the transform (0.5-0.6 s of it importing the translator), 0.27-0.34 s with it kept, at
every offline stack's start; and the same template is translated again and again. Only
what it accepts is kept: a refusal always comes from the translator. The newest KEPT
transforms stay; deleting the folder is always safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from importlib import metadata
from pathlib import Path
from typing import Any

from mlwf.offline.template_spec import ACCOUNT_ID, PARTITION
from training_job.cache_files import write_whole
from training_job.cifar import default_cache_dir
from training_job.errors import MlwfError

KEPT = 32  # transforms kept, newest first: a template being edited makes one per edit
TRANSLATOR = "aws-sam-translator"
_SUFFIX = ".json"
_OURS = re.compile(r"[0-9a-f]{32}\.json")


def translate(
    sam: dict[str, Any], parameters: dict[str, str], region: str, stack_name: str, path: Path
) -> dict[str, Any]:
    values = {
        **parameters,
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": PARTITION,
        "AWS::StackName": stack_name,
    }
    key = _key(sam, values)
    if key is not None and (kept := _read(key)) is not None:
        return kept
    translated = _translate(sam, values, region, path)
    # Through JSON either way, so that a transform read from the cache is the same value
    # as one just made (lists, not tuples).
    text = json.dumps(translated)
    if key is not None:
        _write(key, text)
    result: dict[str, Any] = json.loads(text)
    return result


def _translate(
    sam: dict[str, Any], values: dict[str, str], region: str, path: Path
) -> dict[str, Any]:
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

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


def cache_dir() -> Path:
    return default_cache_dir() / "sam-transform"


def _key(sam: dict[str, Any], values: dict[str, str]) -> str | None:
    """The digest of everything the transform depends on; None for a template JSON cannot
    hold (a YAML date, say), which is then translated every time."""
    try:
        given = json.dumps([sam, values], sort_keys=True)
    except (TypeError, ValueError):
        return None
    digest = hashlib.sha256(given.encode())
    for name in (TRANSLATOR, "botocore"):  # botocore: the partition of each region
        digest.update(f"\0{name}=={metadata.version(name)}".encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:32]


def _read(key: str) -> dict[str, Any] | None:
    path = cache_dir() / f"{key}{_SUFFIX}"
    try:
        kept = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    with contextlib.suppress(OSError):  # a cache it may read but not write: still used
        os.utime(path)  # used: the newest again, for _prune
    return kept if isinstance(kept, dict) else None


def _write(key: str, text: str) -> None:
    """Written whole (a concurrent reader never sees half a file); then only the newest KEPT
    stay. A cache that cannot be written only costs the time."""
    folder = cache_dir()
    if write_whole(folder / f"{key}{_SUFFIX}", text.encode()):
        with contextlib.suppress(OSError):  # another process pruning the same files
            _prune(folder)


def _prune(folder: Path) -> None:
    """The oldest of this cache's own files (a 32-digit hex name) beyond KEPT; nothing else."""
    ours = [p for p in folder.glob(f"*{_SUFFIX}") if _OURS.fullmatch(p.name)]
    ours.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in ours[KEPT:]:
        old.unlink(missing_ok=True)
