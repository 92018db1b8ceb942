"""A ResultPath that cannot be applied to the state's input fails as Step Functions fails it.

ResultPath writes a state's result into its input (a field `$.r` added to an object,
created where missing). When the input is not an object where the path needs one (a
string, a number, an array), the result has nowhere to go: the state fails with
States.ResultPathMatchFailure, "A state's 'ResultPath' field cannot be applied to the
input the state received" (the Amazon States Language's error names,
https://states-language.net/spec.html#appendix-a; a workflow on AWS recorded it for
`"ResultPath": "$.error"` on a scalar Map item). Its cause is AWS's words, the input as
JSON: `Unable to apply ReferencePath $.partitioned to input "{\"min_size\":10000,...}"`
(an execution on AWS, quoted in aws/aws-cdk#29473). Like any error but States.Runtime,
a Retry or Catch sees it (concepts-error-handling.html).

moto's interpreter failed the execution with States.Runtime and a Python TypeError as
the cause ("'str' object does not support item assignment"), out of jsonpath-ng.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

from mlwf.offline.state_errors import state_failure

ERROR = "States.ResultPathMatchFailure"
CAUSE = "Unable to apply ReferencePath {path} to input {input}"


@contextmanager
def result_paths_as_aws() -> Iterator[None]:
    """While the block runs, a ResultPath that cannot be applied fails the state with
    States.ResultPathMatchFailure."""
    from moto.stepfunctions.parser.asl.component.common.path.result_path import ResultPath

    original = ResultPath.__dict__["_eval_body"]  # KeyError: moto changed; see the test
    with patch.object(ResultPath, "_eval_body", _failing_as_aws(original)):
        yield


def _failing_as_aws(original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def eval_body(self: Any, env: Any) -> None:
        given = env.states.get_input()
        try:
            original(self, env)
        except TypeError:  # jsonpath-ng's, writing a field into a value that is not an object
            text = json.dumps(given, separators=(",", ":"))
            cause = CAUSE.format(path=self.result_path_src, input=text)
            raise state_failure(env, ERROR, cause, "TaskFailed") from None

    return eval_body
