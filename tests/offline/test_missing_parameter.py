"""A stack with no endpoint deployed: the classify function names what is missing.

Its own module, so its offline stack never nests inside another (moto's state is global).
"""

from __future__ import annotations

import pytest

from mlwf.executions import ExecutionInput
from mlwf.offline.runtime import OfflineStack

pytestmark = pytest.mark.offline


def test_missing_parameter_fails_with_its_name():
    # A fresh stack: no model deployed, so the parameter does not exist
    with OfflineStack.start(say=lambda _: None) as stack:
        bucket = stack.bucket_name()
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
        stack.s3.put_object(Bucket=bucket, Key="incoming/x.png", Body=png)
        (result,) = stack.run_executions([ExecutionInput(bucket, "incoming/x.png")])
    assert (result.status, result.error) == ("FAILED", "EndpointParameterNotFound")
