"""The packages a function can import in Lambda, so that its environment here offers no more.

In Lambda, a Python function imports the standard library, the AWS SDK its runtime includes
("an environment that includes the SDK for Python", boto3 and what it requires,
https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html), its own package (its code
folder, with what `sam build` installs there from its requirements.txt) and its layers'
packages. Anything else fails its init with Runtime.ImportModuleError, "Unable to import
module 'app': No module named 'numpy'". Here every environment runs in the project's
virtual environment, where far more is installed: without a boundary, a handler importing
numpy (the likeliest edit in an ML project) worked offline and failed every invocation on AWS.

The names offered are the top-level modules of those distributions, with everything they
require, as installed here:
- the runtime's: boto3;
- AWS's Powertools layer (an ARN naming AWSLambdaPowertoolsPython): aws-lambda-powertools
  with its "all" extras (the X-Ray SDK, pydantic, ...), which the layer is built from
  (layer_v3/ in github.com/aws-powertools/powertools-lambda-python, as pyproject.toml
  notes beside the pin);
- the requirements.txt in the code folder, each with what it requires, when installed here
  (`sam build` installs it in the package; offline, install it in the project's .venv).
A layer of any other ARN has contents nobody here can know: its function's imports are not
bounded (None). The code folder's own modules and the standard library are always offered
(mlwf.offline.lambda_runtime enforces the boundary in the environment's process).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from functools import cache
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

RUNTIME = ("boto3",)
POWERTOOLS_LAYER = "AWSLambdaPowertoolsPython"
POWERTOOLS = "aws-lambda-powertools[all]"


def importable(code_uri: Path, layers: Iterable[str]) -> list[str] | None:
    """The top-level names a function with this code and these layers can import beyond
    the standard library and its own folder, sorted; None when a layer is unknown."""
    wanted = list(RUNTIME)
    for layer in layers:
        if POWERTOOLS_LAYER not in layer:
            return None
        wanted.append(POWERTOOLS)
    wanted += _requirements(code_uri / "requirements.txt")
    names: set[str] = set()
    for distribution in _closure(tuple(wanted)):
        names |= _top_level(distribution)
    return sorted(names)


def _requirements(path: Path) -> list[str]:
    if not path.is_file():
        return []
    lines = (re.split(r"\s+#", line)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith(("#", "-"))]


@cache
def _closure(requirements: tuple[str, ...]) -> frozenset[str]:
    """The installed distributions these requirements name, and all they require."""
    found: set[str] = set()
    pending = [_parse(text) for text in requirements]
    while pending:
        requirement = pending.pop()
        if requirement is None:
            continue
        name = _normalized(requirement.name)
        if name in found:
            continue
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue  # not installed here: its import fails as any missing module's
        found.add(name)
        for text in requires:
            inner = _parse(text)
            if inner is None:
                continue
            extras = [""] + sorted(requirement.extras)
            if inner.marker is None or any(inner.marker.evaluate({"extra": e}) for e in extras):
                pending.append(inner)
    return frozenset(found)


def _parse(text: str) -> Requirement | None:
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def _top_level(distribution: str) -> frozenset[str]:
    """The top-level modules an installed distribution provides: its top_level.txt, else
    the first part of each file it installed (as importlib.metadata's packages_distributions
    reads them, for this one distribution rather than every installed one: ~0.4 s)."""
    found = metadata.distribution(distribution)
    listed = found.read_text("top_level.txt")
    if listed:
        names = {line.strip() for line in listed.splitlines()}
    else:
        names = {
            file.parts[0] if len(file.parts) > 1 else inspect.getmodulename(str(file)) or ""
            for file in found.files or []
        }
    return frozenset(n for n in names if n.isidentifier() and not n.startswith("__"))
