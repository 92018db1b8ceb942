"""The stack's functions recorded in moto's Lambda, so that Lambda's read calls answer.

The offline stack runs its functions itself (mlwf.offline.functions), and Invoke reaches
them through the bridge, never moto's Lambda (which would need Docker). moto's Lambda held no
record of them, so `aws lambda list-functions` answered [] and `get-function-configuration`
ResourceNotFoundException for functions that invoke answered. Each is now created there as
CloudFormation creates it: its code folder zipped as its package, its handler, runtime,
role, timeout, memory, /tmp size, variables, architectures, description, tracing mode and
reserved concurrency.

Its layers are written on moto's record directly: moto's CreateFunction refuses a layer
version it does not hold, and AWS publishes the Powertools layer from its own account
(017000801446), which moto has no record of. Their CodeSize is unknown here: 0.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mlwf.offline.function_limits import OFFLINE_RUNTIME
from mlwf.offline.template_spec import ACCOUNT_ID, FunctionSpec


def record_functions(client: Any, functions: Iterable[FunctionSpec], region: str) -> None:
    from moto.awslambda.models import lambda_backends

    backend = lambda_backends[ACCOUNT_ID][region]
    for spec in functions:
        client.create_function(
            FunctionName=spec.name,
            Runtime=OFFLINE_RUNTIME,  # the only one the stack runs (function_limits)
            Role=spec.role_arn,
            Handler=spec.handler,
            Code={"ZipFile": package(spec.code_uri)},
            Timeout=spec.timeout,
            MemorySize=spec.memory_size,
            Environment={"Variables": spec.environment},
            Architectures=list(spec.architectures),
            Description=spec.description,
            TracingConfig={"Mode": spec.tracing},
            EphemeralStorage={"Size": spec.ephemeral_storage},
        )
        if spec.reserved_concurrency is not None:
            client.put_function_concurrency(
                FunctionName=spec.name, ReservedConcurrentExecutions=spec.reserved_concurrency
            )
        record = backend.get_function(spec.name)
        record.layers = [{"Arn": arn, "CodeSize": 0} for arn in spec.layers]


def package(code: Path) -> bytes:
    """The code folder as a zip, as `sam build` packages it (without what it installs
    from a requirements.txt); bytecode caches left out."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(code.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(code).as_posix())
    return buffer.getvalue()
